from django.urls import path

from . import views

app_name = "registers"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("people/", views.person_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("people/<int:pk>/move-in/", views.person_move_in, name="person_move_in"),
    path("people/<int:pk>/groups/new/", views.group_add, name="group_add"),
    path("people/<int:pk>/<str:action>/", views.person_action, name="person_action"),
    path("case-links/<int:link_id>/unlink/", views.case_unlink, name="case_unlink"),
    path("groups/", views.group_list, name="groups"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/end/", views.group_end, name="group_end"),
    path("visits/due/", views.visits_due, name="visits_due"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visit-rules/", views.visit_rules, name="visit_rules"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/<int:pk>/", views.address_detail, name="address"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
    path("houses/<int:pk>/", views.house_detail, name="house"),
    path("houses/<int:pk>/household/new/", views.household_new, name="household_new"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("import/<str:register>/", views.import_view, name="import"),
    path("export/<str:register>/", views.export_view, name="export"),
    path("template/<str:register>.xlsx", views.template_download, name="template"),
    path("e/<str:entity>/", views.entity_list, name="entities"),
    path("e/<str:entity>/new/", views.entity_form, name="entity_new"),
    path("e/<str:entity>/<int:pk>/", views.entity_detail, name="entity"),
    path("e/<str:entity>/<int:pk>/edit/", views.entity_form, name="entity_edit"),
]
