"""Write actions on accounts, roles, second factors, API keys and bearer tokens."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhixiao.kernel import audit, permissions
from zhixiao.kernel.errors import DomainError
from zhixiao.kernel.permissions import Grant, Role, Scope

from .models import Account, ApiKey, ApiKeyUse, RoleAssignment

TOKEN_SALT = "zhixiao.api-token"  # noqa: S105
TOKEN_PREFIX = "zxt."  # noqa: S105
KEY_PREFIX = "zxk_"


# --- accounts ---------------------------------------------------------------------------------------
def create_account(
    *,
    username: str,
    display_name: str,
    kind: str,
    password: str | None = None,
    mobile: str | None = None,
    must_change_password: bool = True,
) -> Account:
    """A new account; without a password it cannot log in until one is set."""
    if Account.objects.filter(username=username).exists():
        raise DomainError(_("登录名 {name} 已被使用").format(name=username))
    if mobile and Account.objects.filter(mobile=mobile).exists():
        raise DomainError(_("手机号 {mobile} 已被其他账号使用").format(mobile=mobile))
    account = Account(
        username=username,
        display_name=display_name,
        kind=kind,
        mobile=mobile or None,
        must_change_password=must_change_password,
    )
    if password:
        account.set_password(password)
    else:
        account.set_unusable_password()
    account.save()
    return account


def change_password(*, account: Account, old_password: str, new_password: str) -> None:
    """The account holder changes the password; rules are checked and the first-login flag cleared."""
    if not account.check_password(old_password):
        raise DomainError(_("原密码不正确"))
    if old_password == new_password:
        raise DomainError(_("新密码不能与原密码相同"))
    try:
        password_validation.validate_password(new_password, account)
    except Exception as exc:  # ValidationError carries a list of messages
        messages = getattr(exc, "messages", [str(exc)])
        raise DomainError("；".join(str(m) for m in messages)) from exc
    with transaction.atomic():
        account.set_password(new_password)
        account.must_change_password = False
        account.save(update_fields=["password", "must_change_password"])
        audit.record(actor=account, action="account.password_change", target=account)


def set_temporary_password(*, actor: Any, account: Account) -> str:
    """A random temporary password, to be changed at the next login. Who may do this to whom depends on
    where the person sits in the school, so the calling domain checks it (people.services.reset_password)."""
    temporary = generate_password()
    with transaction.atomic():
        account.set_password(temporary)
        account.must_change_password = True
        account.save(update_fields=["password", "must_change_password"])
        audit.record(actor=actor, action="account.password_reset", target=account)
    return temporary


def generate_password() -> str:
    """A random password that satisfies the rules (upper, lower, digit, symbol)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(9))
    return f"{secrets.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{body}{secrets.choice('23456789')}@"


def grant_role(
    *,
    actor: Any,
    account: Account,
    role: str,
    school_id: int | None = None,
    region_code: str = "",
    department_id: int | None = None,
    grade_id: int | None = None,
) -> RoleAssignment:
    """Give an explicit role; the actor must manage the school (or be a system admin)."""
    if role not in {r.value for r in Role}:
        raise DomainError(_("未知角色：{role}").format(role=role))
    if role in (Role.SYSTEM_ADMIN, Role.BUREAU_OFFICER):
        allowed = any(g.scope is Scope.SYSTEM for g in permissions.grants_of(actor)) if actor else True
    else:
        allowed = actor is None or any(
            g.allows(permissions.MANAGE_SCHOOL) and (g.scope is Scope.SYSTEM or g.school_id == school_id)
            for g in permissions.grants_of(actor)
        )
    if not allowed:
        raise permissions.NotPermitted(_("没有权限分配该角色"))
    with transaction.atomic():
        scope: dict[str, Any] = {"school_id": school_id, "department_id": department_id, "grade_id": grade_id}
        held = RoleAssignment.objects.select_for_update().filter(
            account=account, role=role, region_code=region_code, **scope
        )
        if held.exists():
            raise DomainError(_("{name}已是该角色").format(name=account))
        ra = RoleAssignment.objects.create(
            account=account,
            role=role,
            school_id=school_id,
            region_code=region_code,
            department_id=department_id,
            grade_id=grade_id,
            granted_by=actor if isinstance(actor, Account) else None,
        )
        audit.record(
            actor=actor,
            action="role.grant",
            target=account,
            school_id=school_id,
            changes={"role": [None, role], "region": [None, region_code or None]},
        )
        permissions.forget_grants(account)
    return ra


def revoke_role(*, actor: Any, assignment_id: int) -> None:
    """Take an explicit role back; the same people who may grant it may revoke it. An admin cannot
    take away her own school-admin role (so a school is never left without anyone to manage it)."""
    with transaction.atomic():
        ra = RoleAssignment.objects.select_for_update().select_related("account").get(pk=assignment_id)
        if ra.role in (Role.SYSTEM_ADMIN, Role.BUREAU_OFFICER):
            allowed = actor is None or any(g.scope is Scope.SYSTEM for g in permissions.grants_of(actor))
        else:
            allowed = actor is None or any(
                g.allows(permissions.MANAGE_SCHOOL) and (g.scope is Scope.SYSTEM or g.school_id == ra.school_id)
                for g in permissions.grants_of(actor)
            )
        if not allowed:
            raise permissions.NotPermitted(_("没有权限撤销该角色"))
        if ra.role == Role.SCHOOL_ADMIN and isinstance(actor, Account) and ra.account_id == actor.pk:
            raise DomainError(_("不能撤销自己的学校管理员角色"))
        audit.record(
            actor=actor,
            action="role.revoke",
            target=ra.account,
            school_id=ra.school_id,
            changes={
                "role": [ra.role, None],
                "region": [ra.region_code or None, None],
                "department": [ra.department_id, None],
                "grade": [ra.grade_id, None],
            },
        )
        ra.delete()
        permissions.forget_grants(ra.account)


