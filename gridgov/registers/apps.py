from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "gridgov.registers"
    label = "registers"
    verbose_name = "基础数据（9+X）"

    def ready(self) -> None:
        import gridgov.registers.checks  # noqa: F401 — registers the data-key system check
