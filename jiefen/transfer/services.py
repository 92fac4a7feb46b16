"""Bulk import from other platforms and export of cases.

Import: rows → ``Intake`` → ``register_cases`` in batches, so imported cases are validated, numbered, clocked,
enriched and audited exactly as cases entered by hand. Each batch commits on its own; a row whose
(source, external id) is already in the database is skipped, so an interrupted import can simply be run again
and re-importing a file adds nothing. Rows without an id column get a stable id from their content.

Imported cases start as ``registered`` whatever their status in the other system: the office takes them up in
its own lifecycle. A mapped ``status`` column is kept on the case's (staff-only) timeline as a note.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError
from django.db.models import QuerySet
from django.utils import timezone

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.cases.actors import SYSTEM, Actor
from jiefen.cases.events import new_event, write_events
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import Case, CaseType, Category, Channel, EventKind, Petitioner
from jiefen.cases.queries import may_see_identity
from jiefen.cases.services import enrichment, register_cases
from jiefen.core import crypto
from jiefen.core.bulk import estimated_rows, refresh_statistics
from jiefen.core.errors import InvalidInput
from jiefen.org.models import Unit
from jiefen.transfer import readers
from jiefen.transfer.models import ImportMapping, ImportRun, RunStatus
from jiefen.transfer.timeparse import BadTime, parse_time

KEYS = (
    "id",
    "title",
    "text",
    "time",
    "petitioner",
    "phone",
    "address",
    "category",
    "channel",
    "status",
    "unit",
    "lat",
    "lon",
    "support",
    "oppose",
)
# Rows per transaction: each batch is read ahead in a second process while the one before is written; the
# per-batch work (queries, commit, the index append) is spread thinner the larger the batch. 100,000 rows over
# 20,000 cases: 500 → 1,000 gave 1,975 → 2,127 rows/s on SQLite; 1,000 → 2,000 gave 10–15 % on PostgreSQL
# (its server's work fell by a seventh) and the same on SQLite.
BATCH_SIZE = 2000
SOURCE_MAX = 32
# The database's statistics are refreshed (``core.bulk.refresh_statistics``) whenever an import has added this
# share of the cases there were when they were last refreshed, and at its end (bulk loading, as PostgreSQL's
# manual advises, analyses what it loaded): planned without them, looking up the people's earlier cases read
# every case, 80 ms a batch at 120,000 cases, against 1 ms.
STATISTICS_GROWTH = 1.0
STATISTICS_MIN_ROWS = 5000
# Names other platforms give their channels.
CHANNEL_ALIASES = {
    "12345": Channel.HOTLINE_12345,
    "热线": Channel.HOTLINE_12345,
    "12345热线": Channel.HOTLINE_12345,
    "市民热线": Channel.HOTLINE_12345,
    "网络": Channel.WEB,
    "网站": Channel.WEB,
    "网上": Channel.WEB,
    "app": Channel.MOBILE,
    "微信": Channel.MOBILE,
    "手机": Channel.MOBILE,
    "电话": Channel.PHONE,
    "来访": Channel.WALK_IN,
    "走访": Channel.FIELD_VISIT,
    "信件": Channel.LETTER,
    "邮件": Channel.EMAIL,
}
_SCRAPED_SPACE = re.compile(r"[ \t\u3000\xa0]*\n[\s\u3000\xa0]*")


def parse_mapping(spec: str) -> dict[str, str]:
    """``key=column,key=column`` → {key: column}. Unknown keys and a mapping without text or title are refused."""
    columns: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        key, column = key.strip().lower(), column.strip()
        if not sep or not column:
            raise InvalidInput(f"字段对应“{part.strip()}”应写成 键=列名")
        columns[key] = column
    check_columns(columns)
    return columns


def check_columns(columns: dict[str, str]) -> None:
    unknown = sorted(set(columns) - set(KEYS))
    if unknown:
        raise InvalidInput(f"未知的字段：{'、'.join(unknown)}（可用：{', '.join(KEYS)}）")
    if "text" not in columns and "title" not in columns:
        raise InvalidInput("字段对应必须包含 text 或 title")


def save_mapping(
    *, name: str, columns: dict[str, str], source: str = "", channel: str = "", case_type: str = ""
) -> ImportMapping:
    check_columns(columns)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("请填写 60 字以内的对应名称")
    mapping, _ = ImportMapping.objects.update_or_create(
        name=name,
        defaults={
            "columns": columns,
            "source": source[:SOURCE_MAX],
            "channel": channel,
            "case_type": case_type,
        },
    )
    return mapping


def load_mapping(name: str) -> ImportMapping:
    mapping = ImportMapping.objects.filter(name=name).first()
    if mapping is None:
        raise InvalidInput(f"没有名为“{name}”的字段对应")
    return mapping


# --- rows → intakes -----------------------------------------------------------------------------------------------


class RowError(ValueError):
    pass


@dataclass
class Lookups:
    """Names of categories and units as other systems write them, resolved once per run."""

    categories: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    unknown_categories: set[str] = field(default_factory=set)
    unknown_units: set[str] = field(default_factory=set)
    unknown_channels: set[str] = field(default_factory=set)

    @classmethod
    def load(cls) -> Lookups:
        categories: dict[str, int] = {}
        for pk, code, name, full_name in Category.objects.values_list("pk", "code", "name", "full_name"):
            for key in (code, name, full_name, full_name.replace(" › ", "/")):
                categories.setdefault(key, pk)
        units: dict[str, int] = {}
        for pk, code, name in Unit.objects.values_list("pk", "code", "name"):
            units.setdefault(code, pk)
            units.setdefault(name, pk)
        return cls(categories=categories, units=units)


def _cell(row: dict[str, Any], columns: dict[str, str], key: str) -> Any:
    column = columns.get(key)
    return row.get(column) if column else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SCRAPED_SPACE.sub("\n", str(value)).strip()


def _int(value: Any, label: str) -> int:
    text = _text(value)
    if not text:
        return 0
    try:
        return int(float(text))
    except ValueError:
        raise RowError(f"{label}“{text[:20]}”不是整数") from None


def _float(value: Any, label: str) -> float | None:
    text = _text(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise RowError(f"{label}“{text[:20]}”不是数字") from None


def row_id(row: dict[str, Any]) -> str:
    """A stable id for a row without one: the same content gives the same id on every run."""
    payload = json.dumps([[k, _text(v)] for k, v in row.items()], ensure_ascii=False, default=str)
    return "h:" + hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass
class RowPlan:
    intake: Intake
    source_status: str = ""


def intake_from_row(
    row: dict[str, Any],
    *,
    columns: dict[str, str],
    source: str,
    channel: str,
    case_type: str,
    lookups: Lookups,
    tz: ZoneInfo,
) -> RowPlan:
    """One row as an Intake; RowError naming the problem when a value cannot be read."""
    if "__error__" in row:
        raise RowError(str(row["__error__"]))
    get = lambda key: _cell(row, columns, key)  # noqa: E731
    external_id = _text(get("id")) or row_id(row)
    if len(external_id) > 64:
        raise RowError(f"编号“{external_id[:20]}…”超过 64 个字符")
    raw_time = get("time")
    try:
        received_at = parse_time(raw_time.strip() if isinstance(raw_time, str) else raw_time, tz)
    except BadTime:
        raise RowError(f"时间“{_text(raw_time)[:30]}”无法识别") from None
    row_channel = channel
    channel_name = _text(get("channel"))
    if channel_name:
        row_channel = _channel_of(channel_name) or channel
        if row_channel == channel and _channel_of(channel_name) is None:
            lookups.unknown_channels.add(channel_name)
    category_id = None
    category_name = _text(get("category"))
    if category_name:
        category_id = lookups.categories.get(category_name)
        if category_id is None:
            lookups.unknown_categories.add(category_name)
    unit_id = None
    unit_name = _text(get("unit"))
    if unit_name:
        unit_id = lookups.units.get(unit_name)
        if unit_id is None:
            lookups.unknown_units.add(unit_name)
    name, phone = _text(get("petitioner")), _text(get("phone"))
    intake = Intake(
        channel=row_channel,
        case_type=case_type,
        title=_text(get("title")),
        content=_text(get("text")) or _text(get("title")),
        petitioner=PersonInput(name=name, phone=phone) if (name or phone) else None,
        place_text=_text(get("address")),
        latitude=_float(get("lat"), "纬度"),
        longitude=_float(get("lon"), "经度"),
        category_id=category_id,
        jurisdiction_unit_id=unit_id,
        external_id=external_id,
        external_source=source,
        support_count=max(0, _int(get("support"), "点赞数")),
        oppose_count=max(0, _int(get("oppose"), "反对数")),
        received_at=received_at,
    )
    return RowPlan(intake=intake, source_status=_text(get("status"))[:100])


def _channel_of(name: str) -> str | None:
    if name in Channel.values:
        return name
    for value, label in Channel.choices:
        if name == str(label):
            return value
    return CHANNEL_ALIASES.get(name.lower()) or CHANNEL_ALIASES.get(name)


# --- the run ------------------------------------------------------------------------------------------------------


def _batches(rows: Iterable[readers.Row], size: int) -> Iterator[list[readers.Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def default_source(path: str | Path) -> str:
    return Path(path).stem[:SOURCE_MAX] or "import"


def start_run(
    *,
    path: str | Path,
    columns: dict[str, str],
    source: str = "",
    channel: str = Channel.IMPORT,
    case_type: str = CaseType.COMPLAINT,
    started_by: Any = None,
    file_name: str = "",
) -> ImportRun:
    """Check the options and record a run; ``execute_run`` does the work (inline or as a task)."""
    check_columns(columns)
    readers.kind_of(path)
    if channel not in Channel.values:
        raise InvalidInput(f"渠道“{channel}”无效")
    if case_type not in CaseType.values:
        raise InvalidInput(f"诉求类型“{case_type}”无效")
    source = (source or default_source(file_name or path)).strip()
    if len(source) > SOURCE_MAX:
        raise InvalidInput(f"来源系统名称不能超过 {SOURCE_MAX} 个字符")
    return ImportRun.objects.create(
        file_name=file_name or Path(path).name,
        path=str(path),
        source=source,
        columns=columns,
        channel=channel,
        case_type=case_type,
        started_by=started_by if getattr(started_by, "pk", None) else None,
    )


def execute_run(
    run: ImportRun,
    *,
    actor: Actor = SYSTEM,
    batch_size: int = BATCH_SIZE,
    progress: bool = False,
    rejects_path: str | Path | None = None,
) -> ImportRun:
    """Import the run's file. Counters are saved after every committed batch."""
    from tqdm import tqdm

    tz = ZoneInfo(settings.TIME_ZONE)
    lookups = Lookups.load()
    seen: set[str] = set()
    rejects: list[tuple[int, str, dict[str, Any]]] = []
    counts = {"rows_read": 0, "created": 0, "skipped": 0, "rejected": 0}
    total = readers.count_rows(run.path) if progress else None
    bar = tqdm(total=total, unit="行", disable=not progress, dynamic_ncols=True, mininterval=0.5)
    statistics = _Statistics()
    try:
        with enrichment.bulk_session():
            # Each batch is planned, and its enrichment started ahead, before the batch before it is written.
            waiting: Planned | None = None
            waiting_rows = 0
            for batch in _batches(readers.read_rows(run.path), batch_size):
                planned = _plan_batch(run, batch, lookups, tz, seen, rejects, counts)
                if waiting is not None:  # (a file of one batch has nothing to overlap)
                    enrichment.look_ahead([plan.intake for _, _, plan in planned])
                    _register_batch(run, waiting, actor, rejects, counts)
                    statistics.added(counts["created"])
                    bar.update(waiting_rows)
                waiting, waiting_rows = planned, len(batch)
            if waiting is not None:
                _register_batch(run, waiting, actor, rejects, counts)
                bar.update(waiting_rows)
    except (readers.UnreadableFile, OSError) as exc:
        run.error = str(exc)
        run.status = RunStatus.FAILED
    else:
        run.status = RunStatus.DONE
    finally:
        bar.close()
    statistics.finish(counts["created"])
    for name, value in counts.items():
        setattr(run, name, value)
    run.notes = {
        "unknown_categories": sorted(lookups.unknown_categories)[:100],
        "unknown_units": sorted(lookups.unknown_units)[:100],
        "unknown_channels": sorted(lookups.unknown_channels)[:100],
    }
    if rejects:
        target = Path(rejects_path) if rejects_path else _default_rejects_path(run)
        write_rejects(target, rejects)
        run.rejects_file = str(target)
    run.finished_at = timezone.now()
    run.save()
    return run