# --- second factor (TOTP) ---------------------------------------------------------------------------
def start_totp_setup(*, account: Account) -> TOTPDevice:
    """An unconfirmed TOTP device; confirmed once the holder types a valid code."""
    TOTPDevice.objects.filter(user=account, confirmed=False).delete()
    return TOTPDevice.objects.create(user=account, name="TOTP", confirmed=False)


def confirm_totp(*, account: Account, device: TOTPDevice, code: str) -> bool:
    if device.user_id != account.pk or not device.verify_token(code.strip()):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=account, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(actor=account, action="account.totp_enrolled", target=account)
    return True


def verify_totp(*, account: Account, code: str) -> TOTPDevice | None:
    for device in TOTPDevice.objects.filter(user=account, confirmed=True):
        if device.verify_token(str(code).strip()):
            return device
    return None


def totp_wait_seconds(device: TOTPDevice) -> int:
    """Seconds before this device may check another code: django-otp doubles the wait after each wrong
    code, and silently refuses a right code typed too soon, so the pages must say why."""
    allowed, _info = device.verify_is_allowed()
    if allowed or device.throttling_failure_timestamp is None:
        return 0
    delay = device.get_throttle_factor() * (2 ** (device.throttling_failure_count - 1))
    remaining = (device.throttling_failure_timestamp - timezone.now()).total_seconds() + delay
    return max(1, math.ceil(remaining))


def totp_retry_after(*, account: Account) -> int:
    """0 if a code may be checked now; else the seconds to wait (the shortest over the devices)."""
    waits = [totp_wait_seconds(d) for d in TOTPDevice.objects.filter(user=account, confirmed=True)]
    return min(waits) if waits else 0


def has_confirmed_totp(account: Account) -> bool:
    return TOTPDevice.objects.filter(user=account, confirmed=True).exists()


# --- bearer tokens for apps and scripts ----------------------------------------------------------------
def issue_token(*, account: Account) -> str:
    """A short-lived signed token (no table); invalid once the password changes."""
    payload = {"a": account.pk, "h": account.get_session_auth_hash()}
    return TOKEN_PREFIX + signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def account_for_token(token: str) -> Account | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        payload = signing.loads(token[len(TOKEN_PREFIX) :], salt=TOKEN_SALT, max_age=settings.API_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    account = Account.objects.filter(pk=payload.get("a"), is_active=True).first()
    if account is None or not secrets.compare_digest(account.get_session_auth_hash(), str(payload.get("h"))):
        return None
    return account


# --- API keys ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # shown once


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, actor: Any, school_id: int, name: str, role: str = Role.IT_STAFF) -> NewApiKey:
    """An admin creates a key for an integration; the full key is returned once and stored hashed."""
    if role not in {r.value for r in ApiKey.ROLES}:
        raise DomainError(_("API 密钥不能使用该角色"))
    if not any(
        g.allows(permissions.MANAGE_API_KEYS) and (g.scope is Scope.SYSTEM or g.school_id == school_id)
        for g in permissions.grants_of(actor)
    ):
        raise permissions.NotPermitted(_("没有权限执行此操作"))
    if not name.strip():
        raise DomainError(_("请填写密钥名称"))
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            school_id=school_id,
            role=role,
            prefix=prefix,
            key_hash=_hash_key(secret),
            created_by=actor if isinstance(actor, Account) else None,
        )
        audit.record(actor=actor, action="apikey.create", target=key, changes={"role": [None, role]})
    return NewApiKey(key=key, secret=secret)


def revoke_api_key(*, actor: Any, key_id: int) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key_id)
        permissions.require(actor, permissions.MANAGE_API_KEYS, key)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(actor=actor, action="apikey.revoke", target=key)
    return key


class ApiKeyActor:
    """The actor behind a request made with an API key: the key's role in the key's school."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.fixed_grants = (Grant(role=key.role, scope=Scope.SCHOOL, key=key.school_id, school_id=key.school_id),)

    def __str__(self) -> str:
        return f"apikey:{self.key.prefix}:{self.key.name}"


def authenticate_api_key(secret: str, *, method: str, path: str, ip: str) -> ApiKeyActor | None:
    """Check a presented key and log its use."""
    if not secret.startswith(KEY_PREFIX):
        return None
    prefix = secret[len(KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None or not key.is_usable or not secrets.compare_digest(key.key_hash, _hash_key(secret)):
        return None
    now = timezone.now()
    ApiKeyUse.objects.create(key=key, at=now, method=method[:8], path=path[:300], ip=ip[:64])
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return ApiKeyActor(key)


def bulk_create_accounts(
    rows: list[dict[str, Any]], *, password: str | None, must_change_password: bool
) -> list[Account]:
    """Many accounts at once (imports, the demo). One password hash is computed and shared when a common
    initial password is given (each account must change it at first login); else passwords are unusable."""
    from django.contrib.auth.hashers import make_password

    encoded = make_password(password) if password else make_password(None)
    accounts = [Account(password=encoded, must_change_password=must_change_password, **row) for row in rows]
    return Account.objects.bulk_create(accounts, batch_size=2000)


def set_totp_secret(*, account: Account, secret_hex: str) -> TOTPDevice:
    """A confirmed TOTP device with a known key (demo logins and tests print it)."""
    TOTPDevice.objects.filter(user=account).delete()
    return TOTPDevice.objects.create(user=account, name="TOTP", key=secret_hex, confirmed=True)
