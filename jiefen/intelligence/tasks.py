"""Background jobs: retrain from the office's own history, rebuild or compact the similar-case index."""

from __future__ import annotations

from celery import shared_task

from jiefen.intelligence import services


@shared_task
def retrain_from_history() -> int | None:
    """Train on settled and corrected cases and activate the result; the new version, or None if too few."""
    texts, labels = services.training_data_from_db()
    if len(texts) < 50 or len(set(labels)) < 2:
        return None
    trained = services.train_classifier(texts=texts, labels=labels, source="database")
    return trained.version.version if trained.version else None


@shared_task
def compact_similar_index() -> int:
    """Add the cases the index lacks (``catch_up_index``), then merge its append log into its cells."""
    services.catch_up_index()
    return services.compact_index()


@shared_task
def rebuild_similar_index() -> int:
    return services.reindex(refit=False).cases
