"""Two people acting on the same case at the same moment: one wins, the other gets a clear conflict, and
nothing is lost or doubled. Runs real threads with their own database connections."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from jiefen.cases import services
from jiefen.cases.models import Case, CaseEvent, EventKind
from jiefen.cases.workflow import CaseStatus
from jiefen.core.errors import Conflict


def _race(*calls: Any) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index: int, call: Any) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except Conflict as exc:
            outcomes[index] = f"conflict: {exc.message}"
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcomes[index] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_at_once_one_wins(make_case: Any, dispatcher: Any) -> None:
    case = make_case()
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    outcomes = _race(
        lambda: services.accept_case(case=first, actor=dispatcher),
        lambda: services.decline_case(case=second, actor=dispatcher, reason="重复", proper_channel="无"),
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    assert any("刚刚已被其他人处理" in o for o in outcomes)
    final = Case.objects.get(pk=case.pk)
    assert final.status in (CaseStatus.ACCEPTED, CaseStatus.DECLINED)
    assert final.version == 2
    assert CaseEvent.objects.filter(case=case, kind=EventKind.MOVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_registrations_at_once_get_distinct_receipt_numbers(make_case: Any) -> None:
    outcomes = _race(*[make_case for _ in range(6)])
    assert outcomes == ["ok"] * 6
    numbers = list(Case.objects.values_list("receipt_number", flat=True))
    assert len(set(numbers)) == 6
    from jiefen.audit.services import verify_chain

    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite writes one transaction at a time from its BEGIN"
)
def test_a_registration_holds_the_days_counter_only_for_its_own_number(
    make_case: Any, monkeypatch: pytest.MonkeyPatch, in_thread: Any
) -> None:
    """While one registration is still inside its transaction, another takes its number at once: the first
    took its number in a statement of its own, not in the transaction that holds on to commit."""
    from django.utils import timezone

    from jiefen.cases.intake import reserve_receipt_numbers
    from jiefen.cases.services import registration

    inside, release = threading.Event(), threading.Event()
    audit_events = registration.audit_events

    def paused(events: Any) -> None:
        inside.set()
        release.wait(timeout=20)
        audit_events(events)

    monkeypatch.setattr(registration, "audit_events", paused)

    first = in_thread(make_case)
    try:
        assert inside.wait(timeout=20)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting for the first to commit fails the test
        (number,) = reserve_receipt_numbers(timezone.localdate(), 1)
    finally:
        release.set()
        first.join(timeout=30)
    (registered,) = Case.objects.values_list("receipt_number", flat=True)
    assert registered < number
