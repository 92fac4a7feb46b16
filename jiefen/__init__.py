"""Jiefen (解纷): petition and dispute resolution platform."""

# The Celery app is loaded with Django, so ``shared_task`` binds to it (and to its eager mode when no
# broker is configured).
from jiefen.celery import app as celery_app

__all__ = ["celery_app"]