class _Statistics:
    """When to refresh the statistics of the tables an import grows (see ``STATISTICS_GROWTH``)."""

    def __init__(self) -> None:
        # (as many cases as the statistics say: counting them takes seconds at millions; an estimate that is
        # too low only refreshes them sooner. On SQLite, which keeps neither, refreshing does nothing.)
        self.cases = estimated_rows(Case)
        self.created = 0  # the run's cases when the statistics were last refreshed

    def added(self, created: int) -> None:
        if created - self.created >= max(STATISTICS_MIN_ROWS, STATISTICS_GROWTH * self.cases):
            self._refresh(created)

    def finish(self, created: int) -> None:
        if created > self.created:
            self._refresh(created)

    def _refresh(self, created: int) -> None:
        # (the columns of the import's look-ups by long lists of values, where estimates decide the plan: a
        # person's cases, people by hash; the ids already imported go by their unique index whatever the
        # statistics. 178 ms at 120,000 cases, against 436 with those ids.)
        refresh_statistics(Case, "petitioner")
        refresh_statistics(Petitioner, "phone_hash", "id_number_hash")
        self.cases = estimated_rows(Case)  # (now from fresh statistics)
        self.created = created


def _default_rejects_path(run: ImportRun) -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run.pk}-rejects.csv"


