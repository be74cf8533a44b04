"""Answer sheets: the PDF and its layout JSON agree. Each page is rendered at 200 dpi (as a scanner would
see it) and checked against the layout: a printed bubble outline at every bubble centre, the four ArUco
markers where the layout puts them, the QR code saying what the layout says."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from zhixiao.omr.engine.paper import Paper, PaperError, load_paper, parse_paper
from zhixiao.omr.engine.roster import Student
from zhixiao.omr.engine.sheet import FORMAT, Sheet, clearance_problems, make_sheet, marker_cells
from zhixiao.omr.tests.test_paper import EXAMPLE, minimal

DPI = 200
PX_PER_MM = DPI / 25.4


@cache
def example(size: str = "A4") -> Paper:
    return load_paper(EXAMPLE).with_paper_size(size)


@cache
def example_sheet(size: str = "A4") -> Sheet:
    return make_sheet(example(size))


def render(pdf: bytes, dpi: int = DPI) -> list[np.ndarray]:
    doc = pdfium.PdfDocument(pdf)
    pages = [doc[i].render(scale=dpi / 72, grayscale=True).to_numpy().squeeze() for i in range(len(doc))]
    doc.close()
    return pages


def darkest(img: np.ndarray, x_mm: float, y_mm: float, r: int = 2) -> int:
    x, y = round(x_mm * PX_PER_MM), round(y_mm * PX_PER_MM)
    return int(img[y - r : y + r + 1, x - r : x + r + 1].min())


def centre_mean(img: np.ndarray, x_mm: float, y_mm: float) -> float:
    x, y = round(x_mm * PX_PER_MM), round(y_mm * PX_PER_MM)
    dx, dy = round(0.6 * PX_PER_MM), round(0.4 * PX_PER_MM)
    return float(img[y - dy : y + dy + 1, x - dx : x + dx + 1].mean())


def outline_points(b: dict[str, Any]) -> list[tuple[float, float]]:
    """Points on a bubble's printed outline: along its top and bottom edges and at the middle of its sides."""
    x, y, w, h = b["x"], b["y"], b["w"], b["h"]
    points = [(x + dx, y + sy * h / 2) for dx in (-w / 4, 0.0, w / 4) for sy in (-1, 1)]
    return [*points, (x - w / 2, y), (x + w / 2, y)]


def check_bubbles(images: list[np.ndarray], layout: dict[str, Any], filled: set[tuple[int, int]] = frozenset()) -> None:
    """Every bubble of the layout is printed where it says: dark outline ring, light (or, if filled, dark) centre."""
    for b in layout["bubbles"]:
        img = images[b["page"] - 1]
        ring = [darkest(img, px, py) for px, py in outline_points(b)]
        assert max(ring) < 110, f"no bubble outline at {b}: {ring}"
        inside = centre_mean(img, b["x"], b["y"])
        if b["kind"] == "id" and (b["position"], b["digit"]) in filled:
            assert inside < 60, f"pre-filled bubble not filled: {b}"
        else:
            assert inside > 170, f"bubble centre not light at {b}: {inside:.0f}"
        # Between a bubble and its neighbour (≥ 2 mm apart) the paper is blank.
        assert darkest(img, b["x"] + b["w"] / 2 + 1.0, b["y"], 1) > 200


def find_markers(img: np.ndarray, px_per_mm: float = PX_PER_MM) -> dict[int, tuple[float, float]]:
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(img)
    assert ids is not None
    return {
        int(i): (float(c[0][:, 0].mean()) / px_per_mm, float(c[0][:, 1].mean()) / px_per_mm)
        for c, i in zip(corners, ids.ravel(), strict=True)
    }


