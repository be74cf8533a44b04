"""/api/v1: one NinjaAPI; each domain contributes its router. OpenAPI docs at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from zhixiao.attendance.api import router as attendance_router
from zhixiao.faces.api import router as faces_router
from zhixiao.identity.api import ApiKeyAuth, BearerTokenAuth, SessionAuth
from zhixiao.identity.api import router as auth_router
from zhixiao.kernel.errors import DomainError, NotPermitted
from zhixiao.org.api import router as org_router
from zhixiao.people.api import router as people_router

api = NinjaAPI(
    title="zhixiao 智校 API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/v1/openapi.json",
    auth=[BearerTokenAuth(), ApiKeyAuth(), SessionAuth()],
)
api.add_router("/v1/auth", auth_router)
api.add_router("/v1", org_router)
api.add_router("/v1", people_router)
api.add_router("/v1", attendance_router)
api.add_router("/v1", faces_router)


@api.exception_handler(NotPermitted)
def _not_permitted(request, exc):  # type: ignore[no-untyped-def]
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(DomainError)
def _domain_error(request, exc):  # type: ignore[no-untyped-def]
    return api.create_response(request, {"detail": str(exc)}, status=400)
