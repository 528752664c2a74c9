from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "gridgov.fieldwork"
    label = "fieldwork"
    verbose_name = "走访巡查与专项整治"
