"""Writing many rows at once without the ORM's per-value overhead.

``bulk_create`` compiles every value of every row through the field machinery, which costs more than the
database's own work when an import writes hundreds of rows a second. ``insert_instances`` writes the same
rows with one multi-row ``INSERT … RETURNING id`` per chunk: each column's adapter is looked up once per
call, values are taken from the instances' attributes, and the new ids are set on the instances. It suits
plain models (no multi-table inheritance); fields with ``auto_now``/``auto_now_add`` get their ``pre_save``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

# Rows per statement: below SQLite's limit on bound parameters (32,766) for tables of up to ~60 columns.
CHUNK = 500
_json = DjangoJSONEncoder(ensure_ascii=False)


_PLAIN, _JSON, _DATETIME, _AUTO_DATETIME, _DATE, _DECIMAL, _PREP = range(7)


@functools.cache
def _plan(model: type[models.Model], vendor: str) -> tuple[str, str, list[tuple[str, int, models.Field]]]:
    """For ``model``: its column list, one row's placeholders, and how to read each column's value."""
    meta = model._meta
    columns: list[tuple[str, int, models.Field]] = []
    placeholders = []
    for f in meta.concrete_fields:
        if f is meta.auto_field:
            continue
        if isinstance(f, models.JSONField):
            kind = _JSON
        elif isinstance(f, models.DateTimeField):
            kind = _AUTO_DATETIME if f.auto_now or f.auto_now_add else _DATETIME
        elif isinstance(f, models.DateField):
            kind = _DATE
        elif isinstance(f, models.DecimalField):
            kind = _DECIMAL
        elif isinstance(f, models.UUIDField | models.GenericIPAddressField | models.BinaryField):
            kind = _PREP
        else:
            kind = _PLAIN
        columns.append((f.attname, kind, f))
        placeholders.append("%s::jsonb" if kind == _JSON and vendor == "postgresql" else "%s")
    names = ", ".join(connection.ops.quote_name(f.column) for _, _, f in columns)
    return names, "(" + ", ".join(placeholders) + ")", columns


def _value(obj: models.Model, attname: str, kind: int, field: models.Field) -> Any:
    if kind == _PLAIN:
        return getattr(obj, attname)
    ops = connection.ops
    if kind == _JSON:
        value = getattr(obj, attname)
        return None if value is None else _json.encode(value)
    if kind == _DATETIME:
        return ops.adapt_datetimefield_value(getattr(obj, attname))
    if kind == _AUTO_DATETIME:
        return ops.adapt_datetimefield_value(field.pre_save(obj, True))
    if kind == _DATE:
        return ops.adapt_datefield_value(getattr(obj, attname))
    if kind == _DECIMAL:
        decimal = cast(models.DecimalField, field)
        return ops.adapt_decimalfield_value(getattr(obj, attname), decimal.max_digits, decimal.decimal_places)
    return field.get_db_prep_save(getattr(obj, attname), connection)


def insert_instances(objs: Sequence[models.Model]) -> list[int]:
    """Insert unsaved instances of one model in the caller's transaction; set and return their ids."""
    if not objs:
        return []
    meta = objs[0]._meta
    columns, one_row, plan = _plan(type(objs[0]), connection.vendor)
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)  # type: ignore[union-attr]
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params = [_value(obj, attname, kind, field) for obj in chunk for attname, kind, field in plan]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * len(chunk))} "  # noqa: S608
                f"RETURNING {pk_column}",
                params,
            )
            # RETURNING gives the ids in the order of the VALUES rows, on PostgreSQL and SQLite alike.
            ids.extend(pk for (pk,) in cursor.fetchall())
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return ids


def insert_unless_exists(obj: models.Model, *, unique: str) -> bool:
    """Insert ``obj`` unless a row with its value of the unique column ``unique`` exists (or is being inserted
    by a transaction that then commits): one ``INSERT … ON CONFLICT DO NOTHING`` instead of a savepoint round
    trip. True, with ``obj.pk`` set, when this call inserted it."""
    meta = obj._meta
    columns, one_row, plan = _plan(type(obj), connection.vendor)
    quote = connection.ops.quote_name
    unique_column = cast(models.Field, meta.get_field(unique)).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {one_row} "  # noqa: S608
            f"ON CONFLICT ({quote(unique_column)}) DO NOTHING "
            f"RETURNING {quote(meta.pk.column)}",  # type: ignore[union-attr]
            [_value(obj, attname, kind, field) for attname, kind, field in plan],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
