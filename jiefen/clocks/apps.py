from django.apps import AppConfig


class ClocksConfig(AppConfig):
    name = "jiefen.clocks"
    label = "clocks"
    default_auto_field = "django.db.models.BigAutoField"
