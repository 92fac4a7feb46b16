from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "jiefen.audit"
    label = "audit"
    verbose_name = _("审计")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiefen.audit import signals

        signals.connect_permission_signals()
