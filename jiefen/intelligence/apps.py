from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "jiefen.intelligence"
    label = "intelligence"
    verbose_name = _("智能分析")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiefen.cases.services import intake_enrichers
        from jiefen.intelligence.enrich import language_enrichment

        # First in the list: a category suggested with confidence is set on a case that came without one, so
        # the routing enricher after it can use the category.
        if language_enrichment not in intake_enrichers:
            intake_enrichers.insert(0, language_enrichment)
