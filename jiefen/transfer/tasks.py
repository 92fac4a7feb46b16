"""Thin tasks, bound to the project's Celery app so ``delay`` runs inline in the embedded mode and in tests."""

from jiefen.cases.actors import SYSTEM
from jiefen.celery import app
from jiefen.transfer.models import ImportRun
from jiefen.transfer.services import execute_run


@app.task(name="jiefen.transfer.tasks.run_import", ignore_result=True)
def run_import(run_id: int) -> dict[str, int]:
    """Re-runnable: a run started again skips the rows it already committed."""
    run = ImportRun.objects.select_related("started_by").get(pk=run_id)
    run = execute_run(run, actor=run.started_by or SYSTEM)
    return {"created": run.created, "skipped": run.skipped, "rejected": run.rejected}
