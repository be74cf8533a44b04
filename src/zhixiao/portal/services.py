"""Actions that span domains and belong to no single one: opening a school with its first admin, and
appointing a bureau's officer. Each runs the domains' own services in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from zhixiao.attendance import services as attendance_services
from zhixiao.identity import services as identity_services
from zhixiao.kernel import codes, permissions
from zhixiao.kernel.errors import DomainError
from zhixiao.kernel.permissions import Role
from zhixiao.office import services as office_services
from zhixiao.org import services as org_services
from zhixiao.people import services as people_services


@dataclass(frozen=True)
class Opened:
    school: Any
    admin: Any
    password: str  # the admin's first password, shown once


def open_school(*, actor: Any, school: dict[str, Any], admin: dict[str, Any]) -> Opened:
    """A system admin opens a school (with the usual 处室) and appoints its first school admin, who gets a
    staff record, an account (login: 工号) and a first password to change at login. All or nothing."""
    permissions.require(actor, permissions.MANAGE_SYSTEM)
    with transaction.atomic():
        created = org_services.create_school(actor=actor, **school)
        staff = people_services.create_staff(actor=actor, school_id=created.pk, data=admin)
        if staff.account is None:  # create_staff always opens the account
            raise DomainError(_("学校管理员账号未能建立"))
        identity_services.grant_role(actor=actor, account=staff.account, role=Role.SCHOOL_ADMIN, school_id=created.pk)
        password = people_services.reset_password(actor=actor, person=staff)
        office_services.install_default_flows(school_id=created.pk)
        attendance_services.setup_school(school_id=created.pk)
    return Opened(school=created, admin=staff, password=password)


def appoint_bureau_officer(*, actor: Any, username: str, display_name: str, region_code: str) -> tuple[Any, str]:
    """An education bureau's officer over a region (GB/T 2260: 2 digits a province, 4 a city, 6 a county)."""
    permissions.require(actor, permissions.MANAGE_SYSTEM)
    region_code = region_code.strip()
    divisions = codes.code_list(codes.DIVISION).by_code
    if len(region_code) not in (2, 4, 6) or region_code.ljust(6, "0") not in divisions:
        raise DomainError(_("行政区划代码应为2、4或6位，且在 GB/T 2260 中存在"))
    password = identity_services.generate_password()
    with transaction.atomic():
        account = identity_services.create_account(
            username=username.strip(), display_name=display_name.strip(), kind="staff", password=password
        )
        identity_services.grant_role(actor=actor, account=account, role=Role.BUREAU_OFFICER, region_code=region_code)
    return account, password
