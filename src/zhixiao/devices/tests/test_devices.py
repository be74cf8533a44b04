"""Registering devices: the CLI prints the secret once as JSON, the page shows it once, a re-keyed or disabled
device is refused at once, and only the school's admin or IT centre manages its devices."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from zhixiao.devices import services
from zhixiao.devices.engine import signing
from zhixiao.devices.models import Device
from zhixiao.identity.tests.helpers import login
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.kernel.permissions import Role
from zhixiao.org.models import School

pytestmark = pytest.mark.django_db


def _auth(device_id: int, secret: str) -> services.DeviceIdentity:
    headers = signing.signed_headers(device_id, secret, "GET", "/x", b"")
    return services.authenticate(method="GET", path="/x", headers=headers, body=b"")


def test_the_cli_registers_a_gate_and_prints_its_secret_once_as_json() -> None:
    school = School.objects.order_by("pk").first()
    assert school is not None
    out = StringIO()
    call_command(
        "zx_devices", "add", "--school", school.code, "--kind", "gate", "--name", "南门1", "--json", stdout=out
    )
    printed = json.loads(out.getvalue())
    device = Device.objects.get(pk=printed["id"])
    assert device.school_id == school.pk and device.kind == "gate"
    assert printed["secret"] not in json.dumps(list(Device.objects.filter(pk=device.pk).values()), default=str)
    assert _auth(device.pk, printed["secret"]).school_id == school.pk
    with pytest.raises(CommandError, match="已有名为"):
        call_command("zx_devices", "add", "--school", school.code, "--name", "南门1", stdout=StringIO())
    with pytest.raises(CommandError, match="没有学校标识码"):
        call_command("zx_devices", "add", "--school", "0000000000", "--name", "x", stdout=StringIO())

    rotated = StringIO()
    call_command("zx_devices", "rotate", "--school", school.code, "--id", str(device.pk), "--json", stdout=rotated)
    new_secret = json.loads(rotated.getvalue())["secret"]
    with pytest.raises(services.DeviceAuthError, match="签名不正确"):
        _auth(device.pk, printed["secret"])
    assert _auth(device.pk, new_secret).id == device.pk
    services.set_active(actor=None, device_id=device.pk, active=False)
    with pytest.raises(services.DeviceAuthError, match="停用"):
        _auth(device.pk, new_secret)


def test_only_the_schools_admin_or_it_centre_manage_its_devices(account_for: Any, login_for: Any) -> None:
    admin = account_for(Role.SCHOOL_ADMIN)
    own = School.objects.order_by("pk")[0]
    far = School.objects.order_by("pk")[1]
    device, _secret = services.register_device(actor=admin, school_id=own.pk, kind="dorm_gate", name="女生宿舍")
    assert device.school_id == own.pk
    with pytest.raises(NotPermitted):
        services.register_device(actor=admin, school_id=far.pk, kind="gate", name="别校闸机")
    with pytest.raises(NotPermitted):
        services.register_device(actor=account_for(Role.GUARD), school_id=own.pk, kind="gate", name="门卫自装")
    with pytest.raises(DomainError, match="设备类型不正确"):
        services.register_device(actor=admin, school_id=own.pk, kind="toaster", name="x")

    client = login(Client(), login_for(Role.SCHOOL_ADMIN))
    page = client.post("/devices/", {"name": "食堂一号机", "kind": "canteen", "place": "一楼", "direction": "both"})
    html = page.content.decode()
    created = Device.objects.get(school=own, name="食堂一号机")
    assert "只显示这一次" in html and f"编号 {created.pk}" in html
    secret = html.split('<code id="secret">')[1].split("</code>")[0]
    assert _auth(created.pk, secret).kind == "canteen"
    assert '<code id="secret">' not in client.get("/devices/").content.decode()
