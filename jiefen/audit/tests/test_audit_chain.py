"""The hash-chained audit log and ``jiefen verify-audit``."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.db import connection, transaction

from jiefen.audit.models import AuditAction, AuditEntry
from jiefen.audit.services import GENESIS, record, verify_chain
from jiefen.cli import main


def test_case_events_and_security_acts_are_chained(make_case: Any, dispatcher: Any) -> None:
    from jiefen.cases.services import accept_case

    case = make_case()
    accept_case(case=case, actor=dispatcher)
    record(action=AuditAction.EXPORT, actor=dispatcher, object_type="case_list", data={"rows": 1})
    entries = list(AuditEntry.objects.order_by("seq"))
    assert entries[0].prev_hash == GENESIS or entries[0].seq > 1
    for before, after in itertools.pairwise(entries):
        assert after.seq == before.seq + 1
        assert after.prev_hash == before.hash
    case_entries = AuditEntry.objects.filter(action=AuditAction.CASE_EVENT, object_id=str(case.pk))
    audited = [event["id"] for entry in case_entries for event in entry.data["events"]]
    assert sorted(audited) == sorted(case.events.values_list("id", flat=True))
    assert AuditEntry.objects.filter(
        action=AuditAction.PERMISSION_CHANGED, data__username="dispatcher"
    ).exists()
    assert verify_chain().ok


def test_entries_cannot_be_changed_through_the_orm(make_case: Any) -> None:
    make_case()
    entry = AuditEntry.objects.first()
    assert entry is not None
    entry.action = "login"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def _tamper(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_audit_names_the_first_altered_row(make_case: Any, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        make_case()
    assert main(["verify-audit"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    target = AuditEntry.objects.order_by("seq")[AuditEntry.objects.count() // 2]
    _tamper("UPDATE audit_auditentry SET data = %s WHERE seq = %s", ['{"kind": "forged"}', target.seq])
    result = verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, target.seq)
    assert main(["verify-audit"]) == 1
    assert f"#{target.seq}" in capsys.readouterr().err


def test_verify_audit_catches_a_deleted_row(make_case: Any) -> None:
    make_case()
    make_case()
    victim = AuditEntry.objects.order_by("seq")[1]
    _tamper("DELETE FROM audit_auditentry WHERE seq = %s", [victim.seq])
    result = verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, victim.seq)
    assert "missing" in result.reason


def test_verify_audit_catches_a_rehashed_row_whose_successor_no_longer_links(make_case: Any) -> None:
    from jiefen.audit.services import entry_hash

    make_case()
    make_case()
    rows = list(AuditEntry.objects.order_by("seq")[:3])
    forged = rows[1]
    fields = {
        f: getattr(forged, f)
        for f in (
            "seq",
            "at",
            "actor_id",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "ip",
            "prev_hash",
        )
    }
    fields["data"] = {"kind": "forged"}
    new_hash = entry_hash(**fields)
    _tamper(
        "UPDATE audit_auditentry SET data = %s, hash = %s WHERE seq = %s",
        ['{"kind": "forged"}', new_hash, forged.seq],
    )
    result = verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, rows[2].seq)


def test_failed_and_successful_logins_are_audited(client: Any, clerk: Any) -> None:
    assert not client.login(username="clerk", password="wrong")
    assert client.login(username="clerk", password="test-pass-8731")
    actions = list(
        AuditEntry.objects.filter(action__in=["login", "login_failed"]).values_list("action", flat=True)
    )
    assert actions == ["login_failed", "login"]
    assert AuditEntry.objects.get(action="login_failed").data == {"username": "clerk"}


def test_role_changes_made_outside_the_services_are_audited(clerk: Any) -> None:
    from django.contrib.auth.models import Group

    clerk.groups.add(Group.objects.get(name="dispatcher"))
    entry = AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGED).latest("seq")
    assert entry.data == {"change": "add", "relation": "user_groups", "items": ["dispatcher"]}
    assert entry.object_id == str(clerk.pk)


def test_a_role_change_through_the_service_is_recorded_once_with_its_actor(
    admin_user: Any, clerk: Any
) -> None:
    from jiefen.org.services import set_roles

    before = AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGED).count()
    set_roles(user=clerk, roles=["reception_clerk", "supervisor"], actor=admin_user)
    entries = list(AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGED).order_by("seq")[before:])
    assert [(e.actor_name, e.data) for e in entries] == [
        (
            "admin",
            {"username": "clerk", "before": ["reception_clerk"], "after": ["reception_clerk", "supervisor"]},
        )
    ]


@pytest.mark.django_db(transaction=True)
def test_appends_from_concurrent_transactions_form_one_unbroken_chain() -> None:
    """Each append reads the last entry only after it holds the chain: an append that read a stale tail would
    reuse a sequence number (a unique violation) or fork the chain."""
    writers, appends = 4, 8
    barrier = threading.Barrier(writers)
    errors: list[str] = []

    def write(writer: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(appends):
                with transaction.atomic():
                    record(action=AuditAction.EXPORT, object_type="bench", object_id=f"{writer}-{n}")
                    record(action=AuditAction.EXPORT, object_type="bench", object_id=f"{writer}-{n}b")
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connection.close()

    before = AuditEntry.objects.count()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert AuditEntry.objects.count() == before + writers * appends * 2
    result = verify_chain()
    assert (result.ok, result.checked) == (True, before + writers * appends * 2)
    # Within each transaction the two appends are adjacent: nothing else got between them.
    entries = list(AuditEntry.objects.filter(object_type="bench").order_by("seq"))
    for first, second in zip(entries[::2], entries[1::2], strict=True):
        assert (second.seq, second.object_id) == (first.seq + 1, first.object_id + "b")


def test_data_is_hashed_as_the_json_round_trip_gives_it_back() -> None:
    import datetime as dt
    import json
    import uuid
    from decimal import Decimal
    from typing import NamedTuple

    from jiefen.audit.services import as_stored

    class Pair(NamedTuple):
        case_id: int
        score: float

    data = {
        "at": dt.datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=dt.UTC),
        "day": dt.date(2026, 11, 27),
        "amount": Decimal("150000.50"),
        "id": uuid.UUID(int=7),
        "pairs": [Pair(1, 0.5), (2, 0.25)],
        "keys": {1: "一", "二": [True, None, 1.5]},
        "object": object,
    }
    assert as_stored(data) == json.loads(json.dumps(data, ensure_ascii=False, default=str))
