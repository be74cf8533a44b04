"""Login, logout, password change, second factor, API keys. Thin: forms in, services out."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhixiao.kernel import permissions
from zhixiao.kernel.errors import DomainError
from zhixiao.org import selectors as org_selectors

from . import selectors, services
from .forms import ApiKeyForm, LoginForm, PasswordChangeForm, TotpForm
from .models import ApiKey


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """django-axes calls this once a login name is locked: a page for people, JSON for API clients."""
    message = _("连续登录失败次数过多，账号已暂时锁定，请 30 分钟后再试，或联系信息中心解锁。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "identity/locked_out.html", status=429)


class LoginView(auth_views.LoginView):
    template_name = "identity/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _next_url(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return "/"
    return target


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                account=request.user,  # type: ignore[arg-type]
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, _("密码已修改"))
            return redirect("portal:home")
    forced = getattr(request.user, "must_change_password", False)
    return render(request, "identity/password_change.html", {"form": form, "forced": forced})


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR (or type the key), then confirm with a code."""
    account = request.user
    device_id = request.session.get("totp_setup_device")
    device = TOTPDevice.objects.filter(pk=device_id, user=account, confirmed=False).first() if device_id else None
    if device is None:
        device = services.start_totp_setup(account=account)  # type: ignore[arg-type]
        request.session["totp_setup_device"] = device.pk
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = services.totp_wait_seconds(device)
        if wait:
            form.add_error("code", _("尝试过于频繁，请 %(n)d 秒后再试") % {"n": wait})
        elif services.confirm_totp(account=account, device=device, code=form.cleaned_data["code"]):  # type: ignore[arg-type]
            otp_login(request, device)
            request.session.pop("totp_setup_device", None)
            messages.success(request, _("已启用动态验证码"))
            return redirect(_next_url(request))
        else:
            form.add_error("code", _("验证码不正确，请确认手机时间准确后重试"))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "identity/totp_setup.html",
        {"form": form, "secret": secret, "qr": _qr_svg(device.config_url), "next": _next_url(request)},
    )


@login_required
def totp_verify(request: HttpRequest) -> HttpResponse:
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = services.totp_retry_after(account=request.user)  # type: ignore[arg-type]
        device = None if wait else services.verify_totp(account=request.user, code=form.cleaned_data["code"])  # type: ignore[arg-type]
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        if wait:
            form.add_error("code", _("尝试过于频繁，请 %(n)d 秒后再试") % {"n": wait})
        else:
            form.add_error("code", _("验证码不正确"))
    return render(request, "identity/totp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    if not permissions.has_any(request.user, permissions.MANAGE_API_KEYS):
        return render(request, "403.html", status=403)
    schools = org_selectors.schools_where(actor=request.user, action=permissions.MANAGE_API_KEYS)
    form = ApiKeyForm(request.POST or None)
    form.fields["role"].choices = ApiKey._meta.get_field("role").choices  # type: ignore[assignment,attr-defined]
    form.fields["school"].choices = [(s.pk, f"{s.name}（{s.code}）") for s in schools]  # type: ignore[attr-defined]
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_api_key(
                actor=request.user,
                school_id=int(form.cleaned_data["school"]),
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
            )
            new_secret = created.secret
            form = ApiKeyForm()
            form.fields["role"].choices = ApiKey._meta.get_field("role").choices  # type: ignore[assignment,attr-defined]
            form.fields["school"].choices = [(s.pk, f"{s.name}（{s.code}）") for s in schools]  # type: ignore[attr-defined]
        except DomainError as exc:
            form.add_error(None, str(exc))
    keys = selectors.api_keys_visible_to(actor=request.user).annotate(use_count=Count("uses")).order_by("-created_at")
    return render(request, "identity/api_keys.html", {"form": form, "keys": keys, "new_secret": new_secret})


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    if not selectors.api_keys_visible_to(actor=request.user).filter(pk=key_id).exists():
        return render(request, "404.html", status=404)
    services.revoke_api_key(actor=request.user, key_id=key_id)
    messages.success(request, _("密钥已吊销"))
    return redirect("identity:api_keys")
