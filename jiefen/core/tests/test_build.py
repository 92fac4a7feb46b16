"""Instances built for a bulk write equal those of the keyword form, and datetimes are written as Django
writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from jiefen.cases.models import Case, Matter, Petitioner
from jiefen.core.bulk import _datetime_adapter, build, insert_instances

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
    assert built.matter is matter and built.petitioner is person  # cached, no query to read them back
    assert built._state.adding and built.pk is None
    assert built.enrichment == {} and built.enrichment is not build(Case, **given).enrichment
    insert_instances([built])
    assert Case.objects.get(pk=built.pk).matter_id == matter.pk


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
    assert _datetime_adapter(connection.ops)(value) == connection.ops.adapt_datetimefield_value(value)
