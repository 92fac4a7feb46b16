"""Bulk import: every file kind, rows validated and refused with reasons, re-imports add nothing, interrupted
runs complete when run again, real exports' mixed times; and the web import for admins."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from jiefen.cases.models import Case, CaseEvent
from jiefen.cli import main
from jiefen.core.bulk import estimated_rows
from jiefen.core.errors import InvalidInput
from jiefen.transfer import services
from jiefen.transfer.models import ImportMapping, ImportRun
from jiefen.transfer.timeparse import BadTime, parse_time

TZ = ZoneInfo("Asia/Shanghai")
HEADER = [
    "工单编号",
    "诉求标题",
    "诉求内容",
    "来电时间",
    "来电人",
    "联系电话",
    "地址",
    "分类",
    "承办单位",
    "状态",
]
ROWS = [
    [
        "A001",
        "噪音扰民",
        "工地夜间施工",
        "2019/5/3 12:00:00",
        "张三",
        "13800138000",
        "古城南路",
        "噪音扰民",
        "古城街道",
        "已办结",
    ],
    [
        "A002",
        "路灯不亮",
        "东门路灯损坏",
        "2019-05-04",
        "李四",
        "13900139000",
        "八角南里",
        "不存在的分类",
        "不存在的单位",
        "",
    ],
    ["A003", "", "", "2019-05-05", "王五", "", "", "", "", ""],
    ["A004", "欠薪", "工资被拖欠", "去年夏天", "赵六", "", "", "", "", ""],
    ["A005", "漏水", "楼上漏水", "43590.5", "", "12", "", "", "", ""],
]
MAP = "id=工单编号,title=诉求标题,text=诉求内容,time=来电时间,petitioner=来电人,phone=联系电话,address=地址,category=分类,unit=承办单位,status=状态"


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def run(path: Path, columns: str = MAP, **kwargs: Any) -> ImportRun:
    started = services.start_run(
        path=path, columns=services.parse_mapping(columns), source=kwargs.pop("source", "12345")
    )
    return services.execute_run(started, **kwargs)


def test_a_csv_export_is_imported_with_rejected_rows_reported(db: Any, district: Any, tmp_path: Path) -> None:
    result = run(write_csv(tmp_path / "hotline.csv", ROWS), rejects_path=tmp_path / "rejects.csv")
    assert (result.status, result.rows_read, result.created, result.skipped, result.rejected) == (
        "done",
        5,
        2,
        0,
        3,
    )
    noise, light = Case.objects.order_by("external_id")
    assert (noise.external_source, noise.external_id, noise.title, noise.channel, noise.status) == (
        "12345",
        "A001",
        "噪音扰民",
        "import",
        "registered",
    )
    assert noise.received_at == datetime(2019, 5, 3, 12, 0, tzinfo=TZ)
    assert noise.category is not None and noise.petitioner is not None
    assert noise.category.name == "噪音扰民"
    assert noise.jurisdiction_unit == district["street_b"]
    assert (noise.petitioner.name, noise.petitioner.phone, noise.place_text) == (
        "张三",
        "13800138000",
        "古城南路",
    )
    assert light.received_at == datetime(2019, 5, 4, 0, 0, tzinfo=TZ)
    assert (light.category_id, light.jurisdiction_unit_id) == (None, None)
    assert result.notes == {
        "unknown_categories": ["不存在的分类"],
        "unknown_units": ["不存在的单位"],
        "unknown_channels": [],
    }
    # The source system's status is kept as a note for staff; the case starts in our lifecycle.
    assert list(CaseEvent.objects.filter(kind="note").values_list("case__external_id", "note")) == [
        ("A001", "来源系统状态：已办结")
    ]
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig") as f:
        rejected = [(r["行号"], r["原因"], r["工单编号"]) for r in csv.DictReader(f)]
    assert rejected == [
        ("5", "时间“去年夏天”无法识别", "A004"),
        ("4", "标题和内容不能都为空", "A003"),
        ("6", "电话号码格式不正确", "A005"),
    ]


def test_imported_cases_get_the_same_enrichment_as_cases_entered_by_hand(db: Any, tmp_path: Path) -> None:
    from jiefen.cases.services import intake_enrichers

    rows = [["E001", "楼道起火", "3号楼5层着火了，浓烟很大", "2020-01-01", "", "", "", "", "", ""]]
    run(write_csv(tmp_path / "fire.csv", rows))
    case = Case.objects.get()
    assert case.urgency == "critical"
    assert case.enrichment["emergency"]["numbers"] == ["119"]
    assert "emergency_enricher" in [getattr(e, "__name__", "") for e in intake_enrichers]


def test_re_importing_the_same_file_adds_nothing(db: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hotline.csv", ROWS)
    run(path)
    again = run(path)
    assert (again.created, again.skipped, again.rejected) == (0, 2, 3)
    assert Case.objects.count() == 2


def test_the_look_up_of_imported_ids_uses_the_unique_index(db: Any, tmp_path: Path) -> None:
    """Each batch asks which of its ids are in already; that must not read every case (it did: an import of
    100,000 rows spent an eighth of its time there)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    path = write_csv(tmp_path / "hotline.csv", ROWS)
    run(path)
    with CaptureQueriesContext(connection) as queries:
        run(path)
    look_up = next(q["sql"] for q in queries.captured_queries if '"external_id" IN' in q["sql"])
    assert """NOT ("cases_case"."external_id" = ''""" in look_up  # the partial index's condition
    if connection.vendor == "sqlite":  # (PostgreSQL's choice of plan depends on the table's size)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {look_up}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING COVERING INDEX case_external_id_unique" in plan


