"""Enrichment in the background (``INTAKE_ENRICHMENT = "background"``): the petition is stored and
acknowledged with only the emergency check done; a worker adds the rest in batches, keeping what staff
changed meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.db import connection

from jiefen.cases.models import Case, Category, Urgency
from jiefen.cases.services import enrich_pending, enrichment, intake_enrichers
from jiefen.cases.services.enrichment import after_commit

FIRE = "楼道里着火了，浓烟很大，有人被困"


@pytest.fixture
def background(settings: Any) -> None:
    settings.INTAKE_ENRICHMENT = "background"


def test_the_case_is_stored_with_the_emergency_check_and_analysed_once_committed(
    db: Any, background: None, make_case: Callable[..., Case], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = make_case(title="着火", content=FIRE)
    stored = Case.objects.get(pk=case.pk)
    assert stored.enrichment_pending
    assert stored.urgency == Urgency.CRITICAL  # at the door: the citizen is shown 119 at once
    assert set(stored.enrichment) == {"emergency"}
    for callback in callbacks:  # the commit: the scheduled run (inline here, Celery being eager) analyses it
        callback()
    stored.refresh_from_db()
    assert not stored.enrichment_pending
    assert {"emergency", "classification", "routing"} <= set(stored.enrichment)
    assert stored.urgency == Urgency.CRITICAL


def test_a_batch_keeps_what_staff_changed_meanwhile(
    db: Any, background: None, make_case: Callable[..., Case], clerk: Any
) -> None:
    cases = [make_case(title=f"小区车辆乱停 {i}") for i in range(5)]
    chosen = Category.objects.exclude(children__isnull=False).first()
    assert chosen is not None
    Case.objects.filter(pk=cases[0].pk).update(category=chosen, urgency=Urgency.URGENT)
    assert enrich_pending(batch=2) == 5
    first = Case.objects.get(pk=cases[0].pk)
    assert first.category_id == chosen.pk and first.urgency == Urgency.URGENT
    assert "classification" in first.enrichment
    assert not Case.objects.filter(enrichment_pending=True).exists()
    assert enrich_pending() == 0


def test_a_limited_run_leaves_the_rest_waiting_and_touches_no_other_case(
    db: Any, background: None, make_case: Callable[..., Case], settings: Any
) -> None:
    settings.INTAKE_ENRICHMENT = "inline"
    analysed = make_case(title="已分析")
    settings.INTAKE_ENRICHMENT = "background"
    first, second = make_case(title="甲"), make_case(title="乙")
    before = Case.objects.get(pk=analysed.pk).enrichment
    assert enrich_pending(limit=1) == 1
    assert not Case.objects.get(pk=first.pk).enrichment_pending
    assert Case.objects.get(pk=second.pk).enrichment_pending
    assert Case.objects.get(pk=analysed.pk).enrichment == before
    assert enrich_pending() == 1


def test_inline_is_the_default_without_a_broker(db: Any, make_case: Callable[..., Case]) -> None:
    case = Case.objects.get(pk=make_case().pk)
    assert not case.enrichment_pending
    assert "classification" in case.enrichment


def test_the_case_page_says_the_analysis_is_on_its_way(
    db: Any,
    background: None,
    make_case: Callable[..., Case],
    clerk: Any,
    client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        case = make_case()
    client.force_login(clerk)
    assert b"data-pending" in client.get(f"/cases/{case.pk}/").content
    enrich_pending()
    assert b"data-pending" not in client.get(f"/cases/{case.pk}/").content


@pytest.fixture
def later_enricher() -> Iterator[list[Callable[[Sequence[Case]], None]]]:
    """An enricher of the background part that calls the functions put in the list it yields, with its
    batch, and finds nothing."""
    calls: list[Callable[[Sequence[Case]], None]] = []

    def probe(cases: Sequence[Case]) -> list[dict[str, Any]]:
        for call in calls:
            call(cases)
        return [{} for _ in cases]

    intake_enrichers.append(probe)
    yield calls
    intake_enrichers.remove(probe)


@pytest.mark.django_db(transaction=True)
def test_registrations_go_on_while_a_batch_is_analysed(
    background: None,
    make_case: Callable[..., Case],
    later_enricher: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    in_thread: Callable[[Callable[[], Any]], threading.Thread],
) -> None:
    monkeypatch.setattr(enrichment, "schedule", lambda: None)  # the worker below is the only run
    waiting = make_case(title="等待分析")
    inside, release = threading.Event(), threading.Event()

    def analysing(cases: Sequence[Case]) -> None:
        inside.set()
        release.wait(timeout=20)

    later_enricher.append(analysing)
    outcome: list[int] = []
    thread = in_thread(lambda: outcome.append(enrich_pending()))
    try:
        assert inside.wait(timeout=20)
        with connection.cursor() as cursor:  # waiting for the worker's transaction fails the test
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA busy_timeout = 2000")
            else:
                cursor.execute("SET lock_timeout = '2s'")
        registered = make_case(title="分析期间登记")
    finally:
        release.set()
        thread.join(timeout=30)
    assert outcome == [2]  # then the worker took the case registered meanwhile
    assert not Case.objects.filter(pk__in=[waiting.pk, registered.pk], enrichment_pending=True).exists()


def test_a_case_another_worker_stored_meanwhile_is_not_stored_twice(
    db: Any,
    background: None,
    make_case: Callable[..., Case],
    later_enricher: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The batch analysed outside a transaction (SQLite's way, taken here on either database): when another
    worker stored one of its cases meanwhile, none of its findings or on-commit steps are kept; the cases
    still waiting are analysed again."""
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    first, second = make_case(title="甲"), make_case(title="乙")
    stepped: list[list[int]] = []

    def other_worker_first(cases: Sequence[Case]) -> None:
        ids = [case.pk for case in cases]
        if first.pk in ids:
            Case.objects.filter(pk=first.pk).update(enrichment_pending=False, enrichment={"by": "other"})
        after_commit(lambda: stepped.append(ids))

    later_enricher.append(other_worker_first)
    with django_capture_on_commit_callbacks(execute=True):
        assert enrich_pending() == 1
    assert Case.objects.get(pk=first.pk).enrichment == {"by": "other"}
    stored = Case.objects.get(pk=second.pk)
    assert not stored.enrichment_pending and "classification" in stored.enrichment
    assert stepped == [[second.pk]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["inline", "background"])
