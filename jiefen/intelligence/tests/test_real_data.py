"""The issue's acceptance check on the real 附件3 messages (skipped when the data is absent).

After importing 附件3, ``related_cases`` (what ``jiefen similar`` writes) for each message of the organisers'
two example issues returns at least 80 % of that issue's other messages among its top (issue size − 1).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import pytest

from jiefen.cases.models import Case
from jiefen.cli import main

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "teddy2020"
MAPPING = (
    "id=留言编号,petitioner=留言用户,title=留言主题,time=留言时间,text=留言详情,support=点赞数,oppose=反对数"
)

pytestmark = [pytest.mark.data, pytest.mark.django_db]


def _issues() -> dict[str, list[str]]:
    issues: dict[str, list[str]] = {}
    with (DATA / "derived" / "sample3_example_hotspots.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["example_issue_id"]:
                issues.setdefault(row["example_issue_id"], []).append(row["留言编号"])
    return issues


def test_similar_finds_the_example_hot_issues_of_attachment_3(
    db: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (DATA / "full" / "附件3.xlsx").exists():
        pytest.skip(f"real data absent: {DATA}")
    started = time.perf_counter()
    assert (
        main(
            [
                "import",
                "--file",
                str(DATA / "full" / "附件3.xlsx"),
                "--map",
                MAPPING,
                "--source",
                "teddy3",
                "--no-progress",
            ]
        )
        == 0
    )
    imported = time.perf_counter() - started
    assert Case.objects.count() == 4326
    assert main(["reindex"]) == 0
    recalls = {}
    for issue, members in _issues().items():
        found = total = 0
        for member in members:
            out = tmp_path / f"{member}.csv"
            assert (
                main(
                    ["similar", "--external-id", member, "--top", str(len(members) - 1), "--output", str(out)]
                )
                == 0
            )
            listed = {row["external_id"] for row in csv.DictReader(out.open(encoding="utf-8-sig"))}
            others = set(members) - {member}
            found += len(listed & others)
            total += len(others)
        recalls[issue] = found / total
    capsys.readouterr()
    print(f"\nimport {imported:.1f}s for 4326 rows; recall per example issue: {recalls}")
    assert all(r >= 0.8 for r in recalls.values()), recalls
