"""Realistic scans of our own answer sheets, with ground truth (for the tests and bench/omr).

A sheet PDF is rendered (pypdfium2, 150/200/300 dpi), answers and an ID are pencilled in (textured dark
ellipses; sometimes faint, half-filled, or an erased light-grey smudge in another bubble), then the page is
scanned badly: turned ±5°, sometimes upside down, a little perspective, blur, noise, brightness and contrast,
JPEG quality 40–90. Everything follows from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from .layout import Bubble, Layout

ImageU8 = NDArray[np.uint8]


def render_pdf(pdf: bytes | Path, dpi: int) -> list[ImageU8]:
    """Every page of a PDF as a grayscale image at `dpi`."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf.read_bytes() if isinstance(pdf, Path) else pdf)
    try:
        pages = []
        for i in range(len(doc)):
            bitmap = doc[i].render(scale=dpi / 72, grayscale=True)
            arr = np.asarray(bitmap.to_numpy())
            pages.append(np.ascontiguousarray(arr.reshape(arr.shape[0], arr.shape[1], -1)[..., 0], dtype=np.uint8))
        return pages
    finally:
        doc.close()


@dataclass
class Student:
    student_id: str
    answers: dict[int, str]  # question → the letters the student means (ground truth), "" for blank


@dataclass
class Scan:
    """A page image at `dpi` before the scanner's distortions are applied, and its truth."""

    truth: dict[str, Any]
    distortion: dict[str, Any] = field(default_factory=dict)


@dataclass
class Distortion:
    rotation: float = 0.0  # degrees, counter-clockwise
    upside_down: bool = False
    perspective: float = 0.0  # corner shift as a share of the page's size
    blur: float = 0.0  # Gaussian sigma in pixels
    noise: float = 0.0  # Gaussian sigma in grey levels
    brightness: float = 0.0
    contrast: float = 1.0
    shading: float = 0.0  # uneven light: the darkest corner is this much darker
    jpeg_quality: int = 90

    @classmethod
    def random(cls, rng: random.Random, *, flip_rate: float = 0.15) -> Distortion:
        return cls(
            rotation=rng.uniform(-5, 5),
            upside_down=rng.random() < flip_rate,
            perspective=rng.uniform(0, 0.02),
            blur=rng.choice([0.0, 0.0, rng.uniform(0.3, 1.2)]),
            noise=rng.uniform(0, 8),
            brightness=rng.uniform(-40, 20),
            contrast=rng.uniform(0.7, 1.1),
            shading=rng.choice([0.0, 0.0, rng.uniform(0.05, 0.2)]),
            jpeg_quality=rng.randint(40, 90),
        )


def random_student(layout: Layout, rng: random.Random, *, blank_rate: float = 0.04) -> Student:
    digits = "".join(str(rng.randrange(10)) for _ in range(layout.id_digits))
    answers: dict[int, str] = {}
    for q in layout.questions:
        if not q.objective:
            continue
        if rng.random() < blank_rate:
            answers[q.no] = ""
        elif q.type == "multiple":
            k = rng.randint(1, len(q.options))
            answers[q.no] = "".join(sorted(rng.sample(list(q.options), k), key=q.options.index))
        else:
            answers[q.no] = rng.choice(q.options)
    return Student(digits, answers)


