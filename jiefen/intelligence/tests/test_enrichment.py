"""Intake enrichment: classification, extraction, risk, related cases — each with its explanation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from jiefen.cases.intake import PersonInput
from jiefen.cases.models import CaseEvent, EventKind, Matter, MatterStatus
from jiefen.cases.workflow import CaseStatus
from jiefen.core.errors import InvalidInput, NotAllowed
from jiefen.intelligence import engine, enrich, services
from jiefen.intelligence.models import Correction, ModelKind, ModelVersion
from jiefen.language.text import case_text
from jiefen.web import case_page

pytestmark = pytest.mark.django_db

NOISE = [
    ("魅力之城小区楼下烧烤店油烟扰民", "魅力之城小区临街门面油烟直排，深夜经营噪音扰民，请求处理。"),
    ("魅力之城小区底层餐馆油烟严重", "魅力之城小区底层几家餐馆油烟直排，窗户不能打开，影响居民生活。"),
    ("投诉魅力之城小区夜宵摊噪音", "魅力之城小区一楼夜宵摊营业到凌晨，烧烤油烟和噪音扰民。"),
]
OTHER = [
    ("某公司拖欠农民工工资", "西湖建筑集团拖欠我们30多名工人工资共计15万元，至今未付。"),
    ("学校强制学生外出实习", "A市经济学院强制学生去外省工厂实习，不去不给毕业证。"),
    ("道路破损无人维修", "劳动东路路面破损多处，雨天积水，希望尽快维修。"),
    ("公交线路调整建议", "建议在南塘增设公交站，方便居民出行。"),
]


def _index(make_case: Callable[..., Any], rows: list[tuple[str, str]], **kw: Any) -> list[Any]:
    cases = [make_case(title=t, content=c, **kw) for t, c in rows]
    services.reindex()
    return cases


def test_a_registered_case_carries_classification_extraction_and_risk_with_reasons(
    make_case: Callable[..., Any], taxonomy: dict[str, Any]
) -> None:
    case = make_case(
        title="小区物业乱收停车费",
        content="魅力之城小区3栋2单元，物业乱收停车费每月300元，电话13812345678，再不解决我们就进京上访。",
        place_text="",
    )
    classification = case.enrichment["classification"]
    assert classification["category"] == "物业管理 › 停车管理"
    assert classification["category_id"] == taxonomy["parking"].pk
    assert classification["model"] == "keywords"
    assert classification["reasons"] == ["匹配分类名称或关键词：停车费"]
    assert classification["applied"] is True
    assert case.category_id == taxonomy["parking"].pk
    extraction = case.enrichment["extraction"]
    assert "魅力之城小区" in extraction["places"]
    assert extraction["phones"] == ["138****5678"]
    assert extraction["money"] == ["300元"]
    risk = case.enrichment["risk"]
    assert risk["flags"] == ["escalation"]
    assert risk["level"] == "high"
    assert risk["reasons"] == ["扬言进京或越级上访：进京"]
    assert case.urgency == "urgent"
    # The case page shows each part with its explanation.
    items = {item["key"]: item for item in case_page.enrichment_items(case)}
    assert items["classification"]["explanations"] == ["匹配分类名称或关键词：停车费"]
    assert items["risk"]["explanations"] == ["扬言进京或越级上访：进京"]
    assert "13812345678" not in str(case.enrichment)


def test_a_failing_part_of_the_analysis_is_left_out_and_never_blocks_the_registration(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from jiefen.intelligence import enrich

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("broken")

    monkeypatch.setattr(enrich, "_classifications", broken)
    case = make_case(
        title="小区物业乱收停车费", content="魅力之城小区物业乱收停车费，再不解决我们就进京上访。"
    )
    assert "classification" not in case.enrichment and case.category_id is None
    assert case.enrichment["risk"]["flags"] == ["escalation"]  # the other parts still count
    monkeypatch.setattr(enrich, "_risk", broken)
    case = make_case(
        title="小区物业乱收停车费", content="魅力之城小区物业乱收停车费，再不解决我们就进京上访。"
    )
    assert "risk" not in case.enrichment and "extraction" in case.enrichment
    monkeypatch.setattr(engine, "models", broken)  # nothing can be read at all
    case = make_case(title="噪音扰民", content="楼下酒吧深夜噪音扰民")
    assert case.pk is not None and "extraction" not in case.enrichment


def test_a_category_given_at_intake_is_kept(make_case: Callable[..., Any], taxonomy: dict[str, Any]) -> None:
    case = make_case(title="物业乱收停车费", content="物业乱收停车费。", category_id=taxonomy["noise"].pk)
    assert case.category_id == taxonomy["noise"].pk
    assert case.enrichment["classification"]["category_id"] == taxonomy["parking"].pk
    assert "applied" not in case.enrichment["classification"]


def test_related_cases_at_intake_name_the_same_place_and_the_same_person(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    first, *_ = _index(make_case, NOISE[:2] + OTHER, petitioner=PersonInput(name="李四", phone="13900000001"))
    index = engine.index()
    assert index is not None and len(index) == 6
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(
            title=NOISE[2][0], content=NOISE[2][1], petitioner=PersonInput(name="王五", phone="13900000002")
        )
    assert len(index) == 7  # the new case's vector was appended once the registration committed
    similar = case.enrichment["similar"]
    kinds = {c["label"]: c["kind"] for c in similar["cases"]}
    assert kinds[first.receipt_number] == "same_problem_same_place"
    evidence = next(c["evidence"] for c in similar["cases"] if c["label"] == first.receipt_number)
    assert "同一地点：魅力之城小区" in evidence
    again = make_case(
        title="再次反映魅力之城小区油烟问题",
        content="上个月反映的魅力之城小区烧烤店油烟问题还没解决，依旧深夜营业。",
        petitioner=PersonInput(name="李四", phone="13900000001"),
    )
    kinds = {c["label"]: c["kind"] for c in again.enrichment["similar"]["cases"]}
    assert kinds[first.receipt_number] == "same_person", again.enrichment["similar"]


def test_only_a_persons_latest_cases_are_fetched_for_comparison(make_case: Callable[..., Any]) -> None:
    frequent = [
        make_case(
            content=f"第{i}次反映小区车辆乱停。", petitioner=PersonInput(name="李四", phone="13900000001")
        )
        for i in range(enrich.PERSON_CASES + 3)
    ]
    rare = [make_case(petitioner=PersonInput(name="王五", phone="13900000002")) for _ in range(2)]
    latest = enrich._latest_cases({frequent[0].petitioner_id, rare[0].petitioner_id, 999_999})
    assert latest == {
        frequent[0].petitioner_id: sorted((c.pk for c in frequent), reverse=True)[: enrich.PERSON_CASES],
        rare[0].petitioner_id: sorted((c.pk for c in rare), reverse=True),
    }
    assert enrich._latest_cases(set()) == {}


def test_a_case_on_facts_already_final_is_flagged(
    make_case: Callable[..., Any], taxonomy: dict[str, Any]
) -> None:
    first, *_ = _index(make_case, NOISE[:1] + OTHER)
    Matter.objects.filter(pk=first.matter_id).update(status=MatterStatus.FINAL)
    case = make_case(title=NOISE[1][0], content=NOISE[1][1], petitioner=PersonInput(name="赵六"))
    found = {c["label"]: c for c in case.enrichment["similar"]["cases"]}
    assert found[first.receipt_number]["kind"] == "final_matter"
    assert any("已复核终结" in e for e in found[first.receipt_number]["evidence"])


def test_a_double_submission_within_minutes_is_merged_into_the_first(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    first, *_ = _index(make_case, NOISE[:1] + OTHER)
    with django_capture_on_commit_callbacks(execute=True):
        second = make_case(title=NOISE[0][0], content=NOISE[0][1])
    second.refresh_from_db()
    assert second.enrichment["similar"]["cases"][0]["kind"] == "near_duplicate"
    assert second.status == CaseStatus.MERGED
    assert second.merged_into_id == first.pk
    assert second.matter_id == first.matter_id


def test_a_clerk_confirms_a_proposed_related_case(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], clerk: Any
) -> None:
    first, *_ = _index(make_case, NOISE[:1] + OTHER, petitioner=PersonInput(name="钱七"))
    case = make_case(title=NOISE[1][0], content=NOISE[1][1], petitioner=PersonInput(name="孙八"))
    services.confirm_related(case=case, other=first, actor=clerk)
    case.refresh_from_db()
    assert case.matter_id == first.matter_id
    with pytest.raises(InvalidInput):
        services.confirm_related(case=first, other=_[-1], actor=clerk)


def test_set_category_records_the_correction_and_the_event(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], dispatcher: Any
) -> None:
    case = make_case(title="物业乱收停车费", content="物业乱收停车费，车位被占，车辆乱停。")
    services.set_category(case=case, category=taxonomy["wages"], actor=dispatcher)
    case.refresh_from_db()
    assert case.category_id == taxonomy["wages"].pk
    correction = Correction.objects.get(case=case)
    assert (correction.previous, correction.suggested, correction.category, correction.actor) == (
        taxonomy["parking"],
        taxonomy["parking"],
        taxonomy["wages"],
        dispatcher,
    )
    assert correction.overrides_suggestion
    event = CaseEvent.objects.filter(case=case, kind=EventKind.FIELD_CHANGED).get()
    assert event.data == {"category": "TLD", "previous": "TWY-TC", "suggested": "TWY-TC"}
    # The next training learns from it (a corrected case counts even while open).
    texts, labels = services.training_data_from_db()
    assert labels == ["劳动保障"] and texts == ["物业乱收停车费，车位被占，车辆乱停。"]


def test_set_category_is_denied_to_a_unit_handler_and_changes_nothing(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], handler_a: Any
) -> None:
    case = make_case(title="物业乱收停车费", content="物业乱收停车费，车位被占，车辆乱停。")
    with pytest.raises(NotAllowed):
        services.set_category(case=case, category=taxonomy["wages"], actor=handler_a)
    case.refresh_from_db()
    assert case.category_id == taxonomy["parking"].pk
    assert not Correction.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.FIELD_CHANGED).exists()


def test_a_newly_trained_model_is_used_by_the_next_registration(
    make_case: Callable[..., Any], taxonomy: dict[str, Any]
) -> None:
    texts = [f"小区{i}号楼油烟噪音扰民" for i in range(12)] + [f"公司拖欠{i}名工人工资" for i in range(12)]
    labels = ["环境保护"] * 12 + ["劳动保障"] * 12
    trained = services.train_classifier(texts=texts, labels=labels, source="test", evaluate=False)
    assert trained.version is not None and trained.version.active
    assert ModelVersion.objects.get(kind=ModelKind.CLASSIFIER, active=True).version == 1
    case = make_case(
        title="楼下餐馆油烟扰民",
        content="楼下餐馆油烟噪音扰民。",
        received_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )
    assert case.enrichment["classification"]["model"] == "v1"
    assert case.enrichment["classification"]["category_id"] == taxonomy["noise"].pk
    second = services.train_classifier(texts=texts, labels=labels, source="test", evaluate=False)
    assert second.version is not None and second.version.version == 2
    assert list(ModelVersion.objects.filter(active=True).values_list("version", flat=True)) == [2]


def test_in_the_background_a_double_submission_in_the_same_batch_is_found_and_merged(
    make_case: Callable[..., Any],
    taxonomy: dict[str, Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Both submissions wait for the same background batch: the second is compared with the first there
    (neither is in the index yet) and merged into it; the first is not related to the later one."""
    from jiefen.cases.services import enrich_pending

    _index(make_case, OTHER)
    settings.INTAKE_ENRICHMENT = "background"
    with django_capture_on_commit_callbacks(execute=False):
        first = make_case(title=NOISE[0][0], content=NOISE[0][1])
        second = make_case(title=NOISE[0][0], content=NOISE[0][1])
    with django_capture_on_commit_callbacks(execute=True):
        assert enrich_pending() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.pk not in [f["case_id"] for f in (first.enrichment.get("similar") or {}).get("cases", [])]
    assert second.enrichment["similar"]["cases"][0]["case_id"] == first.pk
    assert second.enrichment["similar"]["cases"][0]["kind"] == "near_duplicate"
    assert second.status == CaseStatus.MERGED and second.merged_into_id == first.pk


