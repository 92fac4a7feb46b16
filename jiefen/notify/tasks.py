"""Thin tasks: load by id, call the service. Inline in the embedded mode and in tests.

Bound to the project's Celery app (not ``shared_task``), so ``delay`` honours ``CELERY_TASK_ALWAYS_EAGER`` even
where nothing else has imported ``jiefen.celery``."""

from jiefen.celery import app
from jiefen.notify import services


@app.task(name="jiefen.notify.tasks.deliver_outbox", ignore_result=True)
def deliver_outbox(outbox_id: int) -> str:
    return services.deliver(outbox_id=outbox_id)


@app.task(name="jiefen.notify.tasks.deliver_due", ignore_result=True)
def deliver_due() -> dict[str, int]:
    result = services.deliver_due()
    return {"sent": result.sent, "failed": result.failed, "dead": result.dead, "unstuck": result.unstuck}


@app.task(name="jiefen.notify.tasks.notify_clock_events", ignore_result=True)
def notify_clock_events() -> int:
    from jiefen.notify.clock_alerts import notify_clock_events as run

    return run()
