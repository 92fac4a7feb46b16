from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "jiefen.routing"
    label = "routing"
    verbose_name = _("派单规则")
    default_auto_field = "django.db.models.BigAutoField"
