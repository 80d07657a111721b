from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and centres"

    def ready(self) -> None:
        from django.contrib import admin

        from base.adminsearch import bound_every_search

        from . import signals  # noqa: F401 - connects the audit receivers

        # Every app's admin module has been imported by now: the admin app, listed first,
        # autodiscovers them when it is ready.
        bound_every_search(admin.site)
