"""`zhixiao flows`: a school's flows out as YAML or JSON and back in; a broken file saves nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from zhixiao.org.models import School
from zhixiao.workflow.models import Definition

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("zx_flows", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_flows_move_from_one_school_to_another_as_yaml_and_json(tmp_path: Path) -> None:
    first, second = School.objects.order_by("pk")[:2]
    listing = _run("list", "--school", first.code)
    assert "teacher_leave\t教师请假\tv1\t启用" in listing and listing.count("\n") == 6
    every = _run("export", "--school", first.code)
    assert every.startswith("- key: ") and "年级组长审批" in every
    as_json = json.loads(_run("export", "--school", first.code, "--key", "repair", "--format", "json"))
    assert as_json["key"] == "repair" and as_json["steps"][0]["id"] == "it_centre"

    Definition.objects.filter(school=second).delete()
    path = tmp_path / "flows.yaml"
    path.write_text(every, encoding="utf-8")
    imported = _run("import", "--school", second.code, "--file", str(path))
    assert imported.count("\tv1") == 6
    assert set(Definition.objects.filter(school=second).values_list("key", flat=True)) == {
        "teacher_leave",
        "student_leave",
        "repair",
        "seal",
        "vehicle",
        "general",
    }


def test_a_broken_file_is_refused_with_its_reasons_and_saves_nothing(tmp_path: Path) -> None:
    school = School.objects.order_by("pk").first()
    assert school is not None
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- key: ok_flow\n  name: 好\n  steps: [{id: a, approvers: [{rule: principal}]}]\n"
        "- key: loop\n  name: 环\n  steps: [{id: a, approvers: [{rule: principal}], next: a}]\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("zx_flows", "import", "--school", school.code, "--file", str(path), stdout=StringIO(), stderr=err)
    assert "循环" in err.getvalue()
    assert not Definition.objects.filter(key__in=["ok_flow", "loop"]).exists()
