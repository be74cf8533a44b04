"""The product's urls plus, under /bench/, a do-nothing django-ninja API (never part of the product):

GET  /bench/noop          no auth, returns {"ok": true}: Django + ninja + the middleware, nothing else
POST /bench/noop-signed   the device signature check (DeviceSignatureAuth, one nonce written), nothing else
"""

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from zhixiao.config import urls as product
from zhixiao.devices.api import DeviceSignatureAuth

noop_api = NinjaAPI(urls_namespace="bench-noop", docs_url=None, openapi_url=None)


@noop_api.get("/noop", auth=None)
def noop(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


@noop_api.post("/noop-signed", auth=DeviceSignatureAuth())
def noop_signed(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


urlpatterns = [path("bench/", noop_api.urls), *product.urlpatterns]
handler403 = product.handler403
handler404 = product.handler404
