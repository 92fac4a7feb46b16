from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "jiefen.supervision"
    label = "supervision"
    verbose_name = _("督查督办")
    default_auto_field = "django.db.models.BigAutoField"
