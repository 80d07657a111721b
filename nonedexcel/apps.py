from django.apps import AppConfig


class NonEdexcelConfig(AppConfig):
    name = "nonedexcel"
    verbose_name = "Non-Edexcel qualifications"
