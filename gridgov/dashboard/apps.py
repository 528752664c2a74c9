from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "gridgov.dashboard"
    label = "dashboard"
    verbose_name = "指挥中心"

    def ready(self) -> None:
        from . import rollups

        rollups.connect()
