"""Writing rows without the ORM's per-row work: rows of several tables in one statement, and find-or-insert."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiefen.cases.models import Case, CaseEvent, Matter, Petitioner
from jiefen.core.bulk import find_or_insert, insert_together

pytestmark = pytest.mark.django_db
ON_POSTGRES = connection.vendor == "postgresql"


def test_rows_of_several_tables_are_linked_to_the_unsaved_rows_before_them(make_case: Any) -> None:
    template = make_case()
    matter = Matter(title="同一问题")
    case = Case.objects.get(pk=template.pk)
    case.pk, case._state.adding, case.receipt_number, case.matter = None, True, "SJS-20260101-99999", matter
    events = [
        CaseEvent(case=case, kind="note", note=note, data={"n": n}, created_at=timezone.now())
        for n, note in enumerate(["一", "二"])
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_together([matter, case, *events])
    # PostgreSQL: one statement; elsewhere one per run of rows of one table.
    assert len(queries) == (1 if ON_POSTGRES else 3)
    assert case.pk != template.pk and case.matter_id == matter.pk
    stored = Case.objects.get(pk=case.pk)
    assert (stored.receipt_number, stored.matter_id, stored.title) == (
        case.receipt_number,
        matter.pk,
        case.title,
    )
    assert list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", "note", "data")) == [
        (events[0].pk, "一", {"n": 0}),
        (events[1].pk, "二", {"n": 1}),
    ]
    assert all(e.case_id == case.pk for e in events)


def test_find_or_insert_takes_the_first_alternative_that_finds_a_row(db: Any) -> None:
    by_phone = Petitioner.objects.create(name="甲", phone_hash="p1")
    by_id = Petitioner.objects.create(name="乙", phone_hash="p2", id_number_hash="i2")
    with CaptureQueriesContext(connection) as queries:
        found = find_or_insert(
            Petitioner(name="新"), matches=[{"id_number_hash": "i2"}, {"phone_hash": "p1", "name": "甲"}]
        )
    assert (found.pk, found.name, found.created_at) == (by_id.pk, "乙", by_id.created_at)
    assert len(queries) == 1
    found = find_or_insert(
        Petitioner(name="新"), matches=[{"id_number_hash": "none"}, {"phone_hash": "p1", "name": "甲"}]
    )
    assert (found.pk, found.name) == (by_phone.pk, "甲")
    assert Petitioner.objects.count() == 2


def test_find_or_insert_inserts_the_row_when_no_alternative_finds_one(db: Any) -> None:
    Petitioner.objects.create(name="甲", phone_hash="p1")
    new = Petitioner(name="乙", phone_hash="p1")
    with CaptureQueriesContext(connection) as queries:
        found = find_or_insert(new, matches=[{"phone_hash": "p1", "name": "乙"}])
    assert found is new
    assert len(queries) == (1 if ON_POSTGRES else 2)
    assert Petitioner.objects.get(pk=new.pk).name == "乙"
    assert Petitioner.objects.count() == 2
