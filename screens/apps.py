from django.apps import AppConfig


class ScreensConfig(AppConfig):
    """The pages that combine the apps: home, the cohort screens, the ILR, search, help."""

    name = "screens"
