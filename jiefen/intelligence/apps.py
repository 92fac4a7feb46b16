from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "jiefen.intelligence"
    label = "intelligence"
    verbose_name = _("智能分析")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from jiefen.cases.models import Category
        from jiefen.cases.services import add_enricher
        from jiefen.intelligence.engine import forget_keywords
        from jiefen.intelligence.enrich import language_enrichment, look_ahead

        # Keyword rules come from category names and synonyms: an admin's edit takes effect at once here
        # (other processes rebuild theirs within ``engine.TAXONOMY_SECONDS``).
        post_save.connect(forget_keywords, sender=Category, dispatch_uid="intelligence-keywords")
        post_delete.connect(forget_keywords, sender=Category, dispatch_uid="intelligence-keywords-d")

        # First in the list: a category suggested with confidence is set on a case that came without one, so
        # the routing enricher after it can use the category.
        add_enricher(language_enrichment, first=True, look_ahead=look_ahead)