def write_rejects(path: Path, rejects: list[tuple[int, str, dict[str, Any]]]) -> None:
    """The refused rows with their row number and reason, then the row's own columns (UTF-8 with BOM, so
    Excel opens it)."""
    header: list[str] = []
    for _, _, row in rejects:
        for key in row:
            if key not in header and key != "__error__":
                header.append(str(key))
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["行号", "原因", *header])
        for number, reason, row in rejects:
            writer.writerow([number, reason, *(_text(row.get(h)) for h in header)])


Planned = list[tuple[int, dict[str, Any], RowPlan]]


def _plan_batch(
    run: ImportRun,
    batch: list[readers.Row],
    lookups: Lookups,
    tz: ZoneInfo,
    seen: set[str],
    rejects: list[tuple[int, str, dict[str, Any]]],
    counts: dict[str, int],
) -> Planned:
    """The batch's rows as intakes, without those refused and those already imported (by an earlier run, or
    earlier in this file: the first row with an id wins)."""
    counts["rows_read"] += len(batch)
    planned: Planned = []
    for number, row in batch:
        try:
            plan = intake_from_row(
                row,
                columns=run.columns,
                source=run.source,
                channel=run.channel,
                case_type=run.case_type,
                lookups=lookups,
                tz=tz,
            )
        except RowError as exc:
            rejects.append((number, str(exc), row))
            counts["rejected"] += 1
            continue
        if plan.intake.external_id in seen:
            counts["skipped"] += 1
            continue
        seen.add(plan.intake.external_id)
        planned.append((number, row, plan))
    fresh = _not_imported(run, planned)
    counts["skipped"] += len(planned) - len(fresh)
    return fresh


