"""The Celery app. In the embedded mode and in tests tasks run inline (``CELERY_TASK_ALWAYS_EAGER``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
app = Celery("jiefen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
