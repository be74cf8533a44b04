import polars as pl
import pytest

from zhixiao.academics import demo, selectors
from zhixiao.org.models import School

pytestmark = pytest.mark.django_db


def test_the_demo_school_gets_a_published_mid_term_ready_to_analyse():
    exam = demo.build(school_id=School.objects.order_by("pk").values_list("pk", flat=True)[0])
    assert exam is not None and exam.status == "published"
    assert exam.scores.count() == exam.students.count() * exam.subjects.count()
    result = selectors.analysis(exam)
    assert result is not None
    grade = result.stats.filter((pl.col("level") == "all") & (pl.col("subject") == "total")).to_dicts()[0]
    assert grade["count"] > 0 and 0 < grade["mean"] < 750
