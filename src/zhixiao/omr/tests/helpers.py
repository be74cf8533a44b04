"""A one-page paper (10 objective, 2 written questions) of the session's demo school, and scans of it filled in
for chosen 考号 by the engine's synthesiser (upright, clean enough to read every time)."""

from __future__ import annotations

import functools
import json
import random
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from zhixiao.omr import services
from zhixiao.omr.engine.layout import load_layout
from zhixiao.omr.engine.synth import Distortion, ScanMaker, Student, render_pdf
from zhixiao.omr.models import ExamPaper
from zhixiao.people import selectors as people_selectors

KEY = {**{str(i): "A" for i in range(1, 9)}, "9": "AB", "10": "CD"}
PAPER: dict[str, Any] = {
    "exam": "单元测验",
    "exam_code": "UT2026",
    "subject": "数学",
    "subject_code": "math",
    "id": {"label": "考号", "digits": 10},
    "sections": [
        {
            "title": "一、选择题",
            "questions": [
                {"from": 1, "to": 8, "type": "single", "options": 4, "score": 5},
                {"from": 9, "to": 10, "type": "multiple", "options": 4, "score": 5, "partial": 2},
            ],
        },
        {
            "title": "二、解答题",
            "questions": [
                {"no": 11, "type": "written", "score": 10, "height_mm": 40},
                {"no": 12, "type": "written", "score": 8, "height_mm": 40},
            ],
        },
    ],
    "answer_key": KEY,
}
ALL_RIGHT = {int(k): v for k, v in KEY.items()}


def definition(**changes: Any) -> str:
    return json.dumps({**PAPER, **changes}, ensure_ascii=False)


def make_paper(actor: Any, school_id: int, **changes: Any) -> ExamPaper:
    return services.create_paper(actor=actor, school_id=school_id, source=definition(**changes))


def numbers_of(school_id: int, n: int) -> list[tuple[int, str]]:
    """(student id, 考号) of the first `n` enrolled students of the school."""
    rows = people_selectors.enrolled_students_of(school_id=school_id)[:n]
    return [(r["id"], services.exam_number(r["student_no"], 10)) for r in rows]


@functools.cache
def _pages(layout_json: str, pdf: bytes) -> tuple[Any, list[Any]]:
    layout = load_layout(json.loads(layout_json))
    return layout, render_pdf(pdf, 150)


def scans(paper: ExamPaper, sheets: list[tuple[str, dict[int, str]]], *, seed: int = 1) -> list[bytes]:
    """One JPEG per (考号, answers) — the answers the student means; questions left out are blank."""
    download = services.sheet_pdf(actor=None, paper_id=paper.pk)
    layout, pages = _pages(json.dumps(paper.layout, sort_keys=True), download.data)
    maker = ScanMaker(layout, {150: pages}, faint_rate=0, half_rate=0, erase_rate=0)
    rng = random.Random(seed)
    out = []
    for number, answers in sheets:
        full = {q.no: answers.get(q.no, "") for q in layout.questions if q.objective}
        jpeg, _truth = maker.scan(1, Student(number, full), rng, dpi=150, distortion=Distortion(jpeg_quality=85))
        out.append(jpeg)
    return out


def uploads(files: list[bytes], *, names: list[str] | None = None) -> list[SimpleUploadedFile]:
    names = names or [f"scan-{i + 1}.jpg" for i in range(len(files))]
    return [SimpleUploadedFile(n, data, content_type="image/jpeg") for n, data in zip(names, files, strict=True)]
