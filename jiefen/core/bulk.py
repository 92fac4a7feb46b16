"""Writing many rows at once without the ORM's per-value overhead.

``bulk_create`` compiles every value of every row through the field machinery, which costs more than the
database's own work when an import writes hundreds of rows a second. ``insert_instances`` writes the same
rows with one multi-row ``INSERT … RETURNING id`` per chunk: each column's adapter is looked up once per
call, values are taken from the instances' attributes, and the new ids are set on the instances. It suits
plain models (no multi-table inheritance); fields with ``auto_now``/``auto_now_add`` get their ``pre_save``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

# Rows per statement: below SQLite's limit on bound parameters (32,766) for tables of up to ~60 columns.
CHUNK = 500
_json = DjangoJSONEncoder(ensure_ascii=False)


def _column_writer(field: models.Field) -> tuple[str, Callable[[models.Model], Any]]:
    """The SQL placeholder for ``field`` and a function giving an instance's database value for it."""
    attname = field.attname
    ops = connection.ops
    if isinstance(field, models.JSONField):
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        return "%s" + cast, lambda obj: None if (v := getattr(obj, attname)) is None else _json.encode(v)
    if isinstance(field, models.DateTimeField):
        if field.auto_now or field.auto_now_add:
            return "%s", lambda obj: ops.adapt_datetimefield_value(field.pre_save(obj, True))
        return "%s", lambda obj: ops.adapt_datetimefield_value(getattr(obj, attname))
    if isinstance(field, models.DateField):
        return "%s", lambda obj: ops.adapt_datefield_value(getattr(obj, attname))
    if isinstance(field, models.DecimalField):
        return "%s", lambda obj: ops.adapt_decimalfield_value(
            getattr(obj, attname), field.max_digits, field.decimal_places
        )
    if isinstance(field, models.UUIDField | models.GenericIPAddressField | models.BinaryField):
        return "%s", lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)
    return "%s", lambda obj: getattr(obj, attname)


def insert_instances(objs: Sequence[models.Model]) -> list[int]:
    """Insert unsaved instances of one model in the caller's transaction; set and return their ids."""
    if not objs:
        return []
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
    writers = [_column_writer(f) for f in fields]
    one_row = "(" + ", ".join(placeholder for placeholder, _ in writers) + ")"
    getters = [getter for _, getter in writers]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)  # type: ignore[union-attr]
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params = [get(obj) for obj in chunk for get in getters]
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
