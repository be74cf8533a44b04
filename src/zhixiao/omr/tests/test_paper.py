"""Paper definitions: the shipped example reads as a real 高三 mock, bad input is refused with every problem
named in Chinese, and objective scoring follows the multiple-choice rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from zhixiao.omr.engine.paper import Paper, PaperError, load_paper, parse_paper, score_objective

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "omr" / "paper.json"


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "exam": "2026届高三第一次模拟考试",
        "exam_code": "GK2026M1",
        "subject": "物理",
        "subject_code": "phys",
        "sections": [
            {
                "title": "一、选择题",
                "questions": [
                    {"from": 1, "to": 4, "type": "single", "options": 4, "score": 3},
                    {"no": 5, "type": "multiple", "options": 5, "score": 6, "partial": 3},
                    {"no": 6, "type": "truefalse", "score": 2},
                ],
            },
            {"title": "二、非选择题", "questions": [{"no": 7, "type": "written", "score": 12, "height_mm": 60}]},
        ],
        "answer_key": {"1": "A", "2": "b", "5": "ACD", "6": "对"},
    }
    data.update(changes)
    return data


def problems_of(data: Any) -> list[str]:
    with pytest.raises(PaperError) as info:
        parse_paper(data)
    return info.value.problems


def test_the_example_is_a_high_school_mock_with_forty_objective_and_six_written_questions() -> None:
    paper = load_paper(EXAMPLE)
    kinds = [q.type for q in paper.questions]
    assert kinds.count("single") + kinds.count("multiple") == 40
    assert kinds.count("single") > 0 and kinds.count("multiple") > 0
    assert kinds.count("written") == 6
    assert all(q.options == ("A", "B", "C", "D") for q in paper.questions if q.type == "single")
    assert all(q.partial is not None and 0 < q.partial < q.score for q in paper.questions if q.type == "multiple")
    assert paper.id.digits == 10 and paper.id.label == "考号"
    assert paper.total_score == 150
    assert set(paper.answer_key) == {q.no for q in paper.questions if q.objective}
    assert [q.no for q in paper.questions] == list(range(1, 47))


def test_a_valid_paper_reads_ranges_defaults_and_normalises_the_key() -> None:
    paper = parse_paper(minimal())
    assert [q.no for q in paper.questions] == [1, 2, 3, 4, 5, 6, 7]
    assert paper.paper_size == "A4" and paper.id.digits == 10 and paper.school == ""
    assert paper.question(5).options == ("A", "B", "C", "D", "E")
    assert paper.question(6).options == ("T", "F")
    assert paper.question(7).height_mm == 60 and paper.question(7).section == "二、非选择题"
    assert paper.answer_key == {1: "A", 2: "B", 5: "ACD", 6: "T"}
    assert paper.total_score == 3 * 4 + 6 + 2 + 12


def test_every_problem_is_listed_at_once_naming_the_field() -> None:
    data = minimal(exam_code="GK|2026", id={"digits": 30})
    del data["subject"]
    data["sections"][0]["questions"].append({"no": 8, "type": "single", "options": 9, "score": 3})
    problems = problems_of(data)
    assert "缺少 subject（科目名称）" in problems
    assert any(p.startswith("exam_code：") and "“|”" in p for p in problems)
    assert "id.digits：考号位数应为 4–20，实为 30" in problems
    assert "第 1 节第 4 题（题号 8）：选项数应为 2–7，实为 9" in problems
    assert len(problems) == 4
    message = str(PaperError(problems))
    assert message.count("\n") == 3


def test_a_pipe_in_the_subject_code_is_refused_because_the_qr_code_uses_it() -> None:
    assert any("subject_code" in p and "|" in p for p in problems_of(minimal(subject_code="ph|ys")))


def test_unknown_question_type() -> None:
    data = minimal()
    data["sections"][0]["questions"][2]["type"] = "essay"
    expected = "第 1 节第 3 题（题号 6）：未知题型 'essay'（应为 single、multiple、truefalse 或 written）"
    assert problems_of(data) == [expected]


def test_duplicate_question_numbers() -> None:
    data = minimal()
    data["sections"][1]["questions"][0]["no"] = 3
    problems = problems_of(data)
    assert problems == ["题号 3 重复（“一、选择题”与“二、非选择题”）"]


@pytest.mark.parametrize("options", [1, 8, 9, "4", 4.5, True])
def test_option_counts_outside_two_to_seven(options: Any) -> None:
    data = minimal()
    data["sections"][0]["questions"][0]["options"] = options
    assert problems_of(data) == [f"第 1 节第 1 题（题号 1–4）：选项数应为 2–7，实为 {options!r}"]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("exam", "缺少 exam（考试名称）"),
        ("exam_code", "缺少 exam_code（考试代码）"),
        ("subject_code", "缺少 subject_code（科目代码）"),
        ("sections", "sections：至少要有一节（大题），每节含 title 与 questions"),
    ],
)
def test_missing_top_level_fields(field: str, message: str) -> None:
    data = minimal()
    del data[field]
    assert message in problems_of(data)


def test_missing_question_fields() -> None:
    data = minimal()
    questions = data["sections"][0]["questions"]
    del questions[0]["score"]
    del questions[1]["partial"]
    del questions[2]["type"]
    del data["sections"][1]["questions"][0]["height_mm"]
    data["sections"][1]["questions"].append({"type": "written", "score": 3, "height_mm": 30})
    problems = problems_of(data)
    assert "第 1 节第 1 题（题号 1–4）：缺少 score（分值）" in problems
    assert "第 1 节第 2 题（题号 5）：多选题缺少 partial（部分选对且无错选时的得分）" in problems
    assert any(p.startswith("第 1 节第 3 题（题号 6）：缺少 type") for p in problems)
    assert "第 2 节第 1 题（题号 7）：主观题缺少 height_mm（作答区高度，毫米）" in problems
    assert "第 2 节第 2 题：缺少题号 no（或题号范围 from/to）" in problems


def test_partial_score_must_be_below_the_full_score_and_only_for_multiple_choice() -> None:
    data = minimal()
    data["sections"][0]["questions"][1]["partial"] = 6
    data["sections"][0]["questions"][0]["partial"] = 1
    problems = problems_of(data)
    assert "第 1 节第 2 题（题号 5）：partial（6）应小于该题分值（6）" in problems
    assert "第 1 节第 1 题（题号 1–4）：只有多选题可以设 partial" in problems


def test_answer_key_must_fit_its_question() -> None:
    data = minimal(answer_key={"1": "AB", "2": "E", "5": "AAC", "6": "maybe", "7": "A", "99": "A", "x": "B"})
    problems = problems_of(data)
    assert "answer_key：第 1 题（单选题）的答案 'AB' 无效，应为 A–D 中的一个字母" in problems
    assert "answer_key：第 2 题（单选题）的答案 'E' 无效，应为 A–D 中的一个字母" in problems
    assert "answer_key：第 5 题（多选题）的答案 'AAC' 无效，应为 A–E 中不重复的一个或多个字母" in problems
    assert "answer_key：第 6 题（判断题）的答案 'maybe' 无效，应为 T（对）或 F（错）" in problems
    assert "answer_key：第 7 题是主观题，没有标准答案选项" in problems
    assert "answer_key：第 99 题不存在" in problems
    assert "answer_key：'x' 不是题号" in problems


def test_objective_and_written_questions_go_in_separate_sections() -> None:
    data = minimal()
    data["sections"][0]["questions"].append({"no": 9, "type": "written", "score": 5, "height_mm": 30})
    assert "第 1 节：选择题（含判断题）与主观题请分节，不要放在同一节" in problems_of(data)


def test_unknown_fields_and_bad_paper_size_are_named() -> None:
    data = minimal(paper_size="B5", colour="red")
    data["sections"][0]["questions"][0]["optoins"] = 4
    problems = problems_of(data)
    assert "未知字段 'colour'" in problems
    assert "paper_size：纸张应为 A4 或 A3，实为 'B5'" in problems
    assert "第 1 节第 1 题（题号 1–4）：未知字段 'optoins'" in problems


def test_files_that_are_not_json_objects(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"exam": ', encoding="utf-8")
    with pytest.raises(PaperError, match="不是有效的 JSON：第 1 行"):
        load_paper(broken)
    with pytest.raises(PaperError, match="无法读取试卷定义"):
        load_paper(tmp_path / "missing.json")
    assert problems_of([1, 2]) == ["试卷定义应为 JSON 对象（{…}）"]


# ---------------------------------------------------------------------------------------------------------
# Scoring


@pytest.fixture
def paper() -> Paper:
    return parse_paper(minimal())


def test_multiple_choice_all_right_some_right_any_wrong(paper: Paper) -> None:
    def q5(answer: str | None) -> float:
        return score_objective(paper, {5: answer})[5]

    assert q5("ACD") == 6  # all right
    assert q5("DCA") == 6  # order does not matter
    assert q5("AD") == 3  # some right, none wrong
    assert q5("C") == 3
    assert q5("ACDE") == 0  # one wrong spoils it
    assert q5("AB") == 0
    assert q5("") == 0 and q5(None) == 0  # blank


def test_single_choice_and_true_false(paper: Paper) -> None:
    scores = score_objective(paper, {1: "A", 2: "C", 6: "T"})
    assert scores == {1: 3, 2: 0, 5: 0, 6: 2}  # only questions with a key are scored
    assert score_objective(paper, {1: "AB"})[1] == 0  # two marks on a single choice
    assert score_objective(paper, {1: "Z"})[1] == 0
    assert score_objective(paper, {6: "F"})[6] == 0


def test_a_corrected_key_rescores_everything(paper: Paper) -> None:
    answers = {1: "A", 2: "C", 5: "AC", 6: "T"}
    assert sum(score_objective(paper, answers).values()) == 3 + 0 + 3 + 2
    corrected = paper.with_answer_key({"1": "A", "2": "C", "5": "AC", "6": "T"})
    assert score_objective(corrected, answers) == {1: 3, 2: 3, 5: 6, 6: 2}
    assert score_objective(paper, answers, key={2: "C"}) == {2: 3}
    with pytest.raises(PaperError, match="第 2 题"):
        paper.with_answer_key({"2": "CD"})


def test_example_round_trips_through_json(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    again = tmp_path / "paper.json"
    again.write_text(json.dumps(copy.deepcopy(data), ensure_ascii=False), encoding="utf-8")
    assert load_paper(again) == load_paper(EXAMPLE)