class ScanMaker:
    """Pencils a student's answers onto rendered sheet pages and scans them badly."""

    def __init__(
        self,
        layout: Layout,
        pages_by_dpi: dict[int, Sequence[ImageU8]],
        *,
        faint_rate: float = 0.05,
        half_rate: float = 0.05,
        erase_rate: float = 0.05,
    ):
        self.layout = layout
        self.pages_by_dpi = pages_by_dpi
        self.faint_rate, self.half_rate, self.erase_rate = faint_rate, half_rate, erase_rate

    @classmethod
    def from_pdf(cls, layout: Layout, pdf: bytes | Path, dpis: Sequence[int] = (150, 200, 300), **kw: Any) -> ScanMaker:
        return cls(layout, {dpi: render_pdf(pdf, dpi) for dpi in dpis}, **kw)

    def fill(self, page: int, student: Student, rng: random.Random, dpi: int) -> tuple[ImageU8, dict[str, Any]]:
        """The page at `dpi` with the student's marks pencilled in, and the truth (incl. how each mark looks)."""
        img = self.pages_by_dpi[dpi][page - 1].copy()
        ppm = dpi / 25.4
        styles: dict[str, str] = {}
        bubbles = self.layout.bubbles_on(page)
        by_question: dict[int, list[Bubble]] = {}
        for b in bubbles:
            if b.kind == "option":
                by_question.setdefault(b.question, []).append(b)
        for no, options in by_question.items():
            chosen = student.answers.get(no, "")
            for b in options:
                if b.option in chosen:
                    style = self._style(rng)
                    _pencil(img, b, ppm, rng, style)
                    styles[f"{no}{b.option}"] = style
            empty = [b for b in options if b.option not in chosen]
            if empty and rng.random() < self.erase_rate:
                b = rng.choice(empty)
                _pencil(img, b, ppm, rng, "erased")
                styles[f"{no}{b.option}"] = "erased"
        for box in self.layout.boxes_on(page):
            _handwriting(img, box.x, box.y, box.w, box.h, ppm, rng)
        for b in bubbles:
            if b.kind == "id" and student.student_id[b.position] == str(b.digit):
                style = "faint" if rng.random() < self.faint_rate / 2 else "full"
                _pencil(img, b, ppm, rng, style)
        truth = {
            "page": page,
            "student_id": student.student_id if any(b.kind == "id" for b in bubbles) else None,
            "answers": {str(no): student.answers.get(no, "") for no in sorted(by_question)},
            "styles": styles,
            "dpi": dpi,
        }
        return img, truth

    def _style(self, rng: random.Random) -> str:
        r = rng.random()
        if r < self.faint_rate:
            return "faint"
        if r < self.faint_rate + self.half_rate:
            return "half"
        return "full"

    def scan(
        self,
        page: int,
        student: Student,
        rng: random.Random,
        *,
        dpi: int | None = None,
        distortion: Distortion | None = None,
    ) -> tuple[bytes, dict[str, Any]]:
        """A JPEG of the filled page as a scanner might return it, and its truth."""
        dpi = dpi or rng.choice(sorted(self.pages_by_dpi))
        img, truth = self.fill(page, student, rng, dpi)
        d = distortion if distortion is not None else Distortion.random(rng)
        out = distort(img, d, rng)
        ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
        assert ok
        truth["distortion"] = asdict(d)
        return jpeg.tobytes(), truth


def _pencil(img: ImageU8, b: Bubble, ppm: float, rng: random.Random, style: str) -> None:
    """A pencil mark over bubble `b`, multiplied into the page (the printed letter still shows through)."""
    cx = (b.x + rng.uniform(-0.25, 0.25)) * ppm
    cy = (b.y + rng.uniform(-0.2, 0.2)) * ppm
    ax = b.w / 2 * rng.uniform(0.85, 1.08) * ppm
    ay = b.h / 2 * rng.uniform(0.85, 1.08) * ppm
    pad = 3
    x0, x1 = int(cx - ax) - pad, int(cx + ax) + pad + 1
    y0, y1 = int(cy - ay) - pad, int(cy + ay) + pad + 1
    if x0 < 0 or y0 < 0 or x1 > img.shape[1] or y1 > img.shape[0]:
        return
    hh, ww = y1 - y0, x1 - x0
    mask = np.zeros((hh, ww), np.float32)
    cv2.ellipse(mask, (round(cx - x0), round(cy - y0)), (round(ax), round(ay)), rng.uniform(-8, 8), 0, 360, 1.0, -1)
    if style == "half":  # 55–75 % of the bubble: from the left edge, or the lower part
        if rng.random() < 0.5:
            cut = round((cx - x0) + rng.uniform(0.05, 0.25) * 2 * ax)
            mask[:, cut:] = 0
        else:
            cut = round((cy - y0) - rng.uniform(0.05, 0.25) * 2 * ay)
            mask[:cut, :] = 0
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), max(0.6, 0.25 * ppm / 4)), dtype=np.float32)
    level = {"full": rng.uniform(35, 110), "half": rng.uniform(35, 100), "faint": rng.uniform(135, 165)}.get(
        style, rng.uniform(200, 232)
    )
    # pencil grain: per-pixel noise plus strokes in one direction
    grain = np.asarray(np.random.default_rng(rng.getrandbits(32)).normal(0, 18 if style != "erased" else 8, (hh, ww)))
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:hh, 0:ww]
    strokes = 12 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * rng.uniform(0.6, 1.2))
    tone = np.clip(level + grain + strokes, 0, 255) / 255.0
    factor = 1.0 - mask * (1.0 - tone)
    region = img[y0:y1, x0:x1].astype(np.float32) * factor
    img[y0:y1, x0:x1] = np.clip(region, 0, 255).astype(np.uint8)