def _not_imported(run: ImportRun, planned: Planned) -> Planned:
    # (``external_id != ''`` is the unique index's condition: written out, the index answers; else every case is
    # read, as neither database infers it from a long list of ids)
    existing = set(
        Case.objects.filter(
            external_source=run.source, external_id__in=[p.intake.external_id for _, _, p in planned]
        )
        .exclude(external_id="")
        .order_by()
        .values_list("external_id", flat=True)
    )
    return [item for item in planned if item[2].intake.external_id not in existing]


def _register_batch(
    run: ImportRun,
    planned: Planned,
    actor: Actor,
    rejects: list[tuple[int, str, dict[str, Any]]],
    counts: dict[str, int],
) -> None:
    """Register the planned rows in one transaction and save the run's counters."""
    fresh = planned
    for attempt in range(2):
        try:
            result = register_cases(intakes=[p.intake for _, _, p in fresh], actor=actor)
        except IntegrityError:
            # Another run of the same file committed some of these ids after we looked: look again, once.
            if attempt == 0:
                fresh = _not_imported(run, planned)
                continue
            raise
        break
    counts["skipped"] += len(planned) - len(fresh)
    counts["created"] += len(result.registered)
    for position, reason in result.rejected:
        number, row, _ = fresh[position]
        rejects.append((number, reason, row))
        counts["rejected"] += 1
    _note_source_status(result, fresh, actor)
    ImportRun.objects.filter(pk=run.pk).update(**counts)


