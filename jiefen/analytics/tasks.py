"""Periodic analytics work (Celery beat; the embedded sweeper calls the same services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def refresh_rollups() -> int:
    """Count the case events above the high-water mark into the rollup table; the number counted."""
    from jiefen.analytics.services import refresh_rollups as refresh

    return refresh().events


@shared_task(ignore_result=True)
def find_hotspots() -> int:
    """The hourly hotspot run over the last 90 days; the number of hotspots found."""
    from jiefen.analytics.services.hotspots import run_recent

    return run_recent().hotspots_found
