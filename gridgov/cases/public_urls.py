"""Public (no-login) pages of the citizen channel, at the site root so QR codes stay short."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("report/", public_views.report, name="citizen_report"),
    path("report/<str:grid_code>/", public_views.report, name="citizen_report_grid"),
    path("report/done/<str:code>/", public_views.report_done, name="citizen_report_done"),
    path("track/", public_views.track_lookup, name="citizen_track"),
    path("track/<str:code>/", public_views.track, name="citizen_track_case"),
    path("track/<str:code>/rate/", public_views.rate, name="citizen_rate"),
]
