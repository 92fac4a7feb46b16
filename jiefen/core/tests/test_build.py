"""Instances built for a bulk write equal those of the keyword form, and datetimes are written as Django
writes them."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from jiefen.cases.models import Case, Matter, Petitioner
from jiefen.core import bulk
from jiefen.core.bulk import build, datetime_adapter, insert_instances, json_text, overlapped_copies

pytestmark = pytest.mark.django_db


def _values(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_build_gives_the_instance_of_the_keyword_form(db: Any) -> None:
    matter = Matter(title="同一问题")
    insert_instances([matter])
    person = Petitioner(name="张三")
    insert_instances([person])
    now = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    given = {
        "receipt_number": "SJS-20261127-00001",
        "channel": "web",
        "case_type": "complaint",
        "title": "噪音扰民",
        "content": "夜间施工",
        "matter": matter,
        "petitioner": person,
        "category_id": None,
        "received_at": now,
        "created_at": now,
    }
    built, keyword = build(Case, **given), Case(**given)
    assert _values(built) == _values(keyword)
    assert vars(built).keys() == vars(keyword).keys()
    assert built.matter is matter and built.petitioner is person  # cached, no query to read them back
    assert built._state.adding and built.pk is None
    assert built.enrichment == {} and built.enrichment is not build(Case, **given).enrichment
    insert_instances([built])
    assert Case.objects.get(pk=built.pk).matter_id == matter.pk


def test_build_makes_the_instance_through_init_when_something_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db.models.signals import post_init

    from jiefen.core import bulk

    seen: list[Any] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(listener, sender=Matter)
    bulk._attnames.cache_clear()
    try:
        matter = build(Matter, title="同一问题")
    finally:
        post_init.disconnect(listener, sender=Matter)
        bulk._attnames.cache_clear()
    assert seen == [matter] and matter.title == "同一问题"
    build(Matter, title="又一个")
    assert seen == [matter]


def test_build_refuses_a_name_the_model_does_not_have() -> None:
    with pytest.raises(TypeError, match="Case has no field colour"):
        build(Case, title="t", colour="red")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=ZoneInfo("Asia/Shanghai")),
        dt.datetime(2021, 5, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2021, 6, 1, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        None,
    ],
)
def test_datetimes_are_written_as_the_backend_writes_them(value: dt.datetime | None) -> None:
    assert datetime_adapter(connection.ops)(value) == connection.ops.adapt_datetimefield_value(value)


def test_many_rows_get_their_ids_in_order_and_their_values_back(db: Any) -> None:
    """Several rows go in by one statement (``COPY`` on PostgreSQL): each instance gets its own row's id, and
    text, JSON, datetimes and nulls come back as written."""
    when = dt.datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=dt.UTC)
    cases = [
        build(
            Case,
            receipt_number=f"SJS-20261127-{n:05d}",
            channel="web",
            case_type="complaint",
            title=f"第{n}件\t含制表符,逗号\\反斜杠",
            content="",
            enrichment={"n": n, "词": ["噪音", None]},
            latitude=None if n % 2 else 39.9,
            received_at=when,
            created_at=when,
        )
        for n in range(5)
    ]
    ids = insert_instances(cases)
    assert ids == [c.pk for c in cases] and len(set(ids)) == 5
    stored = {c.pk: c for c in Case.objects.filter(pk__in=ids)}
    for n, case in enumerate(cases):
        back = stored[case.pk]
        assert (back.receipt_number, back.title, back.enrichment) == (
            case.receipt_number,
            case.title,
            {"n": n, "词": ["噪音", None]},
        )
        assert (back.latitude, back.received_at) == (case.latitude, when)
    later = build(Case, receipt_number="SJS-20261127-99999", channel="web", case_type="complaint", title="后")
    later.received_at = later.created_at = when
    insert_instances([later])
    assert later.pk > max(ids)  # the sequence moved past the ids taken


def test_an_insert_is_logged_and_its_errors_are_djangos(db: Any) -> None:
    """Where Django logs the statements, the insert is among them (its own path: on SQLite the statements
    otherwise skip its placeholder rewriting); either way a constraint's refusal is Django's IntegrityError,
    which callers catch."""
    when = dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC)

    def case(number: str) -> Case:
        return build(
            Case,
            receipt_number=number,
            channel="web",
            case_type="complaint",
            title="甲",
            received_at=when,
            created_at=when,
        )

    with CaptureQueriesContext(connection) as queries:
        insert_instances([case("SJS-20261127-00001")])
    assert any("INSERT INTO" in q["sql"] and "cases_case" in q["sql"] for q in queries.captured_queries)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_instances([case("SJS-20261127-00001")])
    assert Case.objects.filter(receipt_number="SJS-20261127-00001").count() == 1


def _cases(*numbers: str) -> list[Case]:
    when = dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=dt.UTC)
    return [
        build(
            Case,
            receipt_number=n,
            channel="web",
            case_type="complaint",
            title=n,
            received_at=when,
            created_at=when,
        )
        for n in numbers
    ]


@pytest.mark.django_db(transaction=True)
def test_overlapped_copies_are_waited_for_and_their_errors_are_raised(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside ``overlapped_copies`` (on PostgreSQL each ``COPY`` finishes in a second thread) the next
    statement sees the rows; a ``COPY`` that fails raises its own error as Django's — at the next statement,
    or at the end of the block — and its transaction stores nothing."""
    copied_in: list[str] = []
    copy_in = bulk._copy_in

    def spy(*args: Any) -> None:
        copied_in.append(threading.current_thread().name)
        copy_in(*args)

    monkeypatch.setattr(bulk, "_copy_in", spy)
    with transaction.atomic(), overlapped_copies():
        ids = insert_instances(_cases("SJS-20261127-00001", "SJS-20261127-00002"))
        matters = [Matter(title="同一问题"), Matter(title="另一问题")]
        insert_instances(matters)
        assert Case.objects.filter(pk__in=ids).count() == 2
    assert Matter.objects.filter(pk__in=[m.pk for m in matters]).count() == 2
    if connection.vendor == "postgresql":  # (SQLite inserts by statements, in this thread)
        assert len(copied_in) == 2 and all(name.startswith("jiefen-copy") for name in copied_in)
    # (the copier thread ended with its block)
    assert not [t for t in threading.enumerate() if t.name.startswith("jiefen-copy")]
    with pytest.raises(IntegrityError), transaction.atomic(), overlapped_copies():
        insert_instances([Matter(title="不留")])
        insert_instances(_cases("SJS-20261127-00003", "SJS-20261127-00001"))  # a number already given
        Case.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic(), overlapped_copies():
        insert_instances(_cases("SJS-20261127-00004", "SJS-20261127-00002"))
    assert set(Case.objects.values_list("receipt_number", flat=True)) == {
        "SJS-20261127-00001",
        "SJS-20261127-00002",
    }
    assert not Matter.objects.filter(title="不留").exists()
    with pytest.raises(IntegrityError):  # (outside the block too: COPY's errors are Django's)
        insert_instances(_cases("SJS-20261127-00005", "SJS-20261127-00001"))


def test_json_text_reads_back_as_djangos_encoder_writes_it() -> None:
    import json
    import uuid
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils.translation import gettext_lazy

    value = {
        "at": dt.datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=ZoneInfo("Asia/Shanghai")),
        "utc": dt.datetime(2026, 11, 27, 1, 30, tzinfo=dt.UTC),
        "day": dt.date(2026, 11, 27),
        "time": dt.time(9, 30),
        "amount": Decimal("150000.50"),
        "id": uuid.UUID(int=7),
        "label": gettext_lazy("Case"),
        "score": 0.1 + 0.2,
        "nested": [{"中文": "油烟扰民", 3: None}, True, 12],
    }
    assert json.loads(json_text(value)) == json.loads(DjangoJSONEncoder(ensure_ascii=False).encode(value))
    with pytest.raises(TypeError):
        json_text({"a": object()})
