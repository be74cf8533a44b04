"""The device API's authentication: every request signed with the device's secret (docs/device-api.md).

Endpoints of other domains that devices call use `auth=DeviceSignatureAuth()` and read the device from
`request.auth` (a services.DeviceIdentity); a refused signature is a 401 with the reason in `detail`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security.base import AuthBase

from . import services


class DeviceSignatureAuth(AuthBase):
    """A django-ninja auth for signed device requests (X-Device-Id, X-Timestamp, X-Nonce, X-Signature)."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "X-Signature"

    def __call__(self, request: HttpRequest) -> Any:
        headers = {k: request.headers.get(k, "") for k in ("X-Device-Id", "X-Timestamp", "X-Nonce", "X-Signature")}
        try:
            return services.authenticate(
                method=request.method or "", path=request.get_full_path(), headers=headers, body=request.body
            )
        except services.DeviceAuthError as exc:
            raise HttpError(401, str(exc)) from None


def device_of(request: HttpRequest) -> services.DeviceIdentity:
    device = getattr(request, "auth", None)
    if not isinstance(device, services.DeviceIdentity):
        raise HttpError(401, "not a device")
    return device
