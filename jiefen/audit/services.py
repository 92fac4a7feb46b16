"""Appending to and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from jiefen.audit.models import AuditEntry
from jiefen.core.bulk import insert_instances

GENESIS = "0" * 64
# Any constant identifies the advisory lock that serialises appends on PostgreSQL.
_CHAIN_LOCK_KEY = 0x4A4946454E


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    ip: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = json.dumps(
        [
            seq,
            at.astimezone(UTC).isoformat(),
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            ip,
            data,
            prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


_STORED_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _as_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else str(value)


def as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as the database gives it back (a JSON round trip, anything JSON has no type for written as
    text), so an entry's hash covers exactly what is stored. By orjson: an import's entries hold every
    event of a batch."""
    stored: dict[str, Any] = orjson.loads(orjson.dumps(data, default=_as_json, option=_STORED_OPTIONS))
    return stored


def _chain_tail() -> tuple[int, str]:
    """Take the chain for this transaction and read its last entry: (seq, hash), (0, GENESIS) when empty.

    The chain is a total order: appends must not interleave. PostgreSQL: a transaction-scoped advisory lock,
    held until commit, taken and followed by the read in one call (``audit_chain_tail``, migration 0002).
    SQLite: transactions are IMMEDIATE (settings), so the writer already holds the lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT seq, hash FROM audit_chain_tail(%s)", [_CHAIN_LOCK_KEY])
        else:
            cursor.execute("SELECT seq, hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1")
        last = cursor.fetchone()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def record_many(entries: list[dict[str, Any]]) -> list[AuditEntry]:
    """Append entries to the chain in the given order, inside the caller's transaction if there is one.

    Each entry is a dict with ``action`` and optionally ``actor_id``, ``actor_name``, ``object_type``,
    ``object_id``, ``ip``, ``data`` and ``at``.
    """
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        seq, prev_hash = _chain_tail()
        rows = []
        now = timezone.now()
        for entry in entries:
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq,
                "at": entry.get("at") or now,
                "actor_id": entry.get("actor_id"),
                "actor_name": (entry.get("actor_name") or "")[:150],
                "action": entry["action"],
                "object_type": entry.get("object_type", ""),
                "object_id": str(entry.get("object_id", "")),
                "ip": entry.get("ip", "") or "",
                "data": as_stored(entry.get("data") or {}),
                "prev_hash": prev_hash,
            }
            prev_hash = entry_hash(**fields)
            rows.append(AuditEntry(hash=prev_hash, **fields))
        insert_instances(rows)
        return rows


def record(
    *,
    action: str,
    actor: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    """Append one security-relevant act to the chain."""
    return record_many(
        [
            {
                "action": action,
                "actor_id": getattr(actor, "pk", None),
                "actor_name": getattr(actor, "username", "") or "",
                "object_type": object_type,
                "object_id": object_id,
                "data": data,
                "ip": ip,
            }
        ]
    )[0]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def _iter_entries(batch: int = 5000) -> Iterator[AuditEntry]:
    last_seq = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq


def verify_chain() -> VerifyResult:
    """Recompute every hash in order; name the first row whose content or link does not match."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in _iter_entries():
        if entry.seq != expected_seq:
            return VerifyResult(
                False, checked, expected_seq, f"row #{expected_seq} is missing (next is #{entry.seq})"
            )
        if entry.prev_hash != expected_prev:
            return VerifyResult(
                False, checked, entry.seq, f"row #{entry.seq} does not link to the row before it"
            )
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=entry.actor_name,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            ip=entry.ip,
            data=entry.data,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            return VerifyResult(
                False, checked, entry.seq, f"row #{entry.seq} was altered (its hash does not match)"
            )
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
