"""A bulk import reads each next batch in a second process while it writes the current one: the findings are
those of the inline reading, and a case still finds the cases of the batch written meanwhile."""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from jiefen.cases.models import Case
from jiefen.cases.services import enrichment
from jiefen.intelligence import ahead, engine, enrich, services
from jiefen.intelligence.enrich import SEARCH_K, _classifications, _details, _texts
from jiefen.language import extract
from jiefen.language.reading import read
from jiefen.language.text import case_text
from jiefen.transfer import services as transfer

HEADER = ["编号", "标题", "内容", "时间"]
NOISE_INDEXED = (
    "魅力之城小区楼下烧烤店油烟扰民",
    "魅力之城小区临街门面油烟直排，深夜经营噪音扰民，请求处理。",
)
ROWS = [
    ("W1", "某公司拖欠农民工工资", "西湖建筑集团拖欠我们30多名工人工资共计15万元，至今未付。"),
    ("W2", "学校强制学生外出实习", "A市经济学院强制学生去外省工厂实习，不去不给毕业证。"),
    # the second batch: a noise complaint that only the third batch's case relates to
    ("W3", "魅力之城小区底层餐馆油烟严重", "魅力之城小区底层几家餐馆油烟直排，窗户不能打开，影响居民生活。"),
    ("W4", "道路破损无人维修", "劳动东路路面破损多处，雨天积水，希望尽快维修。"),
    ("W5", "投诉魅力之城小区夜宵摊噪音", "魅力之城小区一楼夜宵摊营业到凌晨，烧烤油烟和噪音扰民。"),
    ("W6", "公交线路调整建议", "建议在南塘增设公交站，方便居民出行。"),
]


