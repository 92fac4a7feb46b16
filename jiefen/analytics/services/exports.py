"""CSV of any analytics list. Personal data (name, phone) is masked unless the user's role works with the
people themselves and ``may_see_identity`` allows it; every export is written to the audit log."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.cases.models import Case
from jiefen.cases.queries import may_see_identity
from jiefen.core import crypto
from jiefen.org.models import Role

# Roles whose work is with the petitioners themselves; an analyst (leader) sees the figures, not the people.
IDENTITY_ROLES = (Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.UNIT_HANDLER, Role.UNIT_LEADER)
COLUMNS = ["receipt_number", "external_id", "received_at", "status", "channel", "case_type", "category",
           "place", "title", "petitioner", "phone"]  # fmt: skip


def may_see_personal_data(user: Any, case: Case) -> bool:
    return bool(user.has_role(*IDENTITY_ROLES) and may_see_identity(user, case))


def write_cases_csv(*, user: Any, cases: QuerySet[Case], out: Any, name: str = "") -> int:
    """One row per case; the rows written. Audited with the number of rows and of identities shown."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = shown = 0
    tz = timezone.get_current_timezone()
    for case in cases.select_related("category", "jurisdiction_unit", "petitioner").iterator(chunk_size=2000):
        person, who, phone = case.petitioner, "", ""
        if person is not None and not case.is_anonymous:
            if may_see_personal_data(user, case):
                who, phone = person.name, person.phone
                shown += 1
            elif case.confidential:
                who = "（保密）"
            else:
                who, phone = crypto.mask_name(person.name), crypto.mask_phone(person.phone)
        writer.writerow(
            [
                case.receipt_number,
                case.external_id,
                case.received_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                case.get_status_display(),
                case.get_channel_display(),
                case.get_case_type_display(),
                case.category.full_name if case.category else "",
                case.jurisdiction_unit.name if case.jurisdiction_unit else "",
                case.title,
                who,
                phone,
            ]
        )
        rows += 1
    record(
        action=AuditAction.EXPORT,
        actor=user,
        object_type="case",
        data={"rows": rows, "identity_shown": shown, "list": name},
    )
    return rows


def csv_response(*, user: Any, cases: QuerySet[Case], name: str) -> HttpResponse:
    buffer = io.StringIO()
    write_cases_csv(user=user, cases=cases, out=buffer, name=name)
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
