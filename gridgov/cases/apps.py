from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_config_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from .config import install_triggers

    install_triggers(using)


class CasesConfig(AppConfig):
    name = "gridgov.cases"
    label = "cases"
    verbose_name = "事件案卷"

    def ready(self) -> None:
        # The configuration caches' version triggers (config.py), after every migrate and flush.
        post_migrate.connect(_install_config_triggers, sender=self, dispatch_uid="cases.config_triggers")
