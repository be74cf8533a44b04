"""阅卷 for the demo school: the example paper (高三一模 生物) with its sheet, scans of one class made by the engine's
synthesiser (a little crooked, some upside down, one sheet with a 考号 the school does not know) read at once,
question 41 double-marked by two teachers (a few answers far apart wait for the head marker) and question 42
half marked, so every page of 阅卷 has something to show."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile

from zhixiao.people import selectors as people_selectors

from . import services
from .engine.synth import Distortion, ScanMaker, random_student, render_pdf
from .models import AnswerCrop, ExamPaper

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "omr" / "paper.json"
SHEETS = 12
UNKNOWN_NUMBER = "9000000001"


def build(
    *, school_id: int, markers: list[Any], head_marker: Any, sheets: int = SHEETS, seed: int = 7
) -> ExamPaper | None:
    """The paper, one batch of `sheets` students' scans (+1 unknown 考号), assignments and some marks (`markers`:
    two staff accounts of the school; `head_marker` another). None when the example paper is not shipped (an
    installed wheel without examples/)."""
    if not EXAMPLE.exists() or len(markers) < 2:
        return None
    rng = random.Random(seed)
    paper = services.create_paper(actor=None, school_id=school_id, source=EXAMPLE.read_bytes())
    layout = services.layout_of(paper)
    pdf = services.sheet_pdf(actor=None, paper_id=paper.pk).data
    maker = ScanMaker(layout, {150: render_pdf(pdf, 150)}, faint_rate=0.02, half_rate=0.02, erase_rate=0.02)
    digits = layout.id_digits
    students = people_selectors.enrolled_students_of(school_id=school_id)[:sheets]
    numbers = [services.exam_number(s["student_no"], digits) for s in students] + [UNKNOWN_NUMBER]
    files = []
    for i, number in enumerate(numbers):
        student = random_student(layout, rng, blank_rate=0.02)
        student.student_id = number
        for page in range(1, layout.page_count + 1):
            distortion = Distortion(rotation=rng.uniform(-2, 2), upside_down=rng.random() < 0.1, jpeg_quality=80)
            jpeg, _truth = maker.scan(page, student, rng, dpi=150, distortion=distortion)
            files.append(ContentFile(jpeg, name=f"scan-{i + 1:03d}-{page}.jpg"))
    batch = services.upload_scans(actor=None, paper_id=paper.pk, files=files)
    services.read_batch(batch_id=batch.pk)
    _mark(paper, markers[0], markers[1], head_marker, rng)
    return paper


def _mark(paper: ExamPaper, a: Any, b: Any, head_marker: Any, rng: random.Random) -> None:
    written = services.written_questions(paper)
    if len(written) < 2:
        return
    (q1, full1), (q2, full2) = written[0], written[1]
    services.save_assignment(
        actor=None,
        paper_id=paper.pk,
        question=q1,
        marker_ids=[a.pk, b.pk],
        head_marker_id=head_marker.pk,
        double_marking=True,
        tolerance="2",
    )
    services.save_assignment(
        actor=None, paper_id=paper.pk, question=q2, marker_ids=[a.pk], head_marker_id=head_marker.pk
    )
    step = paper.score_step
    crops = list(AnswerCrop.objects.filter(paper=paper, question=q1).order_by("pk"))
    for crop in crops[: max(1, len(crops) * 2 // 3)]:
        score = _score(rng, full1, step)
        services.submit_mark(actor=a, crop_id=crop.pk, score=score)
        apart = rng.random() < 0.3
        other = _score(rng, full1, step) if apart else min(full1, score + step * rng.randint(0, 2))
        services.submit_mark(actor=b, crop_id=crop.pk, score=other)
    for crop in list(AnswerCrop.objects.filter(paper=paper, question=q2).order_by("pk"))[::2]:
        services.submit_mark(actor=a, crop_id=crop.pk, score=_score(rng, full2, step))


def _score(rng: random.Random, full: Decimal, step: Decimal) -> Any:
    return step * rng.randint(0, int(full / step))