@pytest.mark.django_db(
    transaction=True
)  # each batch commits, so each is indexed before the next is registered
def test_an_import_reads_ahead_and_each_case_finds_the_batch_written_meanwhile(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed = make_case(title=NOISE_INDEXED[0], content=NOISE_INDEXED[1])
    make_case(title="小区停车难", content="八角南里小区车位紧张，外来车辆乱停乱放。")
    make_case(title="暖气不热", content="杨庄东区5号楼暖气温度不达标，家里只有十五度。")
    services.reindex()
    taken: list[bool] = []
    real_take = ahead.take

    def spy(keys: Any) -> Any:
        reading = real_take(keys)
        taken.append(reading is not None)
        return reading

    monkeypatch.setattr(ahead, "take", spy)
    sessions: list[Any] = []
    real_session = enrichment._Session

    def kept_session() -> Any:
        sessions.append(real_session())
        return sessions[-1]

    monkeypatch.setattr(enrichment, "_Session", kept_session)
    compared_here: list[int] = []
    real_nearest = enrich.nearest

    def nearest_here(vectors: Any, *args: Any) -> Any:
        compared_here.append(len(vectors))
        return real_nearest(vectors, *args)

    monkeypatch.setattr(enrich, "nearest", nearest_here)
    path = tmp_path / "hotline.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *[(i, t, c, f"2020-01-0{i[1]} 09:00") for i, t, c in ROWS]])
    run = transfer.start_run(
        path=path, columns=transfer.parse_mapping("id=编号,title=标题,text=内容,time=时间"), source="ahead"
    )
    done = transfer.execute_run(run, batch_size=2)

    assert (done.created, done.rejected) == (6, 0)
    assert taken == [False, True, True]  # the first batch is read inline, the next two ahead
    assert multiprocessing.active_children() == []  # the second process ended with the import
    cases = {c.external_id: c for c in Case.objects.filter(external_source="ahead")}
    related = {c["case_id"]: c["kind"] for c in cases["W5"].enrichment["similar"]["cases"]}
    assert related[indexed.pk] == "same_problem_same_place"
    assert related[cases["W3"].pk] == "same_problem_same_place"  # written while W5 was read
    # the second batch was compared with the first (read inline) here; the third with the second by the
    # reader, which had read both
    assert compared_here == [2]
    # each batch's details and texts were kept for the next batches: what they would have read back
    remembered = sessions[0].memos["related.details"]
    imported = {c.pk for c in cases.values()}
    assert imported <= remembered.keys()
    assert {pk: remembered[pk] for pk in imported} == _details(imported)
    assert {pk: sessions[0].memos["related.texts"][pk] for pk in imported} == _texts(imported)
    # what the second process found is what the enricher finds inline
    for case in cases.values():
        text = case_text(case.title, case.content)
        inline = read([text], ahead.days_of([case.received_at]), engine.models(), k=SEARCH_K)
        assert inline.entities is not None and inline.extractions is not None
        assert inline.suggestions is not None
        assert case.enrichment.get("extraction", {}) == extract.summary(inline.entities[0])
        assert inline.extractions[0] == extract.summary(inline.entities[0])
        stored = dict(case.enrichment.get("classification", {}))
        stored.pop("applied", None)
        assert stored == _classifications(inline.suggestions, engine.versions()[0])[0]


def test_outside_an_import_nothing_is_read_ahead(taxonomy: dict[str, Any], db: Any) -> None:
    from jiefen.cases.intake import Intake
    from jiefen.cases.services import enrichment

    enrichment.look_ahead([Intake(channel="web", case_type="complaint", title="噪音", content="夜间噪音")])
    assert multiprocessing.active_children() == []
    assert ahead.take([("夜间噪音", None)]) is None


def test_a_daemon_process_imports_without_reading_ahead(
    taxonomy: dict[str, Any], db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A Celery prefork worker's processes are daemons, which may not start a process: the import reads
    every batch inline, and says nothing about it."""
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    monkeypatch.setattr(ahead, "Reader", None)  # starting one would fail here
    path = tmp_path / "hotline.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *[(i, t, c, "2020-01-01 09:00") for i, t, c in ROWS]])
    run = transfer.start_run(
        path=path, columns=transfer.parse_mapping("id=编号,title=标题,text=内容"), source="d"
    )
    done = transfer.execute_run(run, batch_size=2)
    assert done.created == 6
    noise = Case.objects.get(external_id="W5")
    assert noise.enrichment["classification"]["category"] == "环境保护"
    assert multiprocessing.active_children() == []
    assert "failed" not in caplog.text


class _Picked(list[str]):
    def pick(self, rows: list[int]) -> list[str]:
        return [self[row] for row in rows]


class _EchoReader:
    """A reader whose reading of a text is the text itself."""

    def submit(
        self, texts: list[str], days: list[Any], k: int, min_score: float | None = None
    ) -> Future[_Picked]:
        future: Future[_Picked] = Future()
        future.set_result(_Picked(texts))
        return future

    def close(self) -> None:
        pass


def test_a_text_that_comes_again_on_the_same_day_in_the_next_batch_is_read_ahead_in_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real exports repeat texts (the same complaint sent twice a day): each batch still takes its own
    reading, the oldest first, and a text twice in one batch is read once."""
    from jiefen.cases.intake import Intake

    monkeypatch.setattr(ahead, "_start", lambda: (_EchoReader(), (1, 1)))
    monkeypatch.setattr(engine, "versions", lambda: (1, 1))
    when = dt.datetime(2020, 1, 1, 9, tzinfo=dt.UTC)

    def batch(*contents: str) -> tuple[list[Any], list[Any]]:
        intakes = [
            Intake(channel="web", case_type="complaint", title="", content=c, received_at=when)
            for c in contents
        ]
        return [(case_text("", i.content), ahead.days_of([when])[0]) for i in intakes], intakes

    first_keys, first = batch("油烟扰民", "噪音扰民", "油烟扰民")
    second_keys, second = batch("油烟扰民", "道路破损")
    with enrichment.bulk_session():
        ahead.look_ahead(first, k=SEARCH_K)
        ahead.look_ahead(second, k=SEARCH_K)
        assert ahead.take(first_keys) == ["油烟扰民", "噪音扰民", "油烟扰民"]
        assert ahead.take(second_keys) == ["油烟扰民", "道路破损"]
        assert ahead.take(second_keys) is None  # each reading is taken once


def test_the_days_of_texts_are_the_local_days() -> None:
    """A text's day (for the risk flags near the Spring Festival) is its local day, as ``localdate`` gives."""
    evening = dt.datetime(2020, 1, 1, 17, 0, tzinfo=dt.UTC)  # 01:00 on 2 January in Beijing
    assert ahead.days_of([evening, None]) == [dt.date(2020, 1, 2), None]
    assert ahead.days_of([evening])[0] == timezone.localdate(evening)
    with timezone.override("UTC"):
        assert ahead.days_of([evening]) == [dt.date(2020, 1, 1)]
