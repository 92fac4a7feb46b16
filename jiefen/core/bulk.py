"""Writing many rows at once without the ORM's per-value overhead.

``bulk_create`` compiles every value of every row through the field machinery, which costs more than the
database's own work when an import writes hundreds of rows a second. ``insert_instances`` writes the same
rows with one multi-row ``INSERT … RETURNING id`` per chunk (on PostgreSQL ``COPY``, the ids drawn from the
table's sequence first): each column's adapter is looked up once per call, values are taken from the instances' attributes, and the new ids are set on the instances. It suits
plain models (no multi-table inheritance); fields with ``auto_now``/``auto_now_add`` get their ``pre_save``.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import orjson
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import signals
from django.db.models.base import ModelState

# Rows per statement: below SQLite's limit on bound parameters (32,766) for tables of up to ~60 columns.
CHUNK = 500
_django_json = DjangoJSONEncoder(ensure_ascii=False)
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
M = TypeVar("M", bound=models.Model)


def json_text(value: Any) -> str:
    """``value`` as JSON text, as Django's encoder writes it (datetimes, decimals, UUIDs and lazy strings by
    its rules), by orjson: an import encodes a few JSON values per case, several times faster so."""
    return orjson.dumps(value, default=_django_json.default, option=_JSON_OPTIONS).decode()


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


@functools.cache
def _fields(
    model: type[models.Model],
) -> tuple[tuple[tuple[str, str, models.Field, bool, Callable[[], Any]], ...], frozenset[str]]:
    """``model``'s concrete fields in order (name, attname, the field, whether it is a foreign key, its
    default), and every name a value may be given by."""
    fields = tuple((f.name, f.attname, f, f.is_relation, f.get_default) for f in model._meta.concrete_fields)
    return fields, frozenset(name for f in fields for name in f[:2])


def build(model: type[M], **values: Any) -> M:
    """``model(**values)`` for an instance about to be written, faster: the values go in positionally
    (Django's fast path, as for rows read from the database) and defaults fill the rest. A related object
    given by its field's name sets the id and is cached, as the keyword form does."""
    fields, names = _fields(model)
    if not names.issuperset(values):
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(set(values) - names))}")
    args: list[Any] = []
    related: list[tuple[models.Field, Any]] = []
    for name, attname, field, is_relation, default in fields:
        if attname in values:
            args.append(values[attname])
        elif is_relation and name in values:
            obj = values[name]
            related.append((field, obj))
            args.append(None if obj is None else obj.pk)
        else:
            args.append(default())
    instance = _instance(model, args)
    for field, obj in related:
        field.set_cached_value(instance, obj)  # type: ignore[attr-defined]
    return instance


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...] | None:
    """``model``'s attribute names in field order, when an instance may be made by filling its ``__dict__``:
    no ``__init__`` of its own and nothing listening for its instances being made (else None)."""
    plain = model.__init__ is models.Model.__init__ and not (
        signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
    )
    return tuple(f.attname for f in model._meta.concrete_fields) if plain else None


def _instance(model: type[M], args: list[Any]) -> M:
    """``model(*args)`` (every concrete field's value, in order): what ``Model.__init__`` does with positional
    values, without its per-field ``setattr`` and signal sends where nothing depends on them."""
    attnames = _attnames(model)
    if attnames is None:
        return model(*args)
    instance = model.__new__(model)
    instance._state = ModelState()
    instance.__dict__.update(zip(attnames, args, strict=True))
    return instance


def _reader(attname: str, kind: int, field: models.Field, ops: Any) -> Callable[[models.Model], Any]:
    """How to read a column's database value from an instance (the backend's adapters looked up once)."""
    get = operator.attrgetter(attname)
    if kind == _PLAIN:
        return get
    if kind == _JSON:
        return lambda obj: None if (value := get(obj)) is None else json_text(value)
    if kind == _DATETIME:
        adapt = datetime_adapter(ops)
        return lambda obj: adapt(get(obj))
    if kind == _AUTO_DATETIME:
        adapt = datetime_adapter(ops)
        return lambda obj: adapt(field.pre_save(obj, True))
    if kind == _DATE:
        adapt_date = ops.adapt_datefield_value
        return lambda obj: adapt_date(get(obj))
    if kind == _DECIMAL:
        decimal = cast(models.DecimalField, field)
        return lambda obj: ops.adapt_decimalfield_value(get(obj), decimal.max_digits, decimal.decimal_places)
    return lambda obj: field.get_db_prep_save(get(obj), connection)


