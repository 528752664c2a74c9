from django.urls import path

from . import views

app_name = "mediation"

urlpatterns = [
    path("", views.disputes, name="disputes"),
    path("new/", views.dispute_new, name="dispute_new"),
    path("from-case/<str:number>/", views.dispute_from_case, name="from_case"),
    path("rates/", views.rates, name="rates"),
    path("petitions/", views.petitions, name="petitions"),
    path("petitions/new/", views.petition_new, name="petition_new"),
    path("petitions/<str:number>/", views.petition_detail, name="petition"),
    path("d/<str:number>/", views.dispute_detail, name="dispute"),
    path("d/<str:number>/act/<str:action>/", views.dispute_act, name="dispute_act"),
    path("d/<str:number>/agreement.pdf", views.agreement_pdf, name="agreement"),
]
