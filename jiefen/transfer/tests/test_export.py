"""Export: one row per case, personal data masked unless the user may see it, every export audited; and the
4,326 real messages of teddy2020 imported and exported with their ids."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jiefen.audit.models import AuditAction, AuditEntry
from jiefen.cases.intake import PersonInput
from jiefen.cases.models import Case
from jiefen.cli import main
from jiefen.transfer.services import EXPORT_COLUMNS

TEDDY = Path("/work/shared/data/teddy2020/full/附件3.xlsx")
TEDDY_MAP = (
    "id=留言编号,petitioner=留言用户,title=留言主题,time=留言时间,text=留言详情,support=点赞数,oppose=反对数"
)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def exports() -> list[tuple[int | None, dict[str, Any]]]:
    return [
        (e.actor_id, e.data) for e in AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("seq")
    ]


def test_the_web_export_follows_the_list_filters_and_shows_identity_to_the_office(
    clerk: Any, make_case: Callable[..., Any]
) -> None:
    park = make_case()
    make_case(channel="phone", title="夜间施工", petitioner=PersonInput(name="李四", phone="13900139000"))
    client = Client()
    client.force_login(clerk)
    response = client.get("/transfer/export.csv", {"channel": "walk_in"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff" + ",".join(EXPORT_COLUMNS))
    (row,) = rows_of(text)
    assert (row["receipt_number"], row["status"], row["channel"], row["case_type"], row["matter_id"]) == (
        park.receipt_number,
        "registered",
        "walk_in",
        "complaint",
        str(park.matter_id),
    )
    assert (row["petitioner"], row["phone"]) == ("张三", "13800138000")
    assert exports() == [
        (clerk.pk, {"rows": 1, "identity_shown": 1, "target": "web", "filters": {"channel": "walk_in"}})
    ]


def test_a_unit_sees_its_own_cases_and_a_reporter_stays_hidden(
    handler_a: Any, outsider_b: Any, make_case: Callable[..., Any], district: dict[str, Any]
) -> None:
    a1 = district["community_a1"].pk
    ordinary = make_case(jurisdiction_unit_id=a1)
    report = make_case(case_type="report", title="举报违规收费", jurisdiction_unit_id=a1)
    make_case(title="古城的事", jurisdiction_unit_id=district["community_b1"].pk)
    client = Client()
    client.force_login(handler_a)
    rows = {r["receipt_number"]: r for r in rows_of(client.get("/transfer/export.csv").content.decode())}
    assert set(rows) == {ordinary.receipt_number, report.receipt_number}
    assert (rows[ordinary.receipt_number]["petitioner"], rows[ordinary.receipt_number]["phone"]) == (
        "张三",
        "13800138000",
    )
    assert (rows[report.receipt_number]["petitioner"], rows[report.receipt_number]["phone"]) == (
        "（保密）",
        "",
    )
    client.force_login(outsider_b)
    assert [r["title"] for r in rows_of(client.get("/transfer/export.csv").content.decode())] == ["古城的事"]


def test_the_cli_export_masks_personal_data_and_is_audited(
    make_case: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = make_case()
    target = tmp_path / "out.csv"
    assert main(["export", "--output", str(target)]) == 0
    (row,) = rows_of(target.read_text(encoding="utf-8-sig"))
    assert (row["receipt_number"], row["petitioner"], row["phone"]) == (
        case.receipt_number,
        "张*",
        "138****8000",
    )
    assert exports() == [(None, {"rows": 1, "identity_shown": 0, "target": str(target), "filters": {}})]
    assert capsys.readouterr().out == f"exported 1 cases to {target}\n"


@pytest.mark.data
@pytest.mark.skipif(not TEDDY.exists(), reason="the teddy2020 data is not present")
def test_the_real_teddy2020_messages_are_imported_once_and_exported_with_their_ids(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["import", "--file", str(TEDDY), "--map", TEDDY_MAP, "--no-progress"]
    assert main(args) == 0
    assert "read 4326, created 4326, already there 0, rejected 0" in capsys.readouterr().out
    assert main(args) == 0
    assert "read 4326, created 0, already there 4326, rejected 0" in capsys.readouterr().out
    assert Case.objects.count() == 4326
    target = tmp_path / "teddy.csv"
    assert main(["export", "--output", str(target)]) == 0
    rows = rows_of(target.read_text(encoding="utf-8-sig"))
    assert len(rows) == 4326
    assert len({r["external_id"] for r in rows}) == 4326
    assert {r["external_source"] for r in rows} == {"附件3"}
    first = Case.objects.get(external_id="188006")
    assert first.title == "A3区一米阳光婚纱艺术摄影是否合法纳税了？"
    assert first.received_at.year == 2019
