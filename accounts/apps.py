from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and centres"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the audit receivers