def test_an_import_refreshes_the_statistics_of_the_columns_it_looks_up(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL an import analyses the columns its look-ups filter on as it grows the tables and at its
    end: planned on the statistics of a far smaller table (or none: autovacuum may be off), finding the people's
    earlier cases read every case. SQLite's planner needs none, and is asked nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(services, "STATISTICS_MIN_ROWS", 1)
    monkeypatch.setattr(services, "STATISTICS_GROWTH", 0)  # (whatever the estimate earlier tests left)
    path = write_csv(tmp_path / "hotline.csv", ROWS)
    with CaptureQueriesContext(connection) as queries:
        done = run(path, batch_size=1)
    assert done.created == 2
    analysed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor != "postgresql":
        assert analysed == [] and estimated_rows(Case) == 0  # (no estimate to read either)
        return
    assert estimated_rows(Case) >= done.created  # (from the statistics the import refreshed)
    # after the first batch, and at the end
    assert len(analysed) == 4
    assert analysed[:2] == [
        'ANALYZE "cases_case" ("petitioner_id")',
        'ANALYZE "cases_petitioner" ("phone_hash", "id_number_hash")',
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = 'cases_case'")
        assert "petitioner_id" in {name for (name,) in cursor.fetchall()}


def test_an_interrupted_import_completes_when_run_again(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        [f"B{i:03d}", f"诉求{i}", f"内容{i}", "2020-01-01 08:00", "", "", "", "", "", ""] for i in range(10)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    real = services.register_cases
    calls = {"n": 0}

    def crash_on_third_batch(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(services, "register_cases", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run(path, batch_size=3)
    assert Case.objects.count() == 6  # two batches committed
    monkeypatch.setattr(services, "register_cases", real)
    finished = run(path, batch_size=3)
    assert (finished.created, finished.skipped) == (4, 6)
    assert sorted(Case.objects.values_list("external_id", flat=True)) == [f"B{i:03d}" for i in range(10)]


def test_rows_without_an_id_get_a_stable_one(db: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "noid.csv", ROWS[:2])
    columns = "title=诉求标题,text=诉求内容"
    first = run(path, columns)
    second = run(path, columns)
    assert (first.created, second.created, second.skipped) == (2, 0, 2)
    assert all(i.startswith("h:") for i in Case.objects.values_list("external_id", flat=True))


def test_tsv_gb18030_xlsx_and_json_lines_are_read(db: Any, tmp_path: Path) -> None:
    tsv = write_csv(tmp_path / "a.tsv", [ROWS[0]], delimiter="\t", encoding="gb18030")
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["X001", "暖气不热", "室温十五度", datetime(2020, 1, 2, 9, 30), "钱七", "", "", "", "", ""])
    sheet.append([None] * len(HEADER))
    sheet.append(["X002", "电梯故障", "电梯停运", 43831.25, "", "", "", "", "", ""])
    book.save(tmp_path / "b.xlsx")
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "工单编号": "J001",
                "诉求标题": "积水",
                "诉求内容": "路口积水",
                "来电时间": "2019年5月3日 12时30分",
            },
            ensure_ascii=False,
        )
        + "\nnot json\n",
        encoding="utf-8",
    )
    assert run(tsv, source="s1").created == 1
    xlsx = run(tmp_path / "b.xlsx", source="s2")
    assert (xlsx.created, xlsx.rows_read) == (2, 2)
    lines = run(jsonl, source="s3", rejects_path=tmp_path / "r.csv")
    assert (lines.created, lines.rejected) == (1, 1)
    received = dict(Case.objects.values_list("external_id", "received_at"))
    assert received["X001"] == datetime(2020, 1, 2, 9, 30, tzinfo=TZ)
    assert received["X002"] == datetime(2020, 1, 1, 6, 0, tzinfo=TZ)
    assert received["J001"] == datetime(2019, 5, 3, 12, 30, tzinfo=TZ)
    assert "不是有效的 JSON" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019/5/3 12:00:00", datetime(2019, 5, 3, 12, 0, tzinfo=TZ)),
        ("2019-05-03", datetime(2019, 5, 3, tzinfo=TZ)),
        ("2019-05-03T12:00:00+00:00", datetime(2019, 5, 3, 20, 0, tzinfo=TZ)),
        ("2019年5月3日", datetime(2019, 5, 3, tzinfo=TZ)),
        ("2019.5.3 8:05", datetime(2019, 5, 3, 8, 5, tzinfo=TZ)),
        ("20190503", datetime(2019, 5, 3, tzinfo=TZ)),
        (43588, datetime(2019, 5, 3, tzinfo=TZ)),
        ("1556856000", datetime(2019, 5, 3, 12, 0, tzinfo=TZ)),
        ("", None),
        (None, None),
    ],
)
def test_times_are_read_from_the_formats_real_exports_have(value: Any, expected: datetime | None) -> None:
    assert parse_time(value, TZ) == expected