def datetime_adapter(ops: Any) -> Callable[[Any], Any]:
    """The backend's adapter for datetimes; on SQLite with UTC storage an equivalent without its per-value
    settings look-ups (an import writes a dozen datetimes per case)."""
    adapt: Callable[[Any], Any] = ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or not settings.USE_TZ or connection.timezone != dt.UTC:
        return adapt

    # (a batch's rows share most of their times: "now" and the deadlines that follow from it)
    written: dict[dt.datetime, str] = {}

    def utc_text(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            text = written.get(value)
            if text is None:
                text = written[value] = str(value.astimezone(dt.UTC).replace(tzinfo=None))
            return text
        return adapt(value)

    return utc_text


def _value(obj: models.Model, attname: str, kind: int, field: models.Field) -> Any:
    return _reader(attname, kind, field, connection.ops)(obj)


@functools.cache
def _statement_parts(model: type[models.Model], attnames: tuple[str, ...], vendor: str) -> tuple[str, str]:
    """For these columns of ``model``: the column list and one VALUES row's placeholders."""
    fields = [next(f for f in model._meta.concrete_fields if f.attname == name) for name in attnames]
    json_cast = "::jsonb" if vendor == "postgresql" else ""
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one_row = ", ".join("%s" + json_cast if isinstance(f, models.JSONField) else "%s" for f in fields)
    return names, f"({one_row})"


def insert_rows(
    model: type[models.Model], attnames: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert rows of database-ready values for the columns ``attnames`` of ``model`` (JSON as text), in the
    caller's transaction; their ids, in order. On PostgreSQL, several rows take their ids from the table's
    sequence and go in by ``COPY`` (psycopg formats its rows in C; array or VALUES parameters are quoted one by
    one in Python, a fifth of an import's time). Elsewhere, and for one row, a multi-row ``INSERT … VALUES …
    RETURNING`` per chunk."""
    if not rows:
        return []
    if connection.vendor == "postgresql" and len(rows) > 1:
        return _copy_rows(model, attnames, rows)
    names, one_row = _statement_parts(model, tuple(attnames), connection.vendor)
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
    ids: list[int] = []
    with connection.cursor() as cursor:
        # (Django's own path where it logs the statements or wraps them: it does that, not a copy of it here)
        plain = (
            connection.vendor == "sqlite"
            and not connection.queries_logged
            and not connection.execute_wrappers
        )
        execute = _qmark_execute(cursor) if plain else None
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            # Names and placeholders come from the model; values go as parameters.
            source = f"VALUES {', '.join([one_row] * len(chunk))}"
            params = [value for row in chunk for value in row]
            statement = f"INSERT INTO {table} ({names}) {source} RETURNING {pk_column}"
            if execute is not None:
                execute(statement.replace("%s", "?"), params)
            else:
                cursor.execute(statement, params)
            # RETURNING gives the ids in the order of the rows.
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


def _qmark_execute(cursor: Any) -> Callable[[str, list[Any]], Any]:
    """Run a statement written with SQLite's own ``?`` placeholders on Django's cursor, with the checks and
    error translation of its ``execute``, without its rewriting of ``%s`` to ``?`` by regular expression: over
    the thousands of placeholders of an import's statements, a thirtieth of its time."""
    db, raw = cursor.db, cursor.cursor

    def run(statement: str, params: list[Any]) -> Any:
        db.validate_no_broken_transaction()
        with db.wrap_database_errors:
            return sqlite3.Cursor.execute(raw, statement, params)

    return run


def _copy_rows(
    model: type[models.Model], attnames: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    names, _ = _statement_parts(model, tuple(attnames), connection.vendor)
    quote = connection.ops.quote_name
    table, pk_column = model._meta.db_table, model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [_id_sequence(cursor, table, pk_column), len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        statement = f"COPY {quote(table)} ({quote(pk_column)}, {names}) FROM STDIN"
        if _overlap.active:
            _overlap.start(statement, ids, rows)
        else:
            with connection.wrap_database_errors:  # (Django's errors, as for its own statements)
                _copy_in(cursor.cursor, statement, ids, rows)
    return ids


def _copy_in(
    cursor: Any,
    statement: str,
    ids: Sequence[int],
    rows: Sequence[Sequence[Any]],
    started: threading.Event | None = None,
) -> None:
    """``COPY`` the rows in with their ids, on a psycopg cursor (which holds its connection's lock from the
    start of the ``COPY`` until the server has inserted the last row); ``started`` is set once it holds it,
    and the cursor is closed after."""
    try:
        with cursor.copy(statement) as copy:
            if started is not None:
                started.set()
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    finally:
        if started is not None:
            started.set()
            cursor.close()


class _Overlap(threading.local):
    """The state of ``overlapped_copies`` in this thread (Django's connections are per thread): while it is
    active, the copier thread of the block and the ``COPY`` under way in it."""

    copier: ThreadPoolExecutor | None = None
    pending: Future[None] | None = None

    @property
    def active(self) -> bool:
        return self.copier is not None

    def start(self, statement: str, ids: Sequence[int], rows: Sequence[Sequence[Any]]) -> None:
        """Run the ``COPY`` in the block's copier and return once it holds the connection."""
        assert self.copier is not None
        self.settle()
        started = threading.Event()
        self.pending = self.copier.submit(
            _copy_in, connection.connection.cursor(), statement, ids, rows, started
        )
        started.wait()

    def settle(self, *, raise_error: bool = True) -> None:
        """Wait for the ``COPY`` under way, if any; its error, if it failed, is raised here (as Django's)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        error = pending.exception()
        if error is not None and raise_error:
            with connection.wrap_database_errors:
                raise error


_overlap = _Overlap()


def _settling(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    _overlap.settle()
    return execute(sql, params, many, context)


@contextmanager
def overlapped_copies() -> Iterator[None]:
    """Inside, on PostgreSQL, each ``COPY`` of ``insert_rows`` runs in a second thread while Python goes on
    (building the next rows, analysing the cases) until this connection's next statement, which waits for it
    and raises its error if it failed. The import waited for the server to insert each batch's rows in a
    seventh of its time.

    For a caller's transaction: enter it inside the ``atomic`` block, so the last ``COPY`` is waited for when
    the block's body ends, before the commit (or the rollback, after an error)."""
    if connection.vendor != "postgresql" or _overlap.active:
        yield
        return
    # (one thread per block: it ends with the block, so no thread is left behind in a web worker's threads)
    _overlap.copier = ThreadPoolExecutor(1, thread_name_prefix="jiefen-copy")
    try:
        with connection.execute_wrapper(_settling):
            yield
    except BaseException:
        _overlap.settle(raise_error=False)
        raise
    else:
        _overlap.settle()
    finally:
        _overlap.copier.shutdown(wait=True)
        _overlap.copier = None
        _overlap.pending = None


_sequences: dict[tuple[str, str, str], str] = {}


def _id_sequence(cursor: Any, table: str, pk_column: str) -> str:
    """The sequence behind a table's id column (serial or identity), looked up once per database and table:
    written into the statement that draws the ids, PostgreSQL looked it up again for every id drawn (a
    fourteenth of the server's work in an import)."""
    key = (connection.alias, connection.settings_dict["NAME"], table)
    if key not in _sequences:
        # Names come from the model.
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [connection.ops.quote_name(table), pk_column])
        _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


def _getter(attnames: Sequence[str]) -> Callable[[models.Model], tuple[Any, ...]]:
    """The values of ``attnames`` of an instance, as a tuple."""
    if len(attnames) > 1:
        return operator.attrgetter(*attnames)
    return lambda obj: tuple(getattr(obj, name) for name in attnames)


def insert_instances(objs: Sequence[models.Model]) -> list[int]:
    """Insert unsaved instances of one model in the caller's transaction; set and return their ids."""
    if not objs:
        return []
    model = type(objs[0])
    _, _, plan = _plan(model, connection.vendor)
    ops = connection.ops
    # The columns whose values go as they are first, read in one call per instance; then the others.
    plain = [attname for attname, kind, _ in plan if kind == _PLAIN]
    others = [(attname, kind, field) for attname, kind, field in plan if kind != _PLAIN]
    readers = [_reader(attname, kind, field, ops) for attname, kind, field in others]
    get_plain = _getter(plain)
    rows = [(*get_plain(obj), *[read(obj) for read in readers]) for obj in objs]
    ids = insert_rows(model, [*plain, *(attname for attname, _, _ in others)], rows)
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


def find_or_insert(obj: M, *, matches: Sequence[Mapping[str, Any]]) -> M:
    """The row of ``obj``'s model that equals one of ``matches`` (each ``{attname: value}``; the first
    alternative that finds a row wins, and the lowest id within it), else ``obj`` inserted, its id set.

    On PostgreSQL one statement: the look-ups and a conditional insert in one data-modifying CTE, which share
    one snapshot. Elsewhere a look-up per alternative, then the insert. Either way, like any look-up before an
    insert without a unique index, two transactions inserting the same new row at once both insert it.
    """
    model = type(obj)
    if connection.vendor != "postgresql" or not matches:
        for match in matches:
            found = model._default_manager.filter(**match).order_by("pk").first()
            if found is not None:
                return found
        insert_instances([obj])
        return obj
    meta, quote = model._meta, connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)  # type: ignore[union-attr]
    every_column = ", ".join(quote(f.column) for f in meta.concrete_fields)
    columns, one_row, plan = _plan(model, connection.vendor)
    # Names come from the model; values go as parameters.
    alternatives: list[str] = []
    params: list[Any] = []
    for rank, match in enumerate(matches):
        where = " AND ".join(
            f"{quote(cast(models.Field, meta.get_field(name)).column)} = %s" for name in match
        )
        alternatives.append(
            f"(SELECT {every_column}, {rank} AS alternative FROM {table} WHERE {where} ORDER BY {pk} LIMIT 1)"  # noqa: S608
        )
        params.extend(match.values())
    params.extend(_value(obj, attname, kind, field) for attname, kind, field in plan)
    sql = (
        f"WITH found AS ("  # noqa: S608
        f"  SELECT {every_column} FROM ({' UNION ALL '.join(alternatives)}) AS candidates"
        f"  ORDER BY alternative LIMIT 1"
        f"), created AS ("
        f"  INSERT INTO {table} ({columns}) SELECT {one_row[1:-1]} WHERE NOT EXISTS (SELECT FROM found)"
        f"  RETURNING {every_column}"
        f") SELECT {every_column}, false AS inserted FROM found"
        f"  UNION ALL SELECT {every_column}, true FROM created"
    )
    # raw() makes the row an instance through the fields' converters, as the ORM's own queries do.
    (row,) = list(model._default_manager.raw(sql, params))
    if not getattr(row, "inserted"):  # noqa: B009 - a column of the query, not a field
        return row
    obj.pk = row.pk
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def _unsaved_parents(obj: models.Model, earlier: dict[int, int]) -> dict[str, int]:
    """attname → position in ``earlier`` (by ``id()``) of each foreign key of ``obj`` that points at an
    unsaved instance written before it."""
    parents = {}
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.many_to_one and field.is_cached(obj):  # type: ignore[attr-defined]
            position = earlier.get(id(field.get_cached_value(obj)))  # type: ignore[attr-defined]
            if position is not None:
                parents[field.attname] = position
    return parents


def insert_together(objs: Sequence[models.Model]) -> None:
    """Insert unsaved instances of any plain models, in order, in the caller's transaction; a foreign key may
    point at an instance before it in ``objs`` (assigned as the related object, still unsaved), and is set
    to its new id. Sets every instance's id.

    On PostgreSQL one statement, whatever the number of tables: a data-modifying CTE per run of rows of one
    model (``INSERT … RETURNING id``), each id read by the later rows from its CTE. Elsewhere one
    ``insert_instances`` per run.
    """
    if not objs:
        return
    earlier = {id(obj): position for position, obj in enumerate(objs)}
    parents = [_unsaved_parents(obj, earlier) for obj in objs]
    runs: list[list[int]] = []  # positions of consecutive rows of one model
    for position, obj in enumerate(objs):
        if runs and type(objs[runs[-1][0]]) is type(obj) and parents[runs[-1][0]] == parents[position]:
            runs[-1].append(position)
        else:
            runs.append([position])
    if connection.vendor != "postgresql":
        for run in runs:
            for position in run:
                for attname, parent in parents[position].items():
                    setattr(objs[position], attname, objs[parent].pk)
            insert_instances([objs[position] for position in run])
        return
    quote = connection.ops.quote_name
    run_of = {position: number for number, run in enumerate(runs) for position in run}
    ctes: list[str] = []
    params: list[Any] = []
    results: list[str] = []
    for number, run in enumerate(runs):
        model = type(objs[run[0]])
        columns, _, plan = _plan(model, connection.vendor)
        values = []
        for position in run:
            row = []
            for attname, kind, field in plan:
                if attname not in parents[position]:
                    row.append("%s::jsonb" if kind == _JSON else "%s")
                    params.append(_value(objs[position], attname, kind, field))
                else:
                    parent = parents[position][attname]
                    offset = runs[run_of[parent]].index(parent)
                    row.append(f"(SELECT id FROM r{run_of[parent]} LIMIT 1 OFFSET {offset})")  # noqa: S608
            values.append(f"({', '.join(row)})")
        pk = quote(model._meta.pk.column)  # type: ignore[union-attr]
        ctes.append(
            f"r{number} AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join(values)} RETURNING {pk} AS id)"
        )
        results.append(f"SELECT {number} AS run, id FROM r{number}")  # noqa: S608
    with connection.cursor() as cursor:
        # Names come from the models; values go as parameters. RETURNING gives each run's ids in the order
        # of its rows, and UNION ALL keeps the runs in order (as insert_rows relies on).
        cursor.execute(f"WITH {', '.join(ctes)} {' UNION ALL '.join(results)}", params)
        returned = cursor.fetchall()
    if [number for number, _ in returned] != [run_of[position] for position in range(len(objs))]:
        raise RuntimeError("insert_together: the ids came back out of order")
    ids = [pk for _, pk in returned]
    for position, (obj, pk) in enumerate(zip(objs, ids, strict=True)):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
        for attname, parent in parents[position].items():
            setattr(obj, attname, objs[parent].pk)


def refresh_statistics(model: type[models.Model], *fields: str) -> None:
    """On PostgreSQL, ``ANALYZE`` the model's table for the columns of ``fields`` (all of them: a tenth of the
    time or less on a table of long texts): its planner estimates rows from statistics that autovacuum
    refreshes only now and then (or never, where it is turned off), so a table that a bulk load has grown
    several times over is planned as if it were still small. Elsewhere nothing (SQLite's planner uses its
    indexes without statistics)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(cast(models.Field, model._meta.get_field(name)).column) for name in fields)
    with connection.cursor() as cursor:
        # Names come from the model.
        cursor.execute(f"ANALYZE {quote(model._meta.db_table)} ({columns})")


def estimated_rows(model: type[models.Model]) -> int:
    """PostgreSQL's estimate of the rows in the model's table, from its statistics (0 where it has none, and
    elsewhere: SQLite keeps no such estimate)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return max(0, int(row[0])) if row else 0
