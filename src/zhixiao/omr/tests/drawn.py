"""A small sheet layout written here and drawn straight from it (markers, QR, bubbles with their letters,
answer boxes), independent of the PDF generator: the reader must work for any sheet that follows the layout
contract, not only for ours."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import qrcode

from zhixiao.omr.engine.layout import Layout, load_layout, qr_text


def small_layout(*, exam_code: str = "T2026", pages: int = 2) -> dict[str, Any]:
    markers = [
        {"id": 0, "corner": "tl", "x": 14.0, "y": 14.0, "size": 10.0},
        {"id": 1, "corner": "tr", "x": 196.0, "y": 14.0, "size": 10.0},
        {"id": 2, "corner": "br", "x": 196.0, "y": 283.0, "size": 10.0},
        {"id": 3, "corner": "bl", "x": 14.0, "y": 283.0, "size": 10.0},
    ]
    bubbles: list[dict[str, Any]] = []
    for pos in range(6):
        for digit in range(10):
            bubbles.append(
                {"page": 1, "x": 30.0 + pos * 7, "y": 50.0 + digit * 5, "w": 5, "h": 3.5, "kind": "id"}
                | {"position": pos, "digit": digit}
            )
    questions: list[dict[str, Any]] = []
    key: dict[str, str] = {}
    for no in range(1, 25):
        qtype = "single" if no <= 14 else "multiple" if no <= 20 else "truefalse"
        options = ["T", "F"] if qtype == "truefalse" else ["A", "B", "C", "D"]
        questions.append(
            {"no": no, "type": qtype, "options": options, "score": 3, "partial": 1 if qtype == "multiple" else 0}
        )
        key[str(no)] = {"single": "B", "multiple": "AC", "truefalse": "T"}[qtype]
        col, row = (no - 1) // 8, (no - 1) % 8
        for i, opt in enumerate(options):
            bubbles.append(
                {"page": 1, "x": 32.0 + col * 55 + i * 8, "y": 125.0 + row * 7, "w": 5, "h": 3.5, "kind": "option"}
                | {"question": no, "option": opt}
            )
    boxes = [{"page": pages, "question": 25, "x": 20.0, "y": 190.0 if pages == 1 else 40.0, "w": 170.0, "h": 60.0}]
    questions.append({"no": 25, "type": "written", "options": [], "score": 10})
    data: dict[str, Any] = {
        "format": "zhixiao-omr-layout/1",
        "exam": "测试考试",
        "exam_code": exam_code,
        "subject": "物理",
        "subject_code": "phys",
        "paper_size": "A4",
        "page_size_mm": [210, 297],
        "pages": [],
        "id": {"label": "考号", "digits": 6},
        "bubbles": bubbles,
        "boxes": boxes,
        "questions": questions,
        "answer_key": key,
    }
    for p in range(1, pages + 1):
        text = f"ZXOMR1|{exam_code}|phys|{p}|{pages}|"
        data["pages"].append({"page": p, "markers": markers, "qr": {"x": 180.0, "y": 40.0, "size": 18.0, "text": text}})
    return data


def draw(layout: Layout, page: int, dpi: int, *, student_id: str | None = None) -> np.ndarray:
    """The page as a printer would put it on paper, in grey levels."""
    ppm = dpi / 25.4
    w, h = (round(v * ppm) for v in layout.page_size_mm)
    img = np.full((h, w), 255, np.uint8)
    aruco = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    spec = layout.page_spec(page)
    for m in spec.markers:
        side = round(m.size * ppm)
        mk = cv2.aruco.generateImageMarker(aruco, m.id, side)
        x0, y0 = round((m.x - m.size / 2) * ppm), round((m.y - m.size / 2) * ppm)
        img[y0 : y0 + side, x0 : x0 + side] = mk
    if spec.qr is not None:
        qr = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
        qr.add_data(qr_text(layout, page, student_id))
        modules = np.array(qr.get_matrix(), dtype=np.uint8)
        side = round(spec.qr.size * ppm)
        tile = cv2.resize((1 - modules) * 255, (side, side), interpolation=cv2.INTER_NEAREST)
        x0, y0 = round((spec.qr.x - spec.qr.size / 2) * ppm), round((spec.qr.y - spec.qr.size / 2) * ppm)
        img[y0 : y0 + side, x0 : x0 + side] = tile
    for b in layout.bubbles_on(page):
        c = (round(b.x * ppm), round(b.y * ppm))
        cv2.ellipse(img, c, (round(b.w / 2 * ppm), round(b.h / 2 * ppm)), 0, 0, 360, 60, max(1, round(0.25 * ppm)))
        label = b.option if b.kind == "option" else str(b.digit)
        scale = 0.022 * ppm
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.putText(img, label, (c[0] - tw // 2, c[1] + th // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, 170, 1, cv2.LINE_AA)
    for box in layout.boxes_on(page):
        p0 = (round(box.x * ppm), round(box.y * ppm))
        p1 = (round((box.x + box.w) * ppm), round((box.y + box.h) * ppm))
        cv2.rectangle(img, p0, p1, 0, max(1, round(0.3 * ppm)))
        cv2.putText(img, f"{box.question}.", (p0[0] + 8, p0[1] + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.04 * ppm, 0, 2)
    return img


def drawn_layout(**kw: Any) -> Layout:
    return load_layout(small_layout(**kw))
