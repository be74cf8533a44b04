"""Reading one scanned page: our real sheet (examples/omr/paper.json) filled in and scanned badly by the
synthesiser reads back as its ground truth — student ID, every objective answer, the written boxes — and
what cannot be read is said, with a code and a Chinese reason, instead of guessed."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from zhixiao.omr.engine.layout import LayoutError, load_layout
from zhixiao.omr.engine.reader import SheetReader
from zhixiao.omr.engine.synth import Distortion, Student, distort
from zhixiao.omr.tests import drawn
from zhixiao.omr.tests.scans import decode, example_sheet, preprinted, scan, student


def _reader() -> SheetReader:
    return SheetReader(example_sheet()[0])


def _codes(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.code for r in result.review}


def _assert_reads_truth(result, truth) -> None:  # type: ignore[no-untyped-def]
    assert result.page == truth["page"]
    assert result.exam_code == "GK2026M1"
    assert result.student_id == truth["student_id"]
    assert {str(k): v for k, v in result.answers.items()} == truth["answers"]


DISTORTIONS = {
    "clean": Distortion(),
    "turned_5_degrees": Distortion(rotation=5.0, jpeg_quality=85),
    "turned_minus_4_degrees": Distortion(rotation=-4.0, noise=4),
    "upside_down": Distortion(upside_down=True, rotation=2.0),
    "perspective": Distortion(perspective=0.02, rotation=-1.5),
    "dark_low_contrast": Distortion(brightness=-40, contrast=0.7, noise=6),
    "light_washed_out": Distortion(brightness=20, contrast=0.75),
    "uneven_light_and_blur": Distortion(shading=0.2, blur=1.2),
    "jpeg_quality_40": Distortion(jpeg_quality=40, noise=8, rotation=1.0),
}


@pytest.mark.parametrize("name", list(DISTORTIONS))
def test_scans_read_back_as_their_ground_truth(name: str) -> None:
    seed = list(DISTORTIONS).index(name)
    jpeg, truth = scan(1, student(seed), seed, distortion=DISTORTIONS[name])
    result = _reader().read(decode(jpeg))
    _assert_reads_truth(result, truth)
    assert not _codes(result) & {"no_markers", "no_qr", "id_unreadable"}
    assert result.rotation == (180 if DISTORTIONS[name].upside_down else 0)


@pytest.mark.parametrize("dpi", [150, 300])
def test_scans_at_150_and_300_dpi_read_alike(dpi: int) -> None:
    jpeg, truth = scan(1, student(dpi), dpi, dpi=dpi, distortion=Distortion(rotation=-3, jpeg_quality=60, noise=5))
    _assert_reads_truth(_reader().read(decode(jpeg)), truth)


def test_faint_pencil_and_half_filled_bubbles_count_as_marks() -> None:
    jpeg, truth = scan(
        1, student(21), 21, faint_rate=0.5, half_rate=0.5, erase_rate=0, distortion=Distortion(contrast=0.85)
    )
    assert set(truth["styles"].values()) == {"faint", "half"}
    _assert_reads_truth(_reader().read(decode(jpeg)), truth)


def test_erased_marks_are_not_read_as_answers() -> None:
    jpeg, truth = scan(1, student(22), 22, erase_rate=1.0, distortion=Distortion(noise=4, jpeg_quality=70))
    erased = [k for k, v in truth["styles"].items() if v == "erased"]
    assert len(erased) >= 30
    result = _reader().read(decode(jpeg))
    _assert_reads_truth(result, truth)
    for code in _codes(result):
        assert code == "ambiguous"  # a dark erasure may be looked at again, but is never an answer


def test_a_blank_answer_reads_as_empty_and_scores_nothing() -> None:
    st = student(23)
    st.answers.update({1: "", 31: ""})
    jpeg, truth = scan(1, st, 23)
    result = _reader().read(decode(jpeg))
    assert result.answers[1] == "" and result.answers[31] == ""
    assert result.confidence[1] > 0.9
    _assert_reads_truth(result, truth)


def test_two_marks_on_a_single_choice_go_to_review() -> None:
    st = student(24)
    st.answers[3] = "AC"
    jpeg, _ = scan(1, st, 24, erase_rate=0)
    result = _reader().read(decode(jpeg))
    assert result.answers[3] == "AC"
    assert [(r.code, r.question) for r in result.review] == [("multiple_marks", 3)]
    assert result.confidence[3] <= 0.5
    assert result.review[0].message == "只能选一项的题（单选、判断）涂了多个选项：第 3 题 AC"


def test_several_marks_on_a_multiple_choice_are_one_answer() -> None:
    st = student(25)
    st.answers[31], st.answers[32] = "ABCD", "BD"
    jpeg, _ = scan(1, st, 25)
    result = _reader().read(decode(jpeg))
    assert (result.answers[31], result.answers[32]) == ("ABCD", "BD")
    assert not result.review


def test_an_id_digit_with_two_marks_is_unreadable_not_guessed() -> None:
    layout, _ = example_sheet()
    st = student(26)
    img, truth = _filled(layout, st, 26)
    # a second digit pencilled in the third position of the ID
    from zhixiao.omr.engine.synth import _pencil

    other = next(b for b in layout.bubbles if b.kind == "id" and b.position == 2 and str(b.digit) != st.student_id[2])
    _pencil(img, other, 200 / 25.4, random.Random(1), "full")
    result = _reader().read(_jpeg_round_trip(img))
    assert result.student_id is None
    assert result.id_read[2] == "?" and result.id_read[:2] == truth["student_id"][:2]
    assert "id_unreadable" in _codes(result)


def test_an_empty_id_grid_goes_to_review() -> None:
    layout, _ = example_sheet()
    st = Student("", student(27).answers)
    img, _ = _filled(layout, Student(" " * layout.id_digits, st.answers), 27)
    result = _reader().read(_jpeg_round_trip(img))
    assert result.student_id is None
    assert [r.message for r in result.review if r.code == "id_unreadable"] == ["考号无法识别：未填涂"]


def test_a_preprinted_sheet_reads_its_printed_id_and_a_pencilled_extra_digit_is_caught() -> None:
    layout, pages = preprinted("2026010101")
    answers = student(28).answers
    from zhixiao.omr.engine.synth import ScanMaker

    img, _ = ScanMaker(layout, {200: pages}).fill(1, Student(" " * layout.id_digits, answers), random.Random(28), 200)
    result = SheetReader(layout).read(_jpeg_round_trip(img))
    assert (result.student_id, result.qr_student_id) == ("2026010101", "2026010101")
    assert not result.review
    # someone else's digit pencilled into the printed grid: unreadable, never silently another student
    img2, _ = ScanMaker(layout, {200: pages}).fill(1, Student("2026010102", answers), random.Random(2), 200)
    other = SheetReader(layout).read(_jpeg_round_trip(img2))
    assert other.id_read == "202601010?" and _codes(other) == {"id_unreadable"}


def test_an_id_pencilled_on_a_sheet_whose_qr_names_another_student_goes_to_review() -> None:
    layout = drawn.drawn_layout(pages=1)
    from zhixiao.omr.engine.synth import ScanMaker, random_student

    maker = ScanMaker(layout, {200: [drawn.draw(layout, 1, 200, student_id="777777")]})
    st = random_student(layout, random.Random(3))
    img, _ = maker.fill(1, st, random.Random(3), 200)
    result = SheetReader(layout).read(img)
    assert result.qr_student_id == "777777" and result.student_id == st.student_id
    assert _codes(result) == {"id_mismatch"}
    blank, _ = maker.fill(1, Student("      ", st.answers), random.Random(3), 200)
    assert SheetReader(layout).read(blank).student_id == "777777"


def test_written_answer_boxes_are_cropped_upright_at_150_dpi() -> None:
    layout, _ = example_sheet()
    jpeg, truth = scan(2, student(29), 29, distortion=Distortion(upside_down=True, rotation=3.0))
    result = _reader().read(decode(jpeg))
    assert result.page == 2 and truth["student_id"] is None and result.student_id is None
    assert not result.review  # page 2 has no ID grid: nothing to review
    boxes = layout.boxes_on(2)
    assert sorted(result.crops) == sorted(b.question for b in boxes)
    for box in boxes:
        crop = result.crops[box.question]
        assert crop.shape == (round(box.h * 150 / 25.4), round(box.w * 150 / 25.4))
        # upright and in place: the box's printed frame runs along the crop's edges, the inside is paper
        edge = np.concatenate([crop[:3].ravel(), crop[-3:].ravel(), crop[:, :3].ravel(), crop[:, -3:].ravel()])
        assert edge.mean() < crop[20:-20, crop.shape[1] // 2 :].mean() - 25
        # the question number is printed at the top left, not the bottom right
        assert crop[5:40, 5:80].min() < 100 and crop[-40:-5, -80:-5].min() > 100


def test_a_missing_marker_is_estimated_from_the_other_three() -> None:
    layout, _ = example_sheet()
    st = student(30)
    img, truth = _filled(layout, st, 30)
    br = layout.pages[0].markers[2]
    ppm = 200 / 25.4
    x0, y0 = round((br.x - br.size) * ppm), round((br.y - br.size) * ppm)
    img[y0 : y0 + round(2 * br.size * ppm), x0 : x0 + round(2 * br.size * ppm)] = 255  # torn off
    out = distort(img, Distortion(rotation=2.5, jpeg_quality=80), random.Random(3))
    result = _reader().read(_jpeg_round_trip(out), review_dpi=100)
    assert result.markers_found == 3
    assert "marker_estimated" in _codes(result)
    _assert_reads_truth(result, truth)
    # the reviewer's image: the whole page, upright (its top-left marker's black at the top left)
    assert result.page_image is not None and result.page_image.shape == (1169, 827)
    tl = layout.pages[0].markers[0]
    assert result.page_image[round(tl.y * 100 / 25.4), round((tl.x - tl.size / 2 + 1) * 100 / 25.4)] < 100
    assert _reader().page_image(_jpeg_round_trip(out)) is not None


def test_two_missing_markers_mean_no_markers() -> None:
    layout, _ = example_sheet()
    img, _ = _filled(layout, student(31), 31)
    ppm = 200 / 25.4
    for m in layout.pages[0].markers[:2]:
        x0, y0 = round((m.x - m.size) * ppm), round((m.y - m.size) * ppm)
        img[y0 : y0 + round(2 * m.size * ppm), x0 : x0 + round(2 * m.size * ppm)] = 255
    result = _reader().read(_jpeg_round_trip(img))
    assert _codes(result) == {"no_markers"} and result.page is None and not result.answers


def test_an_unreadable_qr_code_is_said_and_the_page_still_read() -> None:
    layout, _ = example_sheet()
    img, truth = _filled(layout, student(32), 32)
    qr = layout.pages[0].qr
    assert qr is not None
    ppm = 200 / 25.4
    x0, y0 = round((qr.x - qr.size / 2) * ppm), round((qr.y - qr.size / 2) * ppm)
    cv2.rectangle(img, (x0, y0), (x0 + round(qr.size * ppm), y0 + round(qr.size * ppm / 2)), 0, -1)  # inked over
    result = _reader().read(_jpeg_round_trip(img))
    assert "no_qr" in _codes(result)
    assert result.page == 1 and result.student_id == truth["student_id"]
    assert {str(k): v for k, v in result.answers.items()} == truth["answers"]


def test_without_its_qr_code_a_written_answers_page_is_known_by_its_boxes() -> None:
    layout, _ = example_sheet()
    from zhixiao.omr.tests.scans import maker

    img, _ = maker(dpi=200).fill(2, student(33), random.Random(33), 200)
    qr = layout.pages[1].qr
    assert qr is not None
    ppm = 200 / 25.4
    x0, y0 = round((qr.x - qr.size / 2) * ppm), round((qr.y - qr.size / 2) * ppm)
    img[y0 : y0 + round(qr.size * ppm), x0 : x0 + round(qr.size * ppm)] = 255  # torn off
    result = _reader().read(_jpeg_round_trip(img))
    assert result.page == 2 and _codes(result) == {"no_qr"}
    assert "按版面推断为第 2 页" in result.review[0].message
    assert sorted(result.crops) == sorted(b.question for b in layout.boxes_on(2))


def test_an_a3_sheet_reads_like_an_a4_one() -> None:
    from zhixiao.omr.engine.paper import load_paper
    from zhixiao.omr.engine.sheet import make_sheet
    from zhixiao.omr.engine.synth import ScanMaker, random_student, render_pdf
    from zhixiao.omr.tests.scans import EXAMPLE

    sheet = make_sheet(load_paper(EXAMPLE).with_paper_size("A3"))
    layout = load_layout(sheet.layout())
    assert layout.page_size_mm == (420.0, 297.0) and layout.page_count == 1
    rng = random.Random(34)
    st = random_student(layout, rng)
    maker = ScanMaker(layout, {150: render_pdf(sheet.pdf, 150)})
    jpeg, truth = maker.scan(1, st, rng, dpi=150, distortion=Distortion(rotation=-3, upside_down=True, noise=4))
    result = SheetReader(layout).read(decode(jpeg))
    assert result.student_id == st.student_id and result.rotation == 180
    assert {str(k): v for k, v in result.answers.items()} == truth["answers"]
    assert sorted(result.crops) == [b.question for b in layout.boxes]


def test_a_blank_page_and_a_page_without_markers_are_told_apart() -> None:
    rng = np.random.default_rng(1)
    blank = np.clip(rng.normal(235, 4, (2339, 1654)), 0, 255).astype(np.uint8)
    assert _codes(_reader().read(blank)) == {"blank_page"}
    text = blank.copy()
    for i in range(60):
        cv2.putText(
            text, "Homework page, no answer sheet " * 2, (40, 60 + 37 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2
        )
    assert _codes(_reader().read(text)) == {"no_markers"}


def test_another_exams_sheet_is_refused_with_its_qr_code() -> None:
    other = drawn.drawn_layout(exam_code="GK2025M3", pages=1)
    img = drawn.draw(other, 1, 200)
    result = _reader().read(img)
    assert _codes(result) == {"wrong_exam"}
    assert result.exam_code == "GK2025M3" and not result.answers
    assert "不是本场考试" in result.review[0].message


def test_any_sheet_that_follows_the_layout_contract_reads() -> None:
    """A layout written by hand and drawn without our PDF generator."""
    layout = drawn.drawn_layout()
    from zhixiao.omr.engine.synth import ScanMaker, random_student

    maker = ScanMaker(layout, {200: [drawn.draw(layout, p, 200) for p in (1, 2)]})
    rng = random.Random(5)
    st = random_student(layout, rng)
    jpeg, truth = maker.scan(1, st, rng, distortion=Distortion(rotation=-2, upside_down=True, jpeg_quality=60))
    result = SheetReader(layout).read(decode(jpeg))
    assert result.student_id == st.student_id
    assert {str(k): v for k, v in result.answers.items()} == truth["answers"]


def test_a_bad_layout_is_refused_with_every_problem_in_chinese() -> None:
    data = drawn.small_layout()
    data["format"] = "something/2"
    data["pages"][0]["markers"] = data["pages"][0]["markers"][:3]
    data["bubbles"][0]["kind"] = "circle"
    data["answer_key"]["1"] = "Z"
    with pytest.raises(LayoutError) as info:
        load_layout(data)
    text = "\n".join(info.value.problems)
    assert "版面格式应为“zhixiao-omr-layout/1”" in text
    assert "应有编号 0、1、2、3 的四个定位标记" in text
    assert "应为 option 或 id" in text
    assert "第 1 题的答案“Z”含有不存在的选项" in text
    with pytest.raises(LayoutError, match="找不到版面文件"):
        load_layout("/nonexistent/SHEET.layout.json")


# -- helpers -------------------------------------------------------------------------------------------------


def _filled(layout, st: Student, seed: int):  # type: ignore[no-untyped-def]
    from zhixiao.omr.tests.scans import maker

    return maker(dpi=200).fill(1, st, random.Random(seed), 200)


def _jpeg_round_trip(img: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return decode(buf.tobytes())
