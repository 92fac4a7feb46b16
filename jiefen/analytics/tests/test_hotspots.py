"""Hotspots: found on written messages, stored and updated by runs, the CSV of ``jiefen hotspots``, and the
organisers' two example issues of the real 附件3 messages."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jiefen.analytics.models import Hotspot
from jiefen.analytics.services.hotspots import run_hotspots
from jiefen.audit.models import AuditEntry
from jiefen.cases.models import Case
from jiefen.cli import main
from jiefen.language.hotspots import Doc, Params, find_hotspots, heat_of

TZ = ZoneInfo("Asia/Shanghai")
TEDDY = Path("/work/shared/data/teddy2020/full/附件3.xlsx")
EXAMPLES = Path("/work/shared/data/teddy2020/derived/sample3_example_hotspots.csv")
TEDDY_MAP = (
    "id=留言编号,petitioner=留言用户,title=留言主题,time=留言时间,text=留言详情,support=点赞数,oppose=反对数"
)
UNTIL = datetime(2026, 3, 31, tzinfo=TZ)


def _doc(n: int, title: str, days_ago: int, person: str = "", support: int = 0) -> Doc:
    return Doc(str(n), title, title, UNTIL - timedelta(days=days_ago), person or f"u{n}", support)


NOISE = [
    "建议增设公交站点方便出行",
    "咨询社保卡补办流程",
    "学校门口交通拥堵",
    "路灯不亮好几天了",
]


def test_messages_on_one_problem_at_one_place_make_one_hotspot() -> None:
    docs = [
        _doc(1, "阳光花园小区楼下烧烤店油烟扰民", 3, "张", 4),
        _doc(2, "阳光花园小区烧烤店油烟太大", 2, "李"),
        _doc(3, "投诉阳光花园小区底商烧烤油烟", 1, "王"),
        _doc(4, "阳光花园小区烧烤油烟扰民严重", 1, "张"),
        _doc(5, "翠湖苑小区电梯经常故障", 20, "赵"),
        *[_doc(10 + i, t, 5 + i) for i, t in enumerate(NOISE)],
    ]
    found = find_hotspots(docs, until=UNTIL)
    assert [(f.place, sorted(f.ids), f.case_count, f.people, f.support) for f in found] == [
        ("阳光花园", ["1", "2", "3", "4"], 4, 3, 4)
    ]
    assert "油烟" in "".join(found[0].key_phrases)
    # All four within the last 14 days: a new hotspot, which raises the early warning.
    assert (found[0].trend, found[0].warning) == ("new", True)


def test_a_long_gap_splits_a_place_into_two_stretches_of_time() -> None:
    titles = ["阳光花园小区烧烤油烟扰民", "阳光花园小区烧烤店油烟大", "阳光花园小区底商烧烤油烟"]
    docs = [_doc(i, t, 1 + i) for i, t in enumerate(titles)] + [
        _doc(10 + i, t, 200 + i) for i, t in enumerate(titles)
    ]
    found = find_hotspots(docs, until=UNTIL, params=Params(max_gap_days=60))
    assert sorted(sorted(f.ids) for f in found) == [["0", "1", "2"], ["10", "11", "12"]]


def test_heat_follows_its_documented_formula() -> None:
    p = Params()
    import math

    assert heat_of(4, 3, 4, 0, 0, p) == pytest.approx(10 * (math.log(5) + math.log(4) + 0.3 * math.log(5)))
    # 90 days old: half; doubling in the last window: twice.
    assert heat_of(4, 3, 0, 90, 0, p) == pytest.approx(heat_of(4, 3, 0, 0, 0, p) / 2)
    assert heat_of(4, 3, 0, 0, 5, p) == pytest.approx(heat_of(4, 3, 0, 0, 0, p) * 2)


def test_a_run_stores_hotspots_and_a_second_run_updates_them(make_case: Callable[..., Any]) -> None:
    now = datetime.now(tz=TZ)
    for i, title in enumerate(
        ["阳光花园小区烧烤油烟扰民", "阳光花园小区烧烤店油烟大", "阳光花园小区底商烧烤油烟"]
    ):
        make_case(title=title, content=title + "，请处理。", received_at=now - timedelta(days=i + 1))
    make_case(title="咨询社保卡补办", content="咨询社保卡补办", received_at=now - timedelta(days=2))
    first = run_hotspots(since=now - timedelta(days=30), until=now)
    assert first.hotspots_found == 1
    hotspot = Hotspot.objects.get()
    assert (hotspot.case_count, hotspot.place, hotspot.warning) == (3, "阳光花园", True)
    assert hotspot.members.count() == 3
    run_hotspots(since=now - timedelta(days=30), until=now)
    assert Hotspot.objects.get().pk == hotspot.pk


@pytest.mark.skipif(not TEDDY.exists(), reason="the teddy2020 data is not present")
def test_the_organisers_example_issues_are_each_one_hotspot(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--file", str(TEDDY), "--map", TEDDY_MAP, "--no-progress"]) == 0
    assert Case.objects.count() == 4326
    out = tmp_path / "hotspots.csv"
    assert main(["hotspots", "--since", "2017-01-01", "--until", "2020-12-31", "--output", str(out)]) == 0
    print(capsys.readouterr().out)
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert list(rows[0]) == [
        "rank", "heat", "title", "place", "start", "end", "case_count", "people", "external_ids", "receipt_numbers",
    ]  # fmt: skip
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    issues: dict[str, set[str]] = {}
    for r in csv.DictReader(EXAMPLES.open(encoding="utf-8")):
        if r["example_issue_id"]:
            issues.setdefault(r["example_issue_id"], set()).add(r["留言编号"])
    assert len(issues) == 2
    for ids in issues.values():
        best = max(rows, key=lambda r: len(ids & set(r["external_ids"].split(";"))))
        share = len(ids & set(best["external_ids"].split(";"))) / len(ids)
        assert share >= 0.8, (best["title"], share)
        assert len(best["receipt_numbers"].split(";")) == int(best["case_count"])
    assert AuditEntry.objects.filter(action="export", object_type="hotspots").count() == 1