def check_markers_and_qr(img: np.ndarray, page: dict[str, Any], qr_text: str, dpi: int = DPI) -> None:
    px_per_mm = dpi / 25.4
    found = find_markers(img, px_per_mm)
    assert sorted(found) == [0, 1, 2, 3]
    for m in page["markers"]:
        fx, fy = found[m["id"]]
        assert abs(fx - m["x"]) <= 1.0 and abs(fy - m["y"]) <= 1.0, (m, found[m["id"]])
        side = marker_cells(m["id"])
        assert len(side) == 6 and all(side[0]) and all(side[-1])  # black border
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(img)
    assert text == qr_text
    qx, qy = points.reshape(-1, 2).mean(axis=0) / px_per_mm
    assert abs(qx - page["qr"]["x"]) <= 1.0 and abs(qy - page["qr"]["y"]) <= 1.0


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_every_bubble_marker_and_qr_code_in_the_layout_is_printed_where_it_says(size: str) -> None:
    sheet = example_sheet(size)
    layout = sheet.layout()
    images = render(sheet.pdf)
    assert len(images) == len(layout["pages"])
    width, height = layout["page_size_mm"]
    rows, cols = images[0].shape
    assert abs(rows - height * PX_PER_MM) <= 1 and abs(cols - width * PX_PER_MM) <= 1
    check_bubbles(images, layout)
    for img, page in zip(images, layout["pages"], strict=True):
        check_markers_and_qr(img, page, page["qr"]["text"])
        for box in (b for b in layout["boxes"] if b["page"] == page["page"]):
            # the written-answer box's border at its top-left corner and bottom edge
            assert darkest(img, box["x"], box["y"] + box["h"] / 2) < 110
            assert darkest(img, box["x"] + box["w"] / 2, box["y"] + box["h"]) < 110


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_markers_and_qr_code_read_at_an_office_scanners_150_dpi(size: str) -> None:
    sheet = example_sheet(size)
    for img, page in zip(render(sheet.pdf, 150), sheet.layout()["pages"], strict=True):
        check_markers_and_qr(img, page, page["qr"]["text"], 150)


def test_the_example_fits_two_a4_pages_or_one_a3_page() -> None:
    a4, a3 = example_sheet("A4").layout(), example_sheet("A3").layout()
    assert (len(a4["pages"]), a4["page_size_mm"]) == (2, [210, 297])
    assert (len(a3["pages"]), a3["page_size_mm"]) == (1, [420, 297])
    # A3 has two columns: written boxes on both halves of the page
    assert {b["x"] < 210 for b in a3["boxes"]} == {True, False}


def test_the_layout_follows_the_contract() -> None:
    sheet = example_sheet()
    layout = sheet.layout()
    assert layout["format"] == FORMAT
    assert (layout["exam"], layout["exam_code"], layout["subject"], layout["subject_code"]) == (
        "2026届高三第一次模拟考试",
        "GK2026M1",
        "生物",
        "bio",
    )
    assert layout["paper_size"] == "A4" and layout["id"] == {"label": "考号", "digits": 10}
    for page in layout["pages"]:
        assert [(m["id"], m["corner"]) for m in page["markers"]] == [(0, "tl"), (1, "tr"), (2, "br"), (3, "bl")]
        assert page["qr"]["text"] == f"ZXOMR1|GK2026M1|bio|{page['page']}|2|"
    options = [b for b in layout["bubbles"] if b["kind"] == "option"]
    ids = [b for b in layout["bubbles"] if b["kind"] == "id"]
    assert len(options) == 40 * 4
    assert sorted((b["position"], b["digit"]) for b in ids) == [(p, d) for p in range(10) for d in range(10)]
    assert {(b["question"], b["option"]) for b in options} == {(q, o) for q in range(1, 41) for o in "ABCD"}
    assert [b["question"] for b in layout["boxes"]] == [41, 42, 43, 44, 45, 46]
    q31 = next(q for q in layout["questions"] if q["no"] == 31)
    assert q31 == {"no": 31, "type": "multiple", "options": ["A", "B", "C", "D"], "score": 4, "partial": 2} | {
        "section": q31["section"]
    }
    assert q31["section"].startswith("二、多项选择题")
    section = "三、非选择题（本题共 6 小题，共 50 分）"
    assert layout["questions"][40] == {"no": 41, "type": "written", "options": [], "score": 8, "section": section}
    assert len(layout["answer_key"]) == 40 and all(isinstance(k, str) for k in layout["answer_key"])
    assert sheet.layout_json().startswith('{\n "format": "zhixiao-omr-layout/1"')


@pytest.mark.parametrize("size", ["A4", "A3"])
def test_geometry_keeps_markers_inside_and_bubbles_clear(size: str) -> None:
    sheet = example_sheet(size)
    layout = sheet.layout()
    width, height = layout["page_size_mm"]
    assert clearance_problems(sheet.plan) == []
    for page in layout["pages"]:
        for m in page["markers"]:
            half = m["size"] / 2
            assert min(m["x"] - half, m["y"] - half, width - m["x"] - half, height - m["y"] - half) >= 8
        keep_out = [*page["markers"], page["qr"]]
        bubbles = [b for b in layout["bubbles"] if b["page"] == page["page"]]
        for b in bubbles:
            assert 4.5 <= b["w"] <= 6 and 3 <= b["h"] <= 4
            for k in keep_out:
                gap_x = abs(b["x"] - k["x"]) - (b["w"] + k["size"]) / 2
                gap_y = abs(b["y"] - k["y"]) - (b["h"] + k["size"]) / 2
                assert max(gap_x, gap_y) >= 3
        for a, b in itertools.combinations(bubbles, 2):
            gap = max(abs(a["x"] - b["x"]) - (a["w"] + b["w"]) / 2, abs(a["y"] - b["y"]) - (a["h"] + b["h"]) / 2)
            assert gap >= 2 - 1e-9, (a, b)
        for box in (b for b in layout["boxes"] if b["page"] == page["page"]):
            assert box["x"] >= 10 and box["x"] + box["w"] <= width - 10
            assert box["y"] >= 32 and box["y"] + box["h"] <= height - 22


