from django.urls import path

from . import views

app_name = "fieldwork"

urlpatterns = [
    path("", views.today, name="today"),
    path("visit/new/", views.visit_new, name="visit_new"),
    path("visits/", views.visits, name="visits"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("patrol/", views.patrol, name="patrol"),
    path("checkins/<int:pk>/", views.checkin_detail, name="checkin"),
    path("counts/", views.counts, name="counts"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/act/<str:op>/", views.campaign_act, name="campaign_act"),
    path("campaigns/<int:pk>/hazards.xlsx", views.campaign_hazards_xlsx, name="campaign_hazards_xlsx"),
    path("campaigns/<int:pk>/inspections.xlsx", views.campaign_inspections_xlsx, name="campaign_inspections_xlsx"),
    path("campaigns/<int:pk>/area-sheet.pdf", views.area_sheet, name="area_sheet"),
    path("inspections/<int:pk>/", views.inspection, name="inspection"),
    path("hazards/", views.hazards, name="hazards"),
    path("hazards/<int:pk>/", views.hazard_detail, name="hazard"),
    path("hazards/<int:pk>/act/<str:action>/", views.hazard_act, name="hazard_act"),
    path("hazards/<int:pk>/sheet.pdf", views.hazard_sheet, name="hazard_sheet"),
    path("hazards/<int:pk>/photos/<int:photo_id>/", views.hazard_photo, name="hazard_photo"),
]
