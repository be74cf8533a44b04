"""A real browser: a homeroom teacher opens her class roster and sees her students, is refused another
class; a guardian sees her own child only; the roster on a phone; English on request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zhixiao.org.models import AdminClass
from zhixiao.people import selectors as people_selectors
from zhixiao.people.models import Student

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _log_in(page: Any, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/account/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{site}/")


def test_homeroom_teacher_sees_her_class_and_is_refused_another(site, browser_page, login_for, account_for):
    page = browser_page
    demo = login_for("homeroom_teacher")
    teacher = account_for("homeroom_teacher")
    own = AdminClass.objects.get(homeroom_teacher=teacher)
    _log_in(page, site, demo.username, demo.password)

    page.click(f"a.card[href='/people/classes/{own.pk}/roster/']")
    page.wait_for_url(f"{site}/people/classes/{own.pk}/roster/")
    roster = people_selectors.class_roster(actor=teacher, class_id=own.pk)
    expected = list(roster.values_list("name", flat=True))
    assert expected
    body = page.inner_text("main")
    for name in expected:
        assert name in body
    strangers = Student.objects.exclude(admin_class=own).values_list("name", flat=True)[:50]
    assert not [n for n in strangers if n not in expected and n in body]
    html = page.content()
    for student_no, id_number in roster.values_list("student_no", "id_number"):
        # masked on the page, and so is the national 学籍号 that embeds it (G + ID number)
        assert id_number not in html
        assert student_no not in html

    other = AdminClass.objects.exclude(pk=own.pk).order_by("pk").first()
    assert other is not None
    response = page.goto(f"{site}/people/classes/{other.pk}/roster/")
    assert response.status == 403
    assert "没有权限" in page.inner_text("main")


def test_guardian_sees_her_child_only(site, browser_page, login_for, account_for):
    page = browser_page
    demo = login_for("guardian")
    children = list(people_selectors.children_of(actor=account_for("guardian")).values_list("name", flat=True))
    assert children
    _log_in(page, site, demo.username, demo.password)
    home = page.inner_text("main")
    for name in children:
        assert name in home
    page.goto(f"{site}/people/students/")
    listed = page.locator("main table a[href^='/people/students/']").all_inner_texts()
    assert sorted(listed) == sorted(children)


def test_roster_on_a_phone_and_in_english(site, chromium, login_for, account_for):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        demo = login_for("homeroom_teacher")
        own = AdminClass.objects.get(homeroom_teacher=account_for("homeroom_teacher"))
        _log_in(page, site, demo.username, demo.password)
        page.goto(f"{site}/people/classes/{own.pk}/roster/")
        assert page.get_attribute("html", "lang") == "zh-hans"
        # nothing wider than the phone's screen: the roster scrolls inside its own box, not the page
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "roster-mobile.png"), full_page=True)
        assert (ARTIFACTS / "roster-mobile.png").stat().st_size > 0

        with page.expect_navigation():
            page.select_option("select[name=language]", "en")
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("select[name=language] option:checked").inner_text() == "English"
        assert "Class roster" in page.inner_text("main")  # 花名册
        assert page.url.endswith(f"/people/classes/{own.pk}/roster/")
        first = Student.objects.filter(admin_class=own).order_by("student_no").first()
        assert first is not None
        assert first.name in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "roster-mobile-en.png"), full_page=True)
    finally:
        context.close()