def test_pre_printed_sheets_carry_each_students_number_name_and_class() -> None:
    roster = [Student("2026010203", "张三", "高三（1）班"), Student("2026019876", "欧阳明月", "高三（12）班")]
    paper = example()
    sheet = make_sheet(paper, roster=roster)
    layout = sheet.layout()
    pages = len(layout["pages"])
    assert sheet.pdf_pages == 2 * pages
    images = render(sheet.pdf)
    assert len(images) == 2 * pages
    doc = pdfium.PdfDocument(sheet.pdf)
    for s, student in enumerate(roster):
        first = images[s * pages]
        filled = {(p, int(d)) for p, d in enumerate(student.student_id)}
        check_bubbles([first], {"bubbles": [b for b in layout["bubbles"] if b["page"] == 1]}, filled)
        for n in range(pages):
            page = layout["pages"][n]
            qr = f"ZXOMR1|GK2026M1|bio|{n + 1}|{pages}|{student.student_id}"
            check_markers_and_qr(images[s * pages + n], page, qr)
        text = doc[s * pages].get_textpage().get_text_range()
        assert student.name in text and student.class_name in text
        assert student.student_id in text.replace(" ", "").replace("\r", "").replace("\n", "")
    doc.close()


def test_every_question_type_and_option_count_is_drawn() -> None:
    data = minimal(paper_size="A4", id={"label": "学籍号", "digits": 12})
    data["sections"][0]["questions"] += [
        {"from": 8, "to": 10, "type": "single", "options": 7, "score": 2},
        {"from": 11, "to": 13, "type": "single", "options": 2, "score": 1},
        {"from": 14, "to": 20, "type": "truefalse", "score": 1},
    ]
    sheet = make_sheet(parse_paper(data))
    layout = sheet.layout()
    assert {b["option"] for b in layout["bubbles"] if b["kind"] == "option" and b["question"] == 8} == set("ABCDEFG")
    assert {b["option"] for b in layout["bubbles"] if b["kind"] == "option" and b["question"] == 6} == {"T", "F"}
    assert layout["id"] == {"label": "学籍号", "digits": 12}
    images = render(sheet.pdf)
    check_bubbles(images, layout)
    check_markers_and_qr(images[0], layout["pages"][0], layout["pages"][0]["qr"]["text"])


def test_long_papers_flow_onto_more_pages_and_a3_columns() -> None:
    data = minimal()
    data["sections"][1]["questions"] = [
        {"no": n, "type": "written", "score": 10, "height_mm": 110} for n in range(7, 13)
    ]
    a4 = make_sheet(parse_paper(data)).layout()
    a3 = make_sheet(parse_paper(data | {"paper_size": "A3"})).layout()
    assert len(a4["pages"]) == 4 and len(a3["pages"]) == 2
    assert [b["page"] for b in a4["boxes"]] == [1, 2, 2, 3, 3, 4]
    right_half = [(b["page"], b["x"] > 210) for b in a3["boxes"]]
    assert right_half == [(1, False), (1, True), (1, True), (2, False), (2, False), (2, True)]
    assert all(p["qr"]["text"].split("|")[4] == "4" for p in a4["pages"])
    check_markers_and_qr(render(make_sheet(parse_paper(data)).pdf)[3], a4["pages"][3], "ZXOMR1|GK2026M1|phys|4|4|")


def test_content_that_cannot_fit_a_page_is_refused() -> None:
    data = minimal()
    data["sections"][1]["questions"][0]["height_mm"] = 260
    with pytest.raises(PaperError) as info:
        make_sheet(parse_paper(data))
    assert info.value.problems == ["第 2 节第 7 题：作答区高 260 毫米，超过一栏可用高度 231.5 毫米"]


def test_a_pdf_is_the_same_bytes_each_time() -> None:
    assert make_sheet(example()).pdf == example_sheet().pdf
