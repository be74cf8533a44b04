"""The guardian's 人脸识别授权 page, the photo URL (a guardian of that child only), and the school's list for
those who manage its devices. Run against tests/urls.py, which mounts the pages at /faces/ as config will."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from zhixiao.faces import services, statement
from zhixiao.faces.models import FaceConsent, FaceEnrolment
from zhixiao.identity.tests.helpers import login

from .conftest import Family, png

pytestmark = [pytest.mark.django_db, pytest.mark.urls("zhixiao.faces.tests.urls")]


def _upload(data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile("me.png", png() if data is None else data, content_type="image/png")


def _enrol(family: Family) -> FaceEnrolment:
    return services.give_consent_and_enrol(
        actor=family.guardian, student_id=family.student.pk, photo=png(), statement_version=statement.VERSION
    )


def test_the_guardian_page_lists_only_my_children_with_the_statement(
    family: Family, other_family: Family, browser_of: Any
) -> None:
    page = browser_of(family.guardian).get("/faces/")
    assert page.status_code == 200
    html = page.content.decode()
    assert family.student.name in html and other_family.student.name not in html
    for words in ("敏感个人信息", "不满十四周岁", "撤回", "毕业", "校门"):
        assert words in html
    assert 'name="agree"' in html and f'value="{statement.VERSION}"' in html


def test_consent_needs_the_ticked_box(family: Family, browser_of: Any) -> None:
    browser = browser_of(family.guardian)
    url = f"/faces/children/{family.student.pk}/enrol/"
    response = browser.post(url, {"photo": _upload(), "statement_version": statement.VERSION}, follow=True)
    assert "请勾选同意授权书" in response.content.decode()
    assert not FaceConsent.objects.filter(student=family.student).exists()

    response = browser.post(url, {"photo": _upload(), "statement_version": statement.VERSION, "agree": "on"})
    assert response.status_code == 302
    enrolment = FaceEnrolment.objects.get(student=family.student, removed_at__isnull=True)
    assert bytes(enrolment.photo) == png()
    html = browser.get("/faces/").content.decode()
    assert f"/faces/photos/{enrolment.pk}/" in html and "已授权" in html


def test_a_photo_is_served_only_to_a_guardian_of_that_child(
    family: Family, other_family: Family, far_family: Family, browser_of: Any, account_for: Any, login_for: Any
) -> None:
    enrolment = _enrol(family)
    url = f"/faces/photos/{enrolment.pk}/"
    for guardian in family.guardians:
        response = browser_of(guardian).get(url)
        assert response.status_code == 200 and response.content == png()
        assert response["Content-Type"] == "image/png" and "no-store" in response["Cache-Control"]
    for stranger in (other_family.guardian, far_family.guardian, account_for("homeroom_teacher")):
        assert browser_of(stranger).get(url).status_code == 404
    for role in ("school_admin", "it_staff", "system_admin"):  # the school sees no photos either
        assert login(Client(), login_for(role)).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page

    services.withdraw_consent(actor=family.guardian, student_id=family.student.pk)
    assert browser_of(family.guardian).get(url).status_code == 404


def test_another_family_cannot_enrol_or_withdraw_through_the_pages(
    family: Family, other_family: Family, browser_of: Any
) -> None:
    stranger = browser_of(other_family.guardian)
    data = {"photo": _upload(), "statement_version": statement.VERSION, "agree": "on"}
    assert stranger.post(f"/faces/children/{family.student.pk}/enrol/", data).status_code == 404
    assert not FaceConsent.objects.filter(student=family.student).exists()
    enrolment = _enrol(family)
    assert stranger.post(f"/faces/children/{family.student.pk}/withdraw/").status_code == 404
    assert stranger.post(f"/faces/children/{family.student.pk}/replace/", {"photo": _upload()}).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.removed_at is None


def test_a_guardian_withdraws_from_the_page(family: Family, browser_of: Any) -> None:
    enrolment = _enrol(family)
    browser = browser_of(family.guardians[1])
    response = browser.post(f"/faces/children/{family.student.pk}/withdraw/", follow=True)
    assert "已撤回授权" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.photo is None and enrolment.removed_at is not None


def test_the_school_page_lists_consents_without_photos(
    family: Family, far_family: Family, login_for: Any, browser_of: Any, account_for: Any
) -> None:
    enrolment = _enrol(family)
    _enrol(far_family)
    admin = login(Client(), login_for("school_admin"))
    html = admin.get("/faces/school/").content.decode()
    assert family.student.name in html and far_family.student.name not in html
    assert "<img" not in html and "/faces/photos/" not in html
    assert browser_of(family.guardian).get("/faces/school/").status_code == 403
    assert browser_of(account_for("homeroom_teacher")).get("/faces/school/").status_code == 403

    url = f"/faces/school/students/{family.student.pk}/withdraw/"
    admin.post(url, {"note": ""})
    enrolment.refresh_from_db()
    assert enrolment.removed_at is None  # not without the guardian's written request
    admin.post(url, {"note": "母亲 2026-11-20 书面申请"})
    enrolment.refresh_from_db()
    assert enrolment.photo is None
    html = admin.get("/faces/school/?status=withdrawn").content.decode()
    assert family.student.name in html and "母亲 2026-11-20 书面申请" in html
    # another school's admin cannot reach this school's students
    far_admin = login(Client(), login_for("school_admin", 1))
    assert far_admin.post(f"/faces/school/students/{far_family.student.pk}/withdraw/", {"note": "x"}).status_code == 302
    assert admin.post(f"/faces/school/students/{far_family.student.pk}/withdraw/", {"note": "x"}).status_code == 404


def test_the_guardian_page_is_for_guardians(browser_of: Any, account_for: Any) -> None:
    assert browser_of(account_for("homeroom_teacher")).get("/faces/").status_code == 403
