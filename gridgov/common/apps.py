from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "gridgov.common"
    label = "common"
    verbose_name = "通用"
