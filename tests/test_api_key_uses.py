"""Each use of an API key is logged, and the keys page shows how often and when a key was last used."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zhixiao.identity import services as identity_services
from zhixiao.identity.models import ApiKeyUse
from zhixiao.org import selectors as org_selectors
from zhixiao.org.tests.signin import signed_in

pytestmark = pytest.mark.django_db


def test_the_keys_page_counts_each_use(login_for, account_for):
    it = account_for("it_staff")
    school = org_selectors.school_by_code(login_for("it_staff").school)
    created = identity_services.create_api_key(actor=it, school_id=school.pk, name="门禁对接", role="guard")
    api = Client()
    for _ in range(2):
        assert api.get("/api/v1/students", HTTP_X_API_KEY=created.secret).status_code == 200
    assert ApiKeyUse.objects.filter(key=created.key).count() == 2
    page = signed_in(login_for("it_staff")).get("/account/api-keys/").content.decode()
    row = next(r for r in page.split("<tr>") if "门禁对接" in r)
    assert re.search(r"<td>2</td>", row)
    assert created.secret not in page  # shown once, at creation only