def _note_source_status(result: Any, fresh: list[tuple[int, dict[str, Any], RowPlan]], actor: Actor) -> None:
    rejected = {position for position, _ in result.rejected}
    accepted = [plan for position, (_, _, plan) in enumerate(fresh) if position not in rejected]
    events = [
        new_event(
            case=registered.case,
            kind=EventKind.NOTE,
            actor=actor,
            note=f"来源系统状态：{plan.source_status}",
            data={"source_status": plan.source_status},
        )
        for registered, plan in zip(result.registered, accepted, strict=True)
        if plan.source_status
    ]
    write_events(events)


# --- export -------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "receipt_number",
    "external_id",
    "external_source",
    "status",
    "channel",
    "case_type",
    "category",
    "unit",
    "matter_id",
    "created_at",
    "received_at",
    "urgency",
    "title",
    "petitioner",
    "phone",
)


def export_cases(
    *,
    cases: QuerySet[Case],
    out: TextIO,
    user: Any = None,
    target: str = "",
    filters: dict[str, Any] | None = None,
) -> int:
    """Write one CSV row per case; the rows written. Name and phone are masked unless ``user`` may see who
    brought the case (``may_see_identity``); without a user they are always masked. Every export is audited."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = 0
    shown = 0
    tz = timezone.get_current_timezone()
    qs = cases.select_related("category", "jurisdiction_unit", "petitioner").order_by("created_at", "id")
    for case in qs.iterator(chunk_size=2000):
        name = phone = ""
        person = case.petitioner
        if person is not None and not case.is_anonymous:
            if user is not None and may_see_identity(user, case):
                name, phone = person.name, person.phone
                shown += 1
            elif case.confidential:
                name, phone = "（保密）", ""
            else:
                name, phone = crypto.mask_name(person.name), crypto.mask_phone(person.phone)
        writer.writerow(
            [
                case.receipt_number,
                case.external_id,
                case.external_source,
                case.status,
                case.channel,
                case.case_type,
                case.category.full_name if case.category else "",
                case.jurisdiction_unit.name if case.jurisdiction_unit else "",
                case.matter_id or "",
                case.created_at.astimezone(tz).isoformat(timespec="seconds"),
                case.received_at.astimezone(tz).isoformat(timespec="seconds"),
                case.urgency,
                case.title,
                name,
                phone,
            ]
        )
        rows += 1
    record(
        action=AuditAction.EXPORT,
        actor=user,
        object_type="case",
        data={"rows": rows, "identity_shown": shown, "target": target, "filters": filters or {}},
    )
    return rows