def _handwriting(img: ImageU8, x: float, y: float, w: float, h: float, ppm: float, rng: random.Random) -> None:
    """A few lines of scribble in a written-answer box (pen strokes, not text), so crops look like answers."""
    lines = rng.randint(1, max(1, int(h // 9)))
    for i in range(lines):
        base = y + 8 + i * 8 + rng.uniform(-1, 1)
        if base > y + h - 3:
            break
        xs = np.arange(x + 6, x + 6 + rng.uniform(0.3, 0.9) * (w - 12), 1.2)
        ys = (
            base
            + 1.6 * np.sin(xs * rng.uniform(0.8, 2.0))
            + np.cumsum(np.random.default_rng(i).normal(0, 0.15, len(xs)))
        )
        pts = np.stack([xs * ppm, np.clip(ys, y + 2, y + h - 2) * ppm], 1).astype(np.int32)
        cv2.polylines(img, [pts], False, rng.randint(10, 60), max(1, round(0.35 * ppm)), cv2.LINE_AA)


def distort(img: ImageU8, d: Distortion, rng: random.Random) -> ImageU8:
    """Scanner and camera defects: the page on a slightly larger bed, turned, warped, blurred, noisy, re-lit."""
    h, w = img.shape
    m = round(0.05 * max(h, w))
    bed = rng.choice([255, 245, 230, 200])
    canvas = cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_CONSTANT, value=bed)
    hh, ww = canvas.shape
    src = np.array([[m, m], [m + w, m], [m + w, m + h], [m, m + h]], dtype=np.float32)
    rot = cv2.getRotationMatrix2D((ww / 2, hh / 2), d.rotation, 1.0)
    dst = cv2.transform(src[None], rot)[0]
    jitter = np.array(
        [[rng.uniform(-1, 1) * d.perspective * w, rng.uniform(-1, 1) * d.perspective * h] for _ in range(4)]
    )
    dst = (dst + jitter).astype(np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(canvas, warp, (ww, hh), flags=cv2.INTER_LINEAR, borderValue=bed)
    if d.upside_down:
        out = np.ascontiguousarray(out[::-1, ::-1])
    if d.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), d.blur)
    f = out.astype(np.float32)
    if d.shading > 0:
        gx = np.linspace(0, 1, ww, dtype=np.float32)[None, :]
        gy = np.linspace(0, 1, hh, dtype=np.float32)[:, None]
        f *= 1.0 - d.shading * (gx * 0.6 + gy * 0.4)
    f = (f - 128.0) * d.contrast + 128.0 + d.brightness
    if d.noise > 0:
        f += np.random.default_rng(rng.getrandbits(32)).normal(0, d.noise, f.shape).astype(np.float32)
    return np.clip(f, 0, 255).astype(np.uint8)
