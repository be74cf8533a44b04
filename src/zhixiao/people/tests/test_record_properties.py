"""Properties of the checks every imported cell goes through: resident IDs (GB 11643 check digit) and
the student record check, over generated input rather than a few examples."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhixiao.kernel import identifiers
from zhixiao.people.records import Checker, Problem, check_guardian, check_staff, check_student

from .workbooks import DIVISIONS, resident_id

births = st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date.today())
ids = st.builds(
    lambda division, birth, seq, male: (resident_id(division, birth, seq, male=male), birth, male),
    st.sampled_from(DIVISIONS),
    births,
    st.integers(min_value=0, max_value=499),
    st.booleans(),
)


@given(ids)
def test_every_generated_resident_id_passes_and_tells_birth_date_and_sex(generated):
    number, birth, male = generated
    parsed = identifiers.parse_resident_id(number)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.sex_code == ("1" if male else "2")


@given(ids, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(generated, position, replacement):
    number = generated[0]
    if replacement == number[position] or (replacement == "X" and position < 17):
        replacement = str((int(number[position]) + 1) % 10) if number[position] != "X" else "0"
    changed = number[:position] + replacement + number[position + 1 :]
    assert changed != number
    with pytest.raises(ValueError, match="身份证号"):
        identifiers.parse_resident_id(changed)


@given(ids)
def test_lower_case_x_and_blanks_around_are_accepted(generated):
    number = generated[0]
    assert identifiers.parse_resident_id(f"  {number.lower()} ").number == number


# --- the record check never raises, whatever a spreadsheet holds ----------------------------------
STUDENT_FIELDS = (
    "student_no",
    "name",
    "gender",
    "id_type",
    "id_number",
    "birth_date",
    "ethnicity",
    "household_type",
    "boarding",
    "status",
    "status_since",
    "enrolled_on",
    "address",
)
cell_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=string.digits + "X-/. 年月日", max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.booleans(),
)
plausible = st.fixed_dictionaries(
    {},
    optional={
        "student_no": st.text(alphabet=string.ascii_letters + string.digits, max_size=34),
        "gender": st.sampled_from(["男", "女", "1", "2", "0", "9", "", "男性"]),
        "birth_date": st.one_of(st.dates(), st.text(alphabet=string.digits + "-", max_size=10)),
        "id_number": st.one_of(ids.map(lambda g: g[0]), st.text(alphabet=string.digits + "Xx", max_size=19)),
        "ethnicity": st.sampled_from(["汉", "汉族", "01", "回族", "火星族", ""]),
    },
)


def _assert_only_problems(checker: Checker) -> None:
    assert isinstance(checker, Checker)
    for p in checker.problems:
        assert isinstance(p, Problem)
        assert isinstance(p.reason, str) and p.reason
        assert isinstance(p.value, str)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(STUDENT_FIELDS), cell_values))
def test_check_student_never_raises_on_arbitrary_cells(raw):
    _assert_only_problems(check_student(raw))


@settings(max_examples=300)
@given(plausible)
def test_check_student_on_near_valid_records_returns_problems_or_clean_values(raw):
    checked = check_student(raw)
    _assert_only_problems(checked)
    if not checked.problems:
        assert checked.cleaned["student_no"] and checked.cleaned["name"] is not None
        assert isinstance(checked.cleaned["birth_date"], dt.date)


@given(st.dictionaries(st.sampled_from(("name", "relation", "mobile", "may_notify")), cell_values))
def test_check_guardian_never_raises(raw):
    _assert_only_problems(check_guardian(raw))


@given(
    st.dictionaries(st.sampled_from((*STUDENT_FIELDS, "staff_no", "mobile", "post", "title", "hired_on")), cell_values)
)
def test_check_staff_never_raises(raw):
    _assert_only_problems(check_staff(raw))


@given(st.text(min_size=1, max_size=30))
def test_names_that_a_spreadsheet_would_run_as_formulas_are_refused(tail):
    for start in "=+-@":
        checked = check_student({"name": start + tail})
        assert any(p.field == "name" for p in checked.problems)
