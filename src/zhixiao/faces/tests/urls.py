"""The project's URLs with the faces pages and the device feed mounted where config will mount them
(/faces/ and /api/v1/devices/{id}/faces), so these tests run before and after config includes them."""

from django.urls import include, path
from ninja import NinjaAPI

from zhixiao.faces.api import router

api = NinjaAPI(urls_namespace="faces-test-api", docs_url=None, openapi_url=None)
api.add_router("/v1", router)

urlpatterns = [
    # first, and by name (the faces app sits below config): it registers the `id` converter
    path("", include("zhixiao.config.urls")),
    path("api/", api.urls),
    path("faces/", include("zhixiao.faces.urls")),
]