def test_shared_phrases_are_cut_to_a_readable_length() -> None:
    """Two copies of one long message share all of it: the evidence shows the phrase's start, not the whole
    message again."""
    text = "市民反映：金顶街小区停车难问题已经持续十多天，多次反映没有解决，请有关部门尽快处理。"
    (phrase,) = enrich.shared_phrases(text, text)
    assert len(phrase) == enrich.PHRASE_CHARS and phrase.endswith("…")
    assert "".join(c for c in text if c not in "：，。").startswith(phrase[:-1])  # (cleaned of punctuation)
    assert enrich.shared_phrases("魅力之城小区油烟扰民", "油烟扰民严重") == ["油烟扰民"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("through", ["staff", "portal"])
def test_a_registration_is_read_before_its_transaction_opens(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], monkeypatch: pytest.MonkeyPatch, through: str
) -> None:
    """The classifier, the extraction and the index search run once, before the registration's transaction
    (on SQLite it holds the one write lock from its start); the enricher inside takes what they found."""
    from django.db import connection

    from jiefen.cases.actors import CITIZEN
    from jiefen.cases.intake import Intake
    from jiefen.intake.services import submit_petition
    from jiefen.intelligence import ahead

    first, *_ = _index(make_case, NOISE[:2] + OTHER)
    index = engine.index()
    assert index is not None and len(index) == 6
    reads: list[tuple[list[str], bool]] = []

    def spy(texts: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append((list(texts), connection.in_atomic_block))
        return read(texts, *args, **kwargs)

    read = ahead.read
    monkeypatch.setattr(ahead, "read", spy)
    monkeypatch.setattr(enrich, "read", spy)  # (the enricher's own reading, had it found none)
    title, content = NOISE[2]
    if through == "staff":
        case = make_case(title=title, content=content, petitioner=PersonInput(name="王五"))
    else:
        person = PersonInput(name="王五", phone="13900000005")
        intake = Intake(channel="web", case_type="complaint", title=title, content=content, petitioner=person)
        case = submit_petition(key="R" * 24, intake=intake, actor=CITIZEN).case
    assert reads == [([case_text(title, content)], False)]
    case.refresh_from_db()
    assert case.enrichment["classification"]["category_id"] == taxonomy["noise"].pk
    assert first.receipt_number in {c["label"] for c in case.enrichment["similar"]["cases"]}
    assert len(index) == 7  # appended once the registration committed


def test_the_catch_up_adds_the_cases_the_index_lacks(
    make_case: Callable[..., Any], taxonomy: dict[str, Any]
) -> None:
    """Cases registered while a rebuild ran, or whose append a crash of the machine lost, are added by the
    periodic catch-up (cases registered in the last minutes are left to their own registration)."""
    from jiefen.cases.models import Case
    from jiefen.intelligence.tasks import compact_similar_index

    _index(make_case, NOISE[:2] + OTHER)
    index = engine.index()
    assert index is not None and len(index) == 6
    lost = make_case(title=NOISE[2][0], content=NOISE[2][1])  # (no commit here: its append never ran)
    assert len(index) == 6
    assert services.catch_up_index() == 0  # too recent: its registration may still append it
    Case.objects.filter(pk=lost.pk).update(created_at=lost.created_at - dt.timedelta(hours=1))
    assert services.catch_up_index() == 1
    assert len(index) == 7
    vectorizer = engine.vectorizer()
    assert vectorizer is not None
    query = vectorizer.obj.transform([case_text(NOISE[2][0], NOISE[2][1])])[0]
    assert index.search(query, 1)[0].case_id == lost.pk
    assert services.catch_up_index() == 0
    assert compact_similar_index() == 7  # the hourly job: catch up, then compact


def test_the_catch_up_reads_only_the_blocks_whose_tallies_differ(
    make_case: Callable[..., Any], taxonomy: dict[str, Any], django_assert_num_queries: Any
) -> None:
    """The catch-up compares the count and sum of the ids of each block of ids, in the database and in the
    index, and reads id by id only the blocks that differ; only the ids lacking are looked up for their
    registration time."""
    import numpy as np
    from django.utils import timezone

    from jiefen.cases.models import Case

    _index(make_case, NOISE[:2] + OTHER)
    index = engine.index()
    assert index is not None
    lost = make_case(title=NOISE[2][0], content=NOISE[2][1])
    Case.objects.filter(pk=lost.pk).update(created_at=lost.created_at - dt.timedelta(hours=1))
    indexed = np.unique(index.ids())
    now = timezone.now()
    # The tallies, the one block that holds the lost case, and the registration time of the one id lacking.
    with django_assert_num_queries(3):
        assert services._unindexed(indexed, before=now, block=2) == [lost.pk]
    with django_assert_num_queries(1):  # nothing lacking: no block is read
        assert services._unindexed(np.unique([*indexed, lost.pk]), before=now, block=2) == []
    # One block for all: the index holds a case the database has not (gone), as many as it lacks.
    gone = int(indexed.max()) + 1_000
    with django_assert_num_queries(3):
        assert services._unindexed(np.unique([*indexed, gone]), before=now, block=1 << 40) == [lost.pk]
    earlier = lost.created_at - dt.timedelta(hours=2)
    assert services._unindexed(indexed, before=earlier, block=2) == []  # not yet settled


def test_the_emergency_notice_and_the_risk_flag_read_the_same_text(make_case: Callable[..., Any]) -> None:
    """Scraped text breaks lines anywhere: both read the cleaned case text, so a line break inside "现在昏迷"
    hides it from neither (the notice read the raw title and content, and missed it)."""
    case = make_case(title="求助", content="我父亲现在\n\t\t昏迷，请派救护车")
    assert case.enrichment["emergency"]["numbers"] == ["120"]
    assert case.enrichment["risk"]["emergency_flag"] is True
    assert case.urgency == "critical"