def test_only_the_enrichers_that_run_at_registration_read_ahead_of_its_transaction(
    make_case: Callable[..., Case], monkeypatch: pytest.MonkeyPatch, settings: Any, mode: str
) -> None:
    """``analysed_first``: the look-ahead hooks of the enrichers that will run at this registration are
    called before its transaction opens; in the background mode only those at the door; inside a
    transaction already, none (there is nothing to gain)."""
    from django.db import transaction

    settings.INTAKE_ENRICHMENT = mode
    monkeypatch.setattr(enrichment, "schedule", lambda: None)
    seen: list[tuple[str, list[str], bool, bool]] = []

    def enricher(name: str) -> Any:
        def found(cases: Sequence[Case]) -> list[dict[str, Any]]:
            return [{} for _ in cases]

        def hook(intakes: Sequence[Any]) -> None:
            seen.append(
                (name, [i.title for i in intakes], connection.in_atomic_block, enrichment.reads_ahead_here())
            )

        found.__name__ = found.__qualname__ = name
        return found, hook

    door, door_hook = enricher("probe_at_the_door")
    later, later_hook = enricher("probe_later")
    monkeypatch.setattr(
        enrichment, "_look_ahead", {"probe_at_the_door": door_hook, "probe_later": later_hook}
    )
    monkeypatch.setattr(enrichment, "_at_the_door", {"probe_at_the_door"})
    monkeypatch.setattr(enrichment, "intake_enrichers", [door, later])
    make_case(title="先读")
    expected = [("probe_at_the_door", ["先读"], False, True)]
    if mode == "inline":
        expected.append(("probe_later", ["先读"], False, True))
    assert seen == expected
    seen.clear()
    with transaction.atomic():
        make_case(title="事务之中")
    assert seen == [] and not enrichment.reads_ahead_here() and not enrichment.in_bulk_session()
