"""考试 for the demo school: a published mid-term of the grade with the most students (语文, 数学, 英语 of 150,
物理, 化学, 生物 of 100), scores drawn from each student's ability plus noise, a few 缺考 and one 免考, so the
analysis page has something to show at once."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

from django.db import transaction

from zhixiao.org import selectors as org_selectors

from . import services
from .models import Exam, Score, ScoreStatus

SUBJECTS = (("语文", 150), ("数学", 150), ("英语", 150), ("物理", 100), ("化学", 100), ("生物", 100))


def build(*, school_id: int, seed: int = 8, today: dt.date | None = None) -> Exam | None:
    classes = org_selectors.class_rows(school_id=school_id)
    if not classes:
        return None
    from zhixiao.people import selectors as people_selectors

    grade_of: dict[int, int] = {c["id"]: c["grade_id"] for c in classes}
    sizes: Counter[int] = Counter(
        grade_of[s["admin_class_id"]]
        for s in people_selectors.enrolled_students_of(school_id=school_id)
        if s["admin_class_id"] in grade_of
    )
    if not sizes:
        return None
    grade_id = sizes.most_common(1)[0][0]
    today = today or dt.date.today()
    rng = random.Random(seed)
    with transaction.atomic():
        exam = services.create_exam(
            actor=None,
            school_id=school_id,
            name="期中考试",
            kind="midterm",
            grade_id=grade_id,
            date=today - dt.timedelta(days=14),
            subjects=[services.SubjectSpec(n, Decimal(f)) for n, f in SUBJECTS],
        )
        subjects = list(exam.subjects.all())
        rows = []
        class_level = {cid: rng.gauss(0, 0.04) for cid in {s.class_id for s in exam.students.all()}}
        for st in exam.students.all():
            ability = min(max(rng.gauss(0.68, 0.13) + class_level[st.class_id], 0.1), 0.98)
            for sub in subjects:
                roll = rng.random()
                if roll < 0.01:
                    rows.append(
                        Score(
                            school_id=school_id, exam=exam, exam_subject=sub, exam_student=st, status=ScoreStatus.ABSENT
                        )
                    )
                    continue
                share = min(max(ability + rng.gauss(0, 0.08), 0.0), 1.0)
                value = (Decimal(str(round(share * float(sub.full_marks) * 2) / 2))).quantize(Decimal("0.1"))
                rows.append(Score(school_id=school_id, exam=exam, exam_subject=sub, exam_student=st, value=value))
        if rows:
            first = rows[-1]
            first.status, first.value = ScoreStatus.EXEMPT, None
        Score.objects.bulk_create(rows)
        services.lock_exam(actor=None, exam_id=exam.pk)
        return services.publish_exam(actor=None, exam_id=exam.pk)
