"""Reading one scanned page of an answer sheet: markers → page geometry → QR → bubbles, ID grid and answer boxes.

The four ArUco markers (DICT_4X4_50, ids 0..3 at tl, tr, br, bl) give a homography from the page's millimetres
to the image's pixels; their ids, not their places in the image, say which corner is which, so rotated,
upside-down and skewed scans need no special case. Bubbles are never searched for: their interiors are sampled
through the homography (one `cv2.remap` for the whole page) and compared with the paper around them and with the
printed black of the markers, then with the page's empty bubbles, so light, dark and unevenly lit scans read alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from .layout import Bubble, Layout, PageSpec, QrInfo, parse_qr

# Fill levels: 0 = like an empty bubble, 1 = like printed black. Tuned on synth.py's scans (bench/omr).
# A bubble at FILL_MID or above is read as marked; between FILL_EMPTY and FILL_MARK it also goes to review.
FILL_EMPTY = 0.21
FILL_MID = 0.28
FILL_MARK = 0.35
ERASURE_RATIO = 0.5  # beside a firm mark of the same question, a light fill under this share of it is an erasure
ID_MARGIN = 0.2  # an ID digit must stand this far above every other digit of its column
CROP_DPI = 150
WORK_PX_PER_MM = 6.0  # images finer than MAX_WORK_PX_PER_MM are reduced to this before anything else
MAX_WORK_PX_PER_MM = 9.0
DETECT_PX_PER_MM = 3.0
QR_PX_PER_MM = 8.0

ImageU8 = NDArray[np.uint8]

REVIEW_MESSAGES = {
    "no_markers": "找不到页面四角的定位标记（至少需要三个），无法定位",
    "blank_page": "空白页",
    "no_qr": "无法识别二维码，无法确认考试、科目和页码",
    "wrong_exam": "不是本场考试、本科目的答题卡",
    "id_unreadable": "考号无法识别",
    "id_mismatch": "填涂的考号与预印二维码中的考号不一致",
    "multiple_marks": "只能选一项的题（单选、判断）涂了多个选项",
    "ambiguous": "填涂不清（颜色介于涂与未涂之间）",
    "marker_estimated": "有一个定位标记缺损，已由其余三个推算位置",
}


@dataclass(frozen=True)
class Review:
    """Something a person must look at; `code` is for machines, `message` for people."""

    code: str
    message: str
    question: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.question is not None:
            out["question"] = self.question
        return out


def review(code: str, detail: str = "", question: int | None = None) -> Review:
    base = REVIEW_MESSAGES.get(code, code)
    return Review(code, f"{base}：{detail}" if detail else base, question)


@dataclass
class PageResult:
    file: str
    index: int  # page index within the file, from 0
    page: int | None = None  # the sheet's page number, from 1
    exam_code: str | None = None
    subject_code: str | None = None
    student_id: str | None = None
    id_read: str = ""  # the ID grid as read, '?' for an unreadable digit, '' when the page has no grid
    qr_student_id: str | None = None
    answers: dict[int, str] = field(default_factory=dict)
    confidence: dict[int, float] = field(default_factory=dict)
    fills: dict[int, list[float]] = field(default_factory=dict)
    review: list[Review] = field(default_factory=list)
    crops: dict[int, ImageU8] = field(default_factory=dict)
    page_image: ImageU8 | None = field(default=None, repr=False)  # for review (SheetReader.read's review_dpi)
    rotation: int | None = None  # degrees the scan is turned clockwise (0, 90, 180, 270)
    markers_found: int = 0
    error: str | None = None  # a file we could not read at all (batch.py)

    @property
    def needs_review(self) -> bool:
        return bool(self.review) or self.error is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "index": self.index,
            "page": self.page,
            "exam_code": self.exam_code,
            "subject_code": self.subject_code,
            "student_id": self.student_id,
            "id_read": self.id_read,
            "qr_student_id": self.qr_student_id,
            "answers": {str(k): v for k, v in self.answers.items()},
            "confidence": {str(k): round(v, 3) for k, v in self.confidence.items()},
            "fills": {str(k): [round(x, 3) for x in v] for k, v in self.fills.items()},
            "review": [r.to_json() for r in self.review],
            "rotation": self.rotation,
            "markers_found": self.markers_found,
            "error": self.error,
        }


@dataclass
class _PagePlan:
    """Per sheet page, everything that does not depend on the scan: sample points in millimetres."""

    spec: PageSpec
    option_bubbles: list[Bubble]
    id_bubbles: list[Bubble]
    interior: NDArray[np.float64]  # (n_bubbles, k, 2) points inside each bubble (option bubbles, then ID bubbles)
    centres: NDArray[np.float64]  # (n_bubbles, 2)
    outline: NDArray[np.float64]  # (m, 2) points on the printed outlines and box edges, to tell pages apart
    question_slices: dict[int, tuple[list[int], list[str]]]  # question → bubble rows, option letters
    id_rows: NDArray[np.int64]  # (digits, 10) bubble rows of the ID grid, or empty


def _interior_pattern() -> NDArray[np.float64]:
    u, v = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 7))
    keep = u**2 + v**2 <= 1.0
    return np.stack([u[keep], v[keep]], axis=1)


_PATTERN = _interior_pattern()
_INNER = 0.36  # interior samples reach this share of the bubble's width/height from its centre


def _marker_corners_mm(x: float, y: float, size: float) -> NDArray[np.float64]:
    h = size / 2
    return np.array([[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h]], dtype=np.float64)


def _marker_border_mm(x: float, y: float, size: float) -> NDArray[np.float64]:
    """Points on the marker's black border (the outer sixth of a 4×4 ArUco marker's side)."""
    r = size / 2 - size / 12
    t = np.linspace(-r, r, 7)
    pts = [np.stack([t, np.full_like(t, s)], 1) for s in (-r, r)] + [
        np.stack([np.full_like(t, s), t], 1) for s in (-r, r)
    ]
    return np.concatenate(pts) + np.array([x, y])


def _apply(h: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    flat = pts.reshape(-1, 2)
    p = flat @ h[:, :2].T + h[:, 2]
    out = p[:, :2] / p[:, 2:3]
    return out.reshape(pts.shape)


def _sample(img: ImageU8, pts: NDArray[np.float64]) -> NDArray[np.float32]:
    """Bilinear samples of `img` at pixel points of shape (..., 2); the result has shape `pts.shape[:-1]`."""
    shape = pts.shape[:-1]
    grid = pts.reshape(-1, 1, 2) if len(shape) == 1 else pts.reshape(shape[0], -1, 2)
    mx = np.ascontiguousarray(grid[..., 0], dtype=np.float32)
    my = np.ascontiguousarray(grid[..., 1], dtype=np.float32)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32).reshape(shape)


class SheetReader:
    """Reads scans of one sheet layout; build it once per batch (and once per worker process)."""

    def __init__(self, layout: Layout, *, crop_dpi: int = CROP_DPI):
        self.layout = layout
        self.crop_dpi = crop_dpi
        self.plans = {spec.page: self._plan(spec) for spec in layout.pages}
        self.aruco_quick, self.aruco = self._aruco(True), self._aruco(False)
        self.qr = cv2.QRCodeDetector()

    @staticmethod
    def _aruco(quick: bool) -> Any:
        """`quick`: two thresholding passes and no small candidates, for the ~3 px/mm copy of a scan whose
        markers are a fair part of the page; otherwise OpenCV's thorough defaults (phone photos, odd sizes)."""
        p = cv2.aruco.DetectorParameters()
        p.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        if quick:
            p.adaptiveThreshWinSizeMin, p.adaptiveThreshWinSizeMax, p.adaptiveThreshWinSizeStep = 7, 21, 14
            p.minMarkerPerimeterRate, p.maxMarkerPerimeterRate = 0.06, 0.5
        return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), p)

    def _plan(self, spec: PageSpec) -> _PagePlan:
        bubbles = self.layout.bubbles_on(spec.page)
        options = [b for b in bubbles if b.kind == "option"]
        ids = sorted((b for b in bubbles if b.kind == "id"), key=lambda b: (b.position, b.digit))
        ordered = options + ids
        centres = np.array([[b.x, b.y] for b in ordered], dtype=np.float64).reshape(-1, 2)
        radii = np.array([[b.w * _INNER, b.h * _INNER] for b in ordered], dtype=np.float64).reshape(-1, 2)
        interior = centres[:, None, :] + _PATTERN[None, :, :] * radii[:, None, :]
        ring = []
        angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        for b in ordered:
            ring.append(np.stack([b.x + b.w / 2 * np.cos(angles), b.y + b.h / 2 * np.sin(angles)], 1))
        for box in self.layout.boxes_on(spec.page):
            t = np.linspace(0, 1, 40)
            ring.append(np.stack([box.x + t * box.w, np.full_like(t, box.y)], 1))
            ring.append(np.stack([box.x + t * box.w, np.full_like(t, box.y + box.h)], 1))
        outline = np.concatenate(ring) if ring else np.zeros((0, 2))
        slices: dict[int, tuple[list[int], list[str]]] = {}
        for q in self.layout.questions:
            rows = [i for i, b in enumerate(options) if b.question == q.no]
            if rows:
                rows.sort(key=lambda i: q.options.index(options[i].option))
                slices[q.no] = (rows, [options[i].option for i in rows])
        id_rows = np.zeros((0, 10), dtype=np.int64)
        if ids:
            id_rows = np.arange(len(options), len(ordered), dtype=np.int64).reshape(self.layout.id_digits, 10)
        return _PagePlan(spec, options, ids, interior, centres, outline, slices, id_rows)

    # -- geometry ---------------------------------------------------------------------------------------

    def _work_image(self, gray: ImageU8) -> ImageU8:
        px_per_mm = max(gray.shape) / max(self.layout.page_size_mm)
        if px_per_mm <= MAX_WORK_PX_PER_MM:
            return gray
        f = WORK_PX_PER_MM / px_per_mm
        return np.asarray(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), dtype=np.uint8)

    def _find_markers(self, gray: ImageU8) -> dict[int, NDArray[np.float64]]:
        """Markers are searched for in a copy at about 3 px/mm (fast), then in the work image if need be."""
        px_per_mm = max(gray.shape) / max(self.layout.page_size_mm)
        factor = int(px_per_mm // DETECT_PX_PER_MM)
        found: dict[int, NDArray[np.float64]] = {}
        if factor >= 2:
            h, w = gray.shape
            small = np.asarray(
                cv2.resize(
                    gray[: h - h % factor, : w - w % factor], (w // factor, h // factor), interpolation=cv2.INTER_AREA
                ),
                dtype=np.uint8,
            )
            found = {i: (c + 0.5) * factor - 0.5 for i, c in self._detect(small, quick=True).items()}
        if len(found) < 4:
            found = self._detect(gray) | found if factor >= 2 else self._detect(gray)
        return found

    def _detect(self, gray: ImageU8, *, quick: bool = False) -> dict[int, NDArray[np.float64]]:
        corners, ids, _ = (self.aruco_quick if quick else self.aruco).detectMarkers(gray)
        found: dict[int, NDArray[np.float64]] = {}
        if ids is None:
            return found
        for c, i in zip(corners, ids.ravel(), strict=True):
            if 0 <= int(i) <= 3:
                pts = np.asarray(c, dtype=np.float64).reshape(4, 2)
                area = abs(cv2.contourArea(pts.astype(np.float32)))
                if int(i) not in found or area > abs(cv2.contourArea(found[int(i)].astype(np.float32))):
                    found[int(i)] = pts
        return found

    def _homography(
        self, spec: PageSpec, found: dict[int, NDArray[np.float64]]
    ) -> tuple[NDArray[np.float64] | None, list[int]]:
        """Page millimetres → image pixels, from the markers found; drops a marker that disagrees with the rest."""
        used = sorted(i for i in found if i in {m.id for m in spec.markers})
        by_id = {m.id: m for m in spec.markers}
        while len(used) >= 3:
            src = np.concatenate([_marker_corners_mm(by_id[i].x, by_id[i].y, by_id[i].size) for i in used])
            dst = np.concatenate([found[i] for i in used])
            if len(used) == 4:
                h, _ = cv2.findHomography(src, dst, 0)
            else:
                a = np.linalg.lstsq(np.hstack([src, np.ones((len(src), 1))]), dst, rcond=None)[0].T
                h = np.vstack([a, [0.0, 0.0, 1.0]])
            if h is None:
                return None, used
            hm: NDArray[np.float64] = np.asarray(h, dtype=np.float64)
            err = np.linalg.norm(_apply(hm, src) - dst, axis=1).reshape(-1, 4).max(axis=1)
            scale = self._scale(hm, spec)
            worst = int(np.argmax(err))
            if not 1.0 <= scale <= 60.0:  # 25–1500 dpi: anything else is not a page (markers found in a pattern)
                return None, used
            if err[worst] <= max(2.0, 0.8 * scale):  # within 0.8 mm
                return hm, used
            used.pop(worst)
        return None, used

    def _scale(self, h: NDArray[np.float64], spec: PageSpec) -> float:
        """Pixels per millimetre near the page's centre."""
        cx, cy = self.layout.page_size_mm[0] / 2, self.layout.page_size_mm[1] / 2
        p = _apply(h, np.array([[cx, cy], [cx + 1, cy], [cx, cy + 1]]))
        (ax, ay), (bx, by) = p[1] - p[0], p[2] - p[0]
        return float(np.sqrt(abs(ax * by - ay * bx)))

    def _rotation(self, h: NDArray[np.float64]) -> int:
        cx, cy = self.layout.page_size_mm[0] / 2, self.layout.page_size_mm[1] / 2
        p = _apply(h, np.array([[cx, cy], [cx + 10, cy]]))
        angle = np.degrees(np.arctan2(p[1, 1] - p[0, 1], p[1, 0] - p[0, 0]))
        return round(float(angle) / 90.0) % 4 * 90

    # -- reading -----------------------------------------------------------------------------------------

    def read(
        self, image: NDArray[Any], *, file: str = "", index: int = 0, crops: bool = True, review_dpi: int | None = None
    ) -> PageResult:
        """Read one page. `crops`: cut out the written-answer boxes; `review_dpi`: when the page needs review,
        keep an image of it for the reviewer (upright at that resolution when its markers were found)."""
        result = PageResult(file=file, index=index)
        gray = self._work_image(_gray(image))
        h = self._read(gray, result, crops)
        if review_dpi and result.review:
            if h is not None:
                w, hh = self.layout.page_size_mm
                result.page_image = self._warp_region(gray, h, 0.0, 0.0, w, hh, review_dpi)
            else:
                f = min(1.0, review_dpi / 25.4 * max(self.layout.page_size_mm) / max(gray.shape))
                result.page_image = np.asarray(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))
        return result

    def _read(self, gray: ImageU8, result: PageResult, crops: bool) -> NDArray[np.float64] | None:
        """Fills `result`; returns the page → image homography used, if any."""
        found = self._find_markers(gray)
        first = self.layout.pages[0]
        h, used = self._homography(first, found)
        result.markers_found = len(used) if h is not None else len(found)
        if h is None:
            result.review.append(review("blank_page") if _looks_blank(gray) else review("no_markers"))
            return None
        if len(used) == 3:
            missing = ({0, 1, 2, 3} - set(used)).pop()
            result.review.append(review("marker_estimated", f"标记 {missing}"))
        result.rotation = self._rotation(h)
        info = self._read_qr(gray, h)
        if info is not None:
            result.exam_code, result.subject_code = info.exam_code, info.subject_code
            result.qr_student_id = info.student_id
            if (
                info.exam_code != self.layout.exam_code
                or info.subject_code != self.layout.subject_code
                or info.page not in self.plans
                or info.pages != self.layout.page_count
            ):
                result.page = info.page
                result.review.append(
                    review(
                        "wrong_exam", f"二维码为 {info.exam_code}/{info.subject_code} 第 {info.page}/{info.pages} 页"
                    )
                )
                return h
            page = info.page
        else:
            page = self._guess_page(gray, h)
            result.review.append(review("no_qr", f"按版面推断为第 {page} 页" if self.layout.page_count > 1 else ""))
        result.page = page
        plan = self.plans[page]
        if plan.spec.markers != first.markers:
            h2, _ = self._homography(plan.spec, found)
            if h2 is not None:
                h = h2
        self._read_bubbles(gray, h, plan, result)
        if crops:
            result.crops = self.crop_boxes(gray, h, page)
        return h

    def _read_qr(self, gray: ImageU8, h: NDArray[np.float64]) -> QrInfo | None:
        seen: set[tuple[float, float, float]] = set()
        for spec in self.layout.pages:
            if spec.qr is None or (spec.qr.x, spec.qr.y, spec.qr.size) in seen:
                continue
            seen.add((spec.qr.x, spec.qr.y, spec.qr.size))
            side = spec.qr.size * 1.5  # with its quiet zone
            for ppm in (QR_PX_PER_MM, 5.0, 11.0):
                n = round(side * ppm)
                shift = np.array([[1 / ppm, 0, spec.qr.x - side / 2], [0, 1 / ppm, spec.qr.y - side / 2], [0, 0, 1]])
                patch = cv2.warpPerspective(
                    gray, h @ shift, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255
                )
                if ppm == QR_PX_PER_MM:  # the symbol's corners are known: decoding alone is ten times faster
                    q0, q1 = (side - spec.qr.size) / 2 * ppm, (side + spec.qr.size) / 2 * ppm
                    corners = np.array([[q0, q0], [q1, q0], [q1, q1], [q0, q1]], np.float32).reshape(4, 1, 2)
                    info = self._decode_qr(patch, corners)
                    if info is not None:
                        return info
                for img in (patch, cv2.threshold(patch, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]):
                    info = self._decode_qr(img)
                    if info is not None:
                        return info
        # Not where this layout prints it: perhaps another sheet (another exam's) — look over the whole page.
        w, hh = self.layout.page_size_mm
        return self._decode_qr(self._warp_region(gray, h, 0.0, 0.0, w, hh, 130))

    def _decode_qr(self, img: NDArray[Any], corners: NDArray[np.float32] | None = None) -> QrInfo | None:
        try:
            text = self.qr.decode(img, corners)[0] if corners is not None else self.qr.detectAndDecode(img)[0]
        except cv2.error:
            return None
        return parse_qr(text) if text else None

    def _guess_page(self, gray: ImageU8, h: NDArray[np.float64]) -> int:
        """Without a QR code: the page whose printed bubble outlines and box edges are where the layout puts them."""
        if self.layout.page_count == 1:
            return self.layout.pages[0].page
        best, best_score = self.layout.pages[0].page, -1e9
        for page, plan in self.plans.items():
            if not len(plan.outline):
                continue
            on = _sample(gray, _apply(h, plan.outline)).mean()
            off = _sample(gray, _apply(h, plan.outline + np.array([1.2, 1.2]))).mean()
            if off - on > best_score:
                best, best_score = page, float(off - on)
        return best

    def _levels(self, gray: ImageU8, h: NDArray[np.float64], plan: _PagePlan) -> tuple[NDArray[np.float32], float]:
        """The paper's brightness at each bubble (a local maximum over about 9 mm) and the printed black."""
        scale = self._scale(h, plan.spec)
        factor = max(1, round(scale / 1.5))
        f = 1.0 / factor
        hh, ww = gray.shape
        small = cv2.resize(
            gray[: hh - hh % factor, : ww - ww % factor], (ww // factor, hh // factor), interpolation=cv2.INTER_AREA
        )
        k = max(3, round(9 * scale * f) | 1)
        bg = np.asarray(cv2.blur(cv2.dilate(small, np.ones((k, k), np.uint8)), (k, k)), dtype=np.uint8)
        pts = (_apply(h, plan.centres) + 0.5) * f - 0.5
        paper = _sample(bg, pts)
        border = np.concatenate([_marker_border_mm(m.x, m.y, m.size) for m in plan.spec.markers])
        black = float(np.median(_sample(gray, _apply(h, border))))
        return paper, black

    def _read_bubbles(self, gray: ImageU8, h: NDArray[np.float64], plan: _PagePlan, result: PageResult) -> None:
        if not len(plan.centres):
            return
        inside = _sample(gray, _apply(h, plan.interior)).mean(axis=1)
        paper, black = self._levels(gray, h, plan)
        contrast = np.maximum(paper - black, 40.0)
        raw = (paper - inside) / contrast
        n_opt = len(plan.option_bubbles)
        fill = np.empty_like(raw)
        # An empty bubble is not white (outline, printed letter): measure from the page's own empty bubbles.
        for part in (slice(0, n_opt), slice(n_opt, len(raw))):
            vals = raw[part]
            if len(vals):
                base = min(float(np.percentile(vals, 25)), 0.25)
                fill[part] = (vals - base) / (1.0 - base)
        for no, (rows, letters) in plan.question_slices.items():
            self._decide_question(no, fill[rows], letters, result)
        if len(plan.id_rows):
            self._decide_id(fill[plan.id_rows], result)

    def _decide_question(self, no: int, f: NDArray[np.float32], letters: list[str], result: PageResult) -> None:
        q = self.layout.question(no)
        marked = f >= FILL_MID
        unsure = (f > FILL_EMPTY) & (f < FILL_MARK)
        firm = f >= FILL_MARK
        if firm.any():  # a light smudge beside a firm mark of the same question is an erasure
            unsure &= ~((f < FILL_MID) & (f < ERASURE_RATIO * float(f[firm].min())))
        answer = "".join(letter for letter, m in zip(letters, marked, strict=True) if m)
        conf = float(np.clip(np.abs(f - FILL_MID).min() / 0.2, 0.0, 1.0))
        result.answers[no] = answer
        result.fills[no] = [float(x) for x in f]
        if unsure.any():
            shaky = "".join(letter for letter, u in zip(letters, unsure, strict=True) if u)
            result.review.append(review("ambiguous", f"第 {no} 题 选项 {shaky}", no))
        if q.type != "multiple" and len(answer) > 1:
            conf = min(conf, 0.5)
            result.review.append(review("multiple_marks", f"第 {no} 题 {answer}", no))
        result.confidence[no] = conf

    def _decide_id(self, f: NDArray[np.float32], result: PageResult) -> None:
        digits = []
        for col in f:
            order = np.argsort(col)[::-1]
            top, second = float(col[order[0]]), float(col[order[1]])
            if top >= FILL_MID and second <= FILL_EMPTY and top - second >= ID_MARGIN:
                digits.append(str(int(order[0])))
            elif top <= FILL_EMPTY:
                digits.append(" ")
            else:
                digits.append("?")
        read = "".join(digits)
        result.id_read = read
        qr_id = result.qr_student_id
        if read.strip() == "" and qr_id:
            result.student_id = qr_id
        elif "?" in read or " " in read:
            detail = "未填涂" if read.strip() == "" else f"读为 {read.replace(' ', '_')}"
            result.review.append(self._id_review("id_unreadable", detail))
            result.student_id = qr_id
        else:
            result.student_id = read
            if qr_id and qr_id != read:
                result.review.append(self._id_review("id_mismatch", f"填涂 {read}，二维码 {qr_id}"))

    def _id_review(self, code: str, detail: str) -> Review:
        """The ID's messages name it as the sheet does (考号, 学籍号, …)."""
        item = review(code, detail)
        return Review(item.code, item.message.replace("考号", self.layout.id_label or "考号"), item.question)

    # -- images for people ---------------------------------------------------------------------------------

    def _warp_region(
        self, gray: ImageU8, h: NDArray[np.float64], x: float, y: float, w: float, hh: float, dpi: int
    ) -> ImageU8:
        ppm = dpi / 25.4
        shift = np.array([[1 / ppm, 0, x], [0, 1 / ppm, y], [0, 0, 1]])
        size = (max(1, round(w * ppm)), max(1, round(hh * ppm)))
        out = cv2.warpPerspective(gray, h @ shift, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=255)
        return np.asarray(out, dtype=np.uint8)

    def crop_boxes(self, gray: ImageU8, h: NDArray[np.float64], page: int) -> dict[int, ImageU8]:
        """Each written-answer box of the page, upright, at `crop_dpi`."""
        return {
            box.question: self._warp_region(gray, h, box.x, box.y, box.w, box.h, self.crop_dpi)
            for box in self.layout.boxes_on(page)
        }

    def page_image(self, image: NDArray[Any], dpi: int = 100) -> ImageU8 | None:
        """The whole page, upright and deskewed (for a review queue), or None without markers."""
        gray = self._work_image(_gray(image))
        h, _ = self._homography(self.layout.pages[0], self._find_markers(gray))
        if h is None:
            return None
        w, hh = self.layout.page_size_mm
        return self._warp_region(gray, h, 0.0, 0.0, w, hh, dpi)


def _gray(image: NDArray[Any]) -> ImageU8:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(gray, dtype=np.uint8)


def _looks_blank(gray: ImageU8) -> bool:
    """Almost no ink: under 0.1 % of the page clearly darker than the paper."""
    small = cv2.resize(gray, (256, 256), interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 90))
    return float((small < paper - 60).mean()) < 0.001


def read_page(layout: Layout, image: NDArray[Any], *, file: str = "", index: int = 0) -> PageResult:
    """One page with a throw-away reader (for a batch, build one SheetReader and call `read`)."""
    return SheetReader(layout).read(image, file=file, index=index)
