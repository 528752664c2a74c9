from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.static import serve

from config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    # First: the API (intake, 12345 feeds) is the busiest path, and resolving walks this list.
    path("api/v1/", api.urls),
    path("", include("gridgov.common.urls")),
    path("accounts/", include("gridgov.accounts.urls")),
    path("regions/", include("gridgov.regions.urls")),
    path("registers/", include("gridgov.registers.urls")),
    path("fieldwork/", include("gridgov.fieldwork.urls")),
    path("mediation/", include("gridgov.mediation.urls")),
    path("cases/", include("gridgov.cases.urls")),
    path("", include("gridgov.cases.public_urls")),
    path("integrations/", include("gridgov.integrations.urls")),
    path("open311/v2/", include("gridgov.integrations.open311.urls")),
    path("assessment/", include("gridgov.assessment.urls")),
    path("dashboard/", include("gridgov.dashboard.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# A database outage met in a middleware (session, user) is a 503, not a 500.
handler500 = "gridgov.common.views.server_error"

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
