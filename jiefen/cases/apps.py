from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "jiefen.cases"
    label = "cases"
    verbose_name = _("信访件")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the window handlers the clock sweep calls.
        from jiefen.cases import services  # noqa: F401
