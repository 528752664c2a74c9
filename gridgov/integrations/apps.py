from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "gridgov.integrations"
    label = "integrations"
    verbose_name = "对外接口"

    def ready(self) -> None:
        # Case events feed the outbound webhooks and the 12345 push-back (signals.py).
        from . import signals  # noqa: F401