@pytest.mark.parametrize("value", ["去年夏天", "2019-13-45", "12"])
def test_unreadable_times_are_refused(value: str) -> None:
    with pytest.raises(BadTime):
        parse_time(value, TZ)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("id=编号", "字段对应必须包含 text 或 title"),
        (
            "text=内容,colour=颜色",
            "未知的字段：colour（可用：id, title, text, time, petitioner, phone, address, category, channel, status, unit, lat, lon, support, oppose）",
        ),
        ("text", "字段对应“text”应写成 键=列名"),
    ],
)
def test_a_bad_mapping_is_refused(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        services.parse_mapping(spec)
    assert exc.value.message == message


def test_the_cli_imports_with_a_saved_mapping_and_refuses_unknown_files(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "hotline.csv", ROWS[:2])
    assert (
        main(
            [
                "import",
                "--file",
                str(path),
                "--map",
                MAP,
                "--save-mapping",
                "热线",
                "--source",
                "12345",
                "--no-progress",
                "--rejects",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert ImportMapping.objects.get().columns == services.parse_mapping(MAP)
    assert main(["import", "--file", str(path), "--mapping", "热线", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "created 2, already there 0, rejected 0" in out
    assert "created 0, already there 2, rejected 0" in out
    (tmp_path / "x.doc").write_bytes(b"")
    assert main(["import", "--file", str(tmp_path / "x.doc"), "--map", MAP]) == 2
    assert "不支持的文件类型“.doc”：请使用 CSV、TSV、XLSX 或 JSON Lines" in capsys.readouterr().err


def test_an_admin_imports_from_the_web(admin_user: Any, tmp_path: Path) -> None:
    client = Client()
    client.force_login(admin_user)
    data = write_csv(tmp_path / "hotline.csv", ROWS).read_bytes()
    response = client.post(
        "/transfer/import/",
        {
            "file": SimpleUploadedFile("hotline.csv", data),
            "columns": MAP,
            "source": "12345",
            "channel": "hotline_12345",
            "case_type": "complaint",
            "save_as": "12345热线",
        },
    )
    imported = ImportRun.objects.get()
    assert response["Location"] == f"/transfer/import/{imported.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert '<dd id="run-created">2</dd>' in page
    assert set(Case.objects.values_list("channel", flat=True)) == {"hotline_12345"}
    rejects = client.get(f"/transfer/import/{imported.pk}/rejects.csv")
    assert (
        b"".join(rejects.streaming_content)  # type: ignore[attr-defined]
        .decode("utf-8-sig")
        .splitlines()[1]
        .startswith("5,时间“去年夏天”无法识别")
    )
    assert ImportMapping.objects.get().name == "12345热线"


def test_a_web_import_without_a_mapping_is_refused(admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.post("/transfer/import/", {"file": SimpleUploadedFile("a.csv", b"x\n1\n")})
    assert response.status_code == 400
    assert "请选择已保存的字段对应，或填写字段对应" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_only_admins_may_import(dispatcher: Any) -> None:
    client = Client()
    client.force_login(dispatcher)
    assert client.get("/transfer/import/").status_code == 403


def test_the_command_writes_batches_of_the_imports_size_unless_told(
    db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``jiefen import`` commits the batches the import is tuned for (``BATCH_SIZE``), or ``--batch-size``."""
    sizes: list[int] = []
    real = services.register_cases

    def counting(**kwargs: Any) -> Any:
        sizes.append(len(kwargs["intakes"]))
        return real(**kwargs)

    monkeypatch.setattr(services, "register_cases", counting)
    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    path = write_csv(tmp_path / "hotline.csv", ROWS)
    quiet = ["--map", MAP, "--no-progress", "--rejects", str(tmp_path / "rejects.csv")]
    assert main(["import", "--file", str(path), *quiet]) == 0
    # (a batch a row each; the rows the file's checks refuse leave theirs empty)
    assert sizes == [1, 1, 1, 0, 1]
    path = write_csv(tmp_path / "again.csv", [[f"Z{row[0]}", *row[1:]] for row in ROWS])
    assert main(["import", "--file", str(path), *quiet, "--batch-size", "10"]) == 0
    assert sizes[5:] == [4]
    for bad in ("0", "-5", "ten"):
        with pytest.raises(SystemExit) as stopped:
            main(["import", "--file", str(path), *quiet, "--batch-size", bad])
        assert stopped.value.code == 2
    assert "at least 1" in capsys.readouterr().err and sizes[6:] == []
