"""The Celery app. In the embedded mode and in tests tasks run inline (``CELERY_TASK_ALWAYS_EAGER``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiefen.settings")
app = Celery("jiefen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def load_for_sending() -> None:
    """Finalise the app and load what sending a task needs (the broker transport's modules, the producer
    pool, the result backend) without connecting: a web process calls this at start, so that its first
    request to queue a task after commit is not the one that waits 0.1–0.5 s for it. A broker that is down
    stops nothing here."""
    if app.conf.task_always_eager:
        return
    app.finalize(auto=True)
    _ = (app.producer_pool, app.amqp.send_task_message, app.backend)
