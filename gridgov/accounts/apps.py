from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gridgov.accounts"
    label = "accounts"
    verbose_name = "用户与辖区"

    def ready(self) -> None:
        from . import signals  # noqa: F401
