from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.report, name="report"),
    path("export.xlsx", views.export, name="export"),
    path("stats/", views.stats, name="stats"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:notification_id>/", views.notification_open, name="notification"),
    path("qr/", views.qr_sheet, name="qr"),
    path("qr/<str:code>.svg", views.qr_svg, name="qr_svg"),
    path("_duplicates/", views.duplicates_fragment, name="duplicates"),
    path("_suggest/", views.suggest_fragment, name="suggest"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/act/<str:action>/", views.act, name="act"),
    path("<str:number>/photos/<int:photo_id>/", views.photo, name="photo"),
]
