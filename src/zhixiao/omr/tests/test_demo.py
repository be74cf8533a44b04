"""The demo's 阅卷: the example paper with one class's scans read, review items, double marking under way with
answers waiting for the head marker, and scores — built in a few seconds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from zhixiao.omr import demo, services
from zhixiao.omr.models import AnswerSheet, BatchStatus, CropStatus, ReviewItem
from zhixiao.people import selectors as people_selectors

pytestmark = pytest.mark.django_db


def test_the_demo_reads_a_class_and_starts_marking(account_for: Any) -> None:
    admin = account_for("school_admin")
    school_id = people_selectors.home_school_id(admin)
    assert school_id
    a, b, head = account_for("subject_teacher"), account_for("homeroom_teacher"), account_for("grade_head")
    started = time.monotonic()
    paper = demo.build(school_id=school_id, markers=[a, b], head_marker=head, sheets=6)
    seconds = time.monotonic() - started
    assert paper is not None and paper.subject == "生物"
    batch = paper.batches.get()
    assert batch.status == BatchStatus.DONE and batch.students == 7
    assert AnswerSheet.objects.filter(paper=paper, student_id__isnull=False).count() >= 5
    assert ReviewItem.objects.filter(paper=paper, code="unknown_student").exists()
    q41 = next(r for r in services.progress_by_question(paper) if r["question"] == 41)
    assert q41["total"] == 7 and q41["done"] + q41["arbitration"] == 4
    assert paper.crops.filter(question=42, status=CropStatus.DONE).count() == 4
    assert seconds < 30, seconds
