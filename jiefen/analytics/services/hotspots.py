"""Hotspot runs: read the cases of a period, find the hotspots with ``jiefen.language.hotspots``, and keep them
as ``Hotspot`` rows with their member cases. A hotspot found again (same fingerprint) is updated in place, so
its first-seen time, governance tasks and links survive the hourly runs."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiefen.analytics.models import GovernanceTask, Hotspot, HotspotRun
from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.cases.models import Case
from jiefen.cases.workflow import CaseStatus
from jiefen.language import hotspots as finder
from jiefen.org.models import Unit

CSV_COLUMNS = [
    "rank",
    "heat",
    "title",
    "place",
    "start",
    "end",
    "case_count",
    "people",
    "external_ids",
    "receipt_numbers",
]


@dataclass
class RunResult:
    run: HotspotRun
    hotspots: list[Hotspot]

    @property
    def hotspots_found(self) -> int:
        return len(self.hotspots)


def _docs(since: datetime, until: datetime) -> list[finder.Doc]:
    rows = (
        Case.objects.filter(received_at__gte=since, received_at__lt=until)
        .exclude(status=CaseStatus.MERGED)
        .values_list(
            "pk",
            "title",
            "content",
            "received_at",
            "petitioner_id",
            "petitioner__name",
            "petitioner__phone_hash",
            "support_count",
            "jurisdiction_unit__name",
        )
        .order_by("received_at", "pk")
    )
    docs = []
    for pk, title, content, at, person_id, name, phone_hash, support, place in rows.iterator(chunk_size=5000):
        # The same person is one person however many petitions they write: by phone, else by name.
        person = phone_hash or (f"n:{name}" if name else f"p:{person_id}" if person_id else "")
        docs.append(finder.Doc(str(pk), title, content, at, person, support or 0, place or ""))
    return docs


def day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[start of ``since``, end of ``until``) in the office's time zone."""
    tz = timezone.get_current_timezone()
    return datetime.combine(since, time.min, tzinfo=tz), datetime.combine(
        until + timedelta(days=1), time.min, tzinfo=tz
    )


def run_hotspots(
    *, since: datetime, until: datetime, params: finder.Params | None = None, keep: bool = True
) -> RunResult:
    """Find the hotspots among the cases received in [since, until) and store them (``keep``), hottest first."""
    run = HotspotRun.objects.create(since=since, until=until)
    docs = _docs(since, until)
    # Recency and growth are measured to the end of the period, or to its latest case when that is earlier
    # (a historical period is not "old" merely because it is in the past).
    reference = min(until, timezone.now(), *([docs[-1].at] if docs else []))
    found = finder.find_hotspots(docs, until=reference, params=params)
    places = {u.name: u for u in Unit.objects.filter(kind__in=["community", "street"])}
    kept: list[Hotspot] = []
    with transaction.atomic():
        now = timezone.now()
        seen: set[int] = set()
        for f in found:
            hotspot = (
                Hotspot.objects.filter(fingerprint=f.fingerprint[:64], ended_at__gte=since)
                .exclude(pk__in=seen)
                .first()
            )
            fields: dict[str, Any] = {
                "title": f.title[:200],
                "key_phrases": f.key_phrases,
                "place": f.place[:100],
                "place_unit": places.get(f.place) or places.get(f.place + "社区"),
                "started_at": f.start,
                "ended_at": f.end,
                "case_count": f.case_count,
                "people_count": f.people,
                "support_total": f.support,
                "heat": f.heat,
                "trend": f.trend,
                "growth": f.growth,
                "last_run_at": now,
            }
            if hotspot is None:
                hotspot = Hotspot(
                    fingerprint=f.fingerprint[:64], warning=f.warning, first_seen_at=now, **fields
                )
                if keep:
                    hotspot.save()
            else:
                for name, value in fields.items():
                    setattr(hotspot, name, value)
                # A warning stays raised once given (someone must look); a new one may be raised by growth.
                hotspot.warning = hotspot.warning or f.warning
                if keep:
                    hotspot.save()
            if keep:
                hotspot.members.set([int(i) for i in f.ids])
                seen.add(hotspot.pk)
            hotspot.member_ids = [int(i) for i in f.ids]  # type: ignore[attr-defined]
            kept.append(hotspot)
        if keep:
            # Hotspots of this period that this run no longer finds are gone, unless someone is governing them.
            stale = Hotspot.objects.filter(ended_at__gte=since, started_at__lt=until).exclude(pk__in=seen)
            stale.exclude(pk__in=GovernanceTask.objects.exclude(hotspot=None).values("hotspot_id")).delete()
        run.finished_at = timezone.now()
        run.cases_scanned = len(docs)
        run.hotspots_found = len(found)
        run.warnings = sum(1 for f in found if f.warning)
        run.save()
    return RunResult(run, kept)


def run_recent(days: int = 90) -> RunResult:
    """The scheduled run: the last ``days`` days up to now."""
    until = timezone.now()
    return run_hotspots(since=until - timedelta(days=days), until=until)


def write_hotspots_csv(*, result: RunResult, path: Path, actor: Any = None) -> int:
    """One row per hotspot, hottest first (rank 1); the rows written. Audited as an export."""
    member_ids = {pk for h in result.hotspots for pk in h.member_ids}  # type: ignore[attr-defined]
    numbers = dict(
        Case.objects.filter(pk__in=member_ids).values_list("pk", "external_id").iterator(chunk_size=5000)
    )
    receipts = dict(
        Case.objects.filter(pk__in=member_ids).values_list("pk", "receipt_number").iterator(chunk_size=5000)
    )
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for rank, h in enumerate(result.hotspots, start=1):
            ids = h.member_ids  # type: ignore[attr-defined]
            writer.writerow(
                [
                    rank,
                    f"{h.heat:.2f}",
                    h.title,
                    h.place,
                    timezone.localtime(h.started_at).strftime("%Y-%m-%d %H:%M:%S"),
                    timezone.localtime(h.ended_at).strftime("%Y-%m-%d %H:%M:%S"),
                    h.case_count,
                    h.people_count,
                    ";".join(numbers.get(i, "") for i in ids if numbers.get(i)),
                    ";".join(receipts[i] for i in ids if i in receipts),
                ]
            )
    record(
        action=AuditAction.EXPORT,
        actor=actor,
        object_type="hotspots",
        data={"rows": len(result.hotspots), "file": path.name, "run": result.run.pk},
    )
    return len(result.hotspots)
