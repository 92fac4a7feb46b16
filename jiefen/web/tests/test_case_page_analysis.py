"""The staff's answer to the intake analysis on the case page: correcting the suggested category (kept for the
next training) and confirming a proposed related case into one matter. Each offer is checked with the persona
who gets it and one who must not; a refused post shows why and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from jiefen.cases.models import Case, CaseEvent, Category
from jiefen.intelligence.models import Correction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_data_dir")]


def _category(code: str) -> Category:
    return Category.objects.get(code=code)


def _suggest(case: Case, best: str, score: float, *alternatives: tuple[str, float]) -> None:
    """Store a classification as ``enrich._classifications`` writes it: the best category and the others as text."""
    category = _category(best)
    enrichment = dict(case.enrichment or {})
    enrichment["classification"] = {
        "category": category.full_name,
        "category_id": category.pk,
        "score": score,
        "alternatives": [f"{_category(code).full_name}（{s:.2f}）" for code, s in alternatives],
        "model": "keywords",
        "reasons": ["匹配分类名称或关键词：乱停、消防通道"],
    }
    Case.objects.filter(pk=case.pk).update(enrichment=enrichment)


def _propose(case: Case, *proposals: tuple[Case, str, float, list[str]]) -> None:
    """Store related cases as ``enrich.related_many`` writes them."""
    enrichment = dict(case.enrichment or {})
    enrichment["similar"] = {
        "cases": [
            {
                "label": other.receipt_number,
                "case_id": other.pk,
                "matter_id": other.matter_id,
                "kind": kind,
                "score": score,
                "evidence": evidence,
            }
            for other, kind, score, evidence in proposals
        ],
        "reasons": [f"{kind}：{other.receipt_number}" for other, kind, _, _ in proposals],
    }
    Case.objects.filter(pk=case.pk).update(enrichment=enrichment)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _section(html: str, css_class: str) -> str:
    start = html.index(f'<section class="card {css_class}"')
    return html[start : html.index("</section>", start)]


def _entry(html: str, key: str) -> str:
    """One entry of the analysis box."""
    box = _section(html, "card-enrichment")
    start = box.index(f'<div class="enrichment" data-key="{key}">')
    end = box.find('<div class="enrichment" data-key=', start + 1)
    return box[start : end if end > 0 else len(box)]


def _state(case: Case) -> tuple[int | None, int | None, int, int, int]:
    case.refresh_from_db()
    return (
        case.category_id,
        case.matter_id,
        case.version,
        CaseEvent.objects.filter(case=case).count(),
        Correction.objects.count(),
    )


def _page(client: Client, case: Case) -> str:
    return str(client.get(f"/cases/{case.pk}/").content.decode())


@pytest.fixture
def suggested(make_case: Callable[..., Any]) -> Case:
    """A case the classifier put in 物业管理 › 停车管理 › 无序停车, with two other suggestions."""
    case = make_case(category_id=_category("WY0101").pk)
    _suggest(case, "WY0101", 0.72, ("WY08", 0.41), ("CG02", 0.18))
    case.refresh_from_db()
    return case


# --- the category -----------------------------------------------------------------------------------------------


def test_a_clerk_sees_the_chooser_with_the_suggestion_pre_selected_and_the_top_three_as_quick_picks(
    client_for: Any, clerk: Any, suggested: Case
) -> None:
    entry = _entry(_page(client_for(clerk), suggested), "classification")
    assert "<h3>分类建议</h3>" in entry
    assert re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", entry) == [
        ("建议分类", "物业管理 › 停车管理 › 无序停车"),
        ("置信度", "0.72"),
        ("其他建议", "物业管理 › 环境卫生（0.41）、城市管理 › 占道经营（0.18）"),
        ("模型", "关键词规则（尚未训练模型）"),
    ]
    form = entry[entry.index('<details class="action category-action" id="change-category">') :]
    assert f'action="/cases/{suggested.pk}/category/"' in form
    assert f'<input type="hidden" name="version" value="{suggested.version}">' in form
    picks = re.findall(
        r'<button type="submit" name="pick" value="(\d+)" class="pick"( disabled)?>([^<]+)', form
    )
    assert picks == [
        (str(_category("WY0101").pk), " disabled", "物业管理 › 停车管理 › 无序停车 "),
        (str(_category("WY08").pk), "", "物业管理 › 环境卫生 "),
        (str(_category("CG02").pk), "", "城市管理 › 占道经营 "),
    ]
    assert re.findall(r'<span class="score">([^<]+)</span>', form) == ["0.72", "0.41", "0.18"]
    assert re.findall(r'<option value="\d+" selected>([^<]+)</option>', form) == ["\u3000\u3000无序停车"]


def test_the_chooser_lists_the_whole_taxonomy_each_node_under_its_parent(
    client_for: Any, clerk: Any, suggested: Case
) -> None:
    form = _entry(_page(client_for(clerk), suggested), "classification")
    options = re.findall(r'<option value="\d+"(?: selected)?>([^<]+)</option>', form)
    assert len(options) == Category.objects.filter(is_active=True).count()
    start = options.index("物业管理")
    assert options[start : start + 5] == [
        "物业管理",
        "\u3000停车管理",
        "\u3000\u3000无序停车",
        "\u3000\u3000车位收费",
        "\u3000\u3000充电桩",
    ]
    Category.objects.filter(code="WY0103").update(is_active=False)
    form = _entry(_page(client_for(clerk), suggested), "classification")
    assert "充电桩" not in form


def test_a_clerk_corrects_the_category_and_the_page_says_who_did_it(
    client_for: Any, clerk: Any, suggested: Case
) -> None:
    noise = _category("WY02")
    response = client_for(clerk).post(
        f"/cases/{suggested.pk}/category/",
        {"category": noise.pk, "version": suggested.version},
        follow=True,
    )
    assert _messages(response) == ["分类已更正为“物业管理 › 噪音扰民”"]
    suggested.refresh_from_db()
    assert suggested.category == noise
    correction = Correction.objects.get(case=suggested)
    assert (correction.previous, correction.suggested, correction.category, correction.actor) == (
        _category("WY0101"),
        _category("WY0101"),
        noise,
        clerk,
    )
    assert correction.overrides_suggestion
    event = CaseEvent.objects.filter(case=suggested).latest("id")
    assert (event.kind, event.note) == ("field_changed", "分类改为“物业管理 › 噪音扰民”")
    html = response.content.decode()
    when = correction.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    fact = re.search(r'<dd class="case-category">(.*?)</dd>', html)
    assert fact is not None
    assert fact.group(1) == (
        f'物业管理 › 噪音扰民 <small class="muted corrected">clerk 于 {when} 更正'
        "（系统建议：物业管理 › 停车管理 › 无序停车）</small>"
    )
    # The new category is the current one among the choices; the suggestion stays pre-selected.
    form = _entry(html, "classification")
    assert f'<input type="hidden" name="version" value="{suggested.version}">' in form
    assert 'class="pick" disabled' not in form


def test_a_dispatcher_takes_a_quick_pick_and_the_correction_agrees_with_the_suggestion(
    client_for: Any, dispatcher: Any, make_case: Callable[..., Any]
) -> None:
    case = make_case(category_id=_category("WY08").pk)
    _suggest(case, "WY0101", 0.55, ("WY08", 0.41))
    case.refresh_from_db()
    wanted = _category("WY0101")
    response = client_for(dispatcher).post(
        f"/cases/{case.pk}/category/",
        # The chooser's own value is sent too; the pressed pick wins.
        {"pick": wanted.pk, "category": _category("WY08").pk, "version": case.version},
        follow=True,
    )
    assert _messages(response) == ["分类已更正为“物业管理 › 停车管理 › 无序停车”"]
    case.refresh_from_db()
    assert case.category == wanted
    correction = Correction.objects.get(case=case)
    assert (correction.previous, correction.suggested, correction.category) == (
        _category("WY08"),
        wanted,
        wanted,
    )
    assert not correction.overrides_suggestion
    fact = re.search(r'<dd class="case-category">(.*?)</dd>', response.content.decode())
    assert fact is not None
    assert fact.group(1).startswith(
        '物业管理 › 停车管理 › 无序停车 <small class="muted corrected">dispatcher 于 '
    )
    assert "系统建议" not in fact.group(1)


def test_a_case_without_a_suggestion_still_gets_the_chooser_on_its_current_category(
    client_for: Any, clerk: Any, make_case: Callable[..., Any]
) -> None:
    case = make_case(category_id=_category("LD01").pk)
    Case.objects.filter(pk=case.pk).update(enrichment={})
    html = _page(client_for(clerk), case)
    entry = _entry(html, "classification")
    assert "<h3>分类</h3>" in entry
    assert "登记时没有分类建议。" in entry
    assert 'name="pick"' not in entry
    assert re.findall(r'<option value="\d+" selected>([^<]+)</option>', entry) == ["\u3000拖欠农民工工资"]


@pytest.mark.parametrize("persona", ["supervisor", "handler_a"])
def test_only_clerks_dispatchers_and_admins_get_the_chooser(
    request: pytest.FixtureRequest, client_for: Any, persona: str, dispatched_case: Case
) -> None:
    _suggest(dispatched_case, "WY0101", 0.72, ("WY08", 0.41))
    html = _page(client_for(request.getfixturevalue(persona)), dispatched_case)
    entry = _entry(html, "classification")
    assert "<dt>建议分类</dt>" in entry  # the analysis is shown …
    assert "change-category" not in html  # … but not the chooser
    assert f"/cases/{dispatched_case.pk}/category/" not in html


@pytest.mark.parametrize("persona", ["supervisor", "handler_a"])
def test_a_category_post_by_a_role_without_the_right_is_refused_and_changes_nothing(
    request: pytest.FixtureRequest, client_for: Any, persona: str, dispatched_case: Case
) -> None:
    before = _state(dispatched_case)
    response = client_for(request.getfixturevalue(persona)).post(
        f"/cases/{dispatched_case.pk}/category/",
        {"category": _category("WY02").pk, "version": dispatched_case.version},
        follow=True,
    )
    assert response.status_code == 200
    assert _messages(response) == ["只有接访员、交办员和管理员可以修改分类"]
    assert _state(dispatched_case) == before


def test_an_outsider_cannot_reach_the_category_of_a_case_it_may_not_see(
    client_for: Any, outsider_b: Any, dispatched_case: Case
) -> None:
    before = _state(dispatched_case)
    response = client_for(outsider_b).post(
        f"/cases/{dispatched_case.pk}/category/", {"category": _category("WY02").pk}
    )
    assert response.status_code == 404
    assert _state(dispatched_case) == before


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"category": "999999"}, "没有这个分类，请刷新页面后重新选择"),
        ({"category": "abc"}, "请选择分类"),
        ({}, "请选择分类"),
        ({"category": "WY0101"}, "该信访件已是这一分类"),
        ({"category": "WY0103", "inactive": "1"}, "分类“物业管理 › 停车管理 › 充电桩”已停用"),
        (
            {"category": "WY02", "version": "1", "stale": "1"},
            "该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作",
        ),
        ({"category": "WY02", "version": "x"}, "版本号有误，请刷新页面后再操作"),
    ],
)
def test_bad_category_input_is_refused_with_a_clear_message_and_changes_nothing(
    client_for: Any, clerk: Any, suggested: Case, posted: dict[str, str], message: str
) -> None:
    payload = dict(posted)
    if payload.pop("inactive", None):
        Category.objects.filter(code="WY0103").update(is_active=False)
    if payload.pop("stale", None):
        Case.objects.filter(pk=suggested.pk).update(version=suggested.version + 1)  # someone else acted first
    if payload.get("category", "").startswith(("WY", "CG")):
        payload["category"] = str(_category(payload["category"]).pk)
    before = _state(suggested)
    response = client_for(clerk).post(f"/cases/{suggested.pk}/category/", payload, follow=True)
    assert _messages(response) == [message]
    assert _state(suggested) == before


def test_the_correction_endpoints_take_posts_only_and_need_the_csrf_token(
    clerk: Any, suggested: Case, make_case: Callable[..., Any]
) -> None:
    other = make_case()
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    before = _state(suggested)
    assert client.get(f"/cases/{suggested.pk}/category/").status_code == 405
    assert client.get(f"/cases/{suggested.pk}/related/link/").status_code == 405
    assert (
        client.post(f"/cases/{suggested.pk}/category/", {"category": _category("WY02").pk}).status_code == 403
    )
    assert client.post(f"/cases/{suggested.pk}/related/link/", {"other": other.pk}).status_code == 403
    assert _state(suggested) == before


# --- related cases ------------------------------------------------------------------------------------------


@pytest.fixture
def proposed(make_case: Callable[..., Any], district: dict[str, Any]) -> dict[str, Case]:
    """A new case in street A with two proposed related cases: an earlier one in street A, one in street B."""
    a1, b1 = district["community_a1"].pk, district["community_b1"].pk
    earlier = make_case(title="消防通道被占用", jurisdiction_unit_id=a1)
    elsewhere = make_case(
        title="古城南路小区乱停车",
        content="古城南路小区门口车辆乱停。",
        place_text="",
        jurisdiction_unit_id=b1,
    )
    case = make_case(title="3号楼下消防通道又被堵", jurisdiction_unit_id=a1)
    _propose(
        case,
        (earlier, "same_person", 0.83, ["同一信访人", "共同内容：消防通道"]),
        (elsewhere, "same_problem_same_place", 0.61, ["同一地点：古城南路小区", "共同内容：乱停"]),
    )
    case.refresh_from_db()
    return {"case": case, "earlier": earlier, "elsewhere": elsewhere}


def test_a_clerk_sees_each_proposed_case_with_its_evidence_and_a_button(
    client_for: Any, clerk: Any, proposed: dict[str, Case]
) -> None:
    case, earlier, elsewhere = proposed["case"], proposed["earlier"], proposed["elsewhere"]
    entry = _entry(_page(client_for(clerk), case), "similar")
    assert "<h3>相似信访件</h3>" in entry
    rows = entry.split('<li class="related"')[1:]
    assert len(rows) == 2
    first, second = rows
    assert f' id="related-{earlier.pk}">' in first
    assert (
        f'<a href="/cases/{earlier.pk}/">消防通道被占用</a> <span class="receipt">{earlier.receipt_number}</span>'
        in first
    )
    assert '<span class="tag kind kind-same_person">同一信访人重复信访</span>' in first
    assert "相似度 <b>0.83</b>" in first
    assert re.findall(r"<li>([^<]+)</li>", first) == ["同一信访人", "共同内容：消防通道"]
    assert f'<input type="hidden" name="other" value="{earlier.pk}">' in first
    assert f'<input type="hidden" name="version" value="{case.version}">' in first
    assert '<button class="primary" type="submit">确认关联</button>' in first
    assert elsewhere.receipt_number in second
    assert "同一地点同一问题（联名/热点）" in second
    # The raw explanations (receipt numbers in running text) are no longer printed.
    assert f"same_person：{earlier.receipt_number}" not in entry


def test_a_clerk_confirms_a_link_and_the_case_shows_as_in_the_same_matter(
    client_for: Any, clerk: Any, proposed: dict[str, Case]
) -> None:
    case, earlier = proposed["case"], proposed["earlier"]
    own_matter = case.matter_id
    response = client_for(clerk).post(
        f"/cases/{case.pk}/related/link/", {"other": earlier.pk, "version": case.version}, follow=True
    )
    assert _messages(response) == [f"已确认关联：本件与 {earlier.receipt_number} 属于同一事项"]
    case.refresh_from_db()
    assert case.matter_id == earlier.matter_id != own_matter
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.note) == ("field_changed", "关联到事项“消防通道被占用”")
    html = response.content.decode()
    row = _entry(html, "similar").split(f' id="related-{earlier.pk}">')[1].split('<li class="related')[0]
    assert '<span class="tag linked">已关联（同一事项）</span>' in row
    assert "确认关联</button>" not in row
    assert "相似度 <b>0.83</b>" in row  # the evidence stays
    # The other proposal can still be confirmed, and the matter box lists the linked case.
    assert f'name="other" value="{proposed["elsewhere"].pk}"' in html
    assert re.findall(r'<span class="receipt">([^<]+)</span>', _section(html, "card-matter")) == [
        earlier.receipt_number
    ]


def test_a_unit_handler_sees_what_it_may_see_and_nothing_of_the_rest(
    client_for: Any, handler_a: Any, dispatcher: Any, proposed: dict[str, Case], district: dict[str, Any]
) -> None:
    from jiefen.cases import services

    case, earlier, elsewhere = proposed["case"], proposed["earlier"], proposed["elsewhere"]
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_a"])
    client = client_for(handler_a)
    assert client.get(f"/cases/{elsewhere.pk}/").status_code == 404  # street B's case is not theirs
    entry = _entry(_page(client, case), "similar")
    rows = entry.split('<li class="related"')[1:]
    assert earlier.receipt_number in rows[0]
    assert "确认关联</button>" not in entry  # a unit does not link matters
    hidden = rows[1]
    assert hidden.startswith(">")  # no id: not even the other case's number
    assert '<span class="muted hidden-case">一件您无权查看的信访件</span>' in hidden
    assert (
        '<span class="tag kind kind-same_problem_same_place">同一地点同一问题（联名/热点）</span>' in hidden
    )
    for leak in (
        elsewhere.receipt_number,
        "古城南路",
        "乱停",
        f"/cases/{elsewhere.pk}/",
        str(elsewhere.title),
    ):
        assert leak not in entry


def test_a_link_to_a_case_the_user_may_not_see_is_refused_and_changes_nothing(
    client_for: Any, handler_a: Any, dispatcher: Any, proposed: dict[str, Case], district: dict[str, Any]
) -> None:
    from jiefen.cases import services

    case = proposed["case"]
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_a"])
    before = _state(case)
    client = client_for(handler_a)
    response = client.post(
        f"/cases/{case.pk}/related/link/",
        {"other": proposed["elsewhere"].pk, "version": case.version},
        follow=True,
    )
    assert _messages(response) == ["找不到该信访件，或您无权查看"]
    assert _state(case) == before
    # A case it may see is refused for the role.
    response = client.post(
        f"/cases/{case.pk}/related/link/",
        {"other": proposed["earlier"].pk, "version": case.version},
        follow=True,
    )
    assert _messages(response) == ["只有接访员和交办员可以关联事项"]
    assert _state(case) == before


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"other": "unproposed"}, "不在本件的相似信访件建议中"),
        ({"other": "999999"}, "找不到该信访件，或您无权查看"),
        ({"other": ""}, "请选择要关联的信访件"),
        ({"other": "earlier", "stale": "1"}, "该信访件刚刚已被其他人处理，请刷新页面查看最新情况后再操作"),
    ],
)
def test_bad_link_input_is_refused_with_a_clear_message_and_changes_nothing(
    client_for: Any,
    clerk: Any,
    proposed: dict[str, Case],
    make_case: Callable[..., Any],
    posted: dict[str, str],
    message: str,
) -> None:
    case = proposed["case"]
    payload = dict(posted)
    if payload["other"] == "unproposed":
        unproposed = make_case(title="另一件事")
        payload["other"] = str(unproposed.pk)
        message = f"{unproposed.receipt_number} {message}"
    elif payload["other"] == "earlier":
        payload["other"] = str(proposed["earlier"].pk)
    payload["version"] = str(case.version)
    if payload.pop("stale", None):
        Case.objects.filter(pk=case.pk).update(version=case.version + 1)
    before = _state(case)
    response = client_for(clerk).post(f"/cases/{case.pk}/related/link/", payload, follow=True)
    assert _messages(response) == [message]
    assert _state(case) == before


def test_a_closed_case_shows_its_proposals_without_buttons(
    client_for: Any, clerk: Any, make_case: Callable[..., Any]
) -> None:
    from jiefen.cases import services

    earlier = make_case()
    case = make_case(case_type="consult", title="咨询停车收费标准")
    services.answer_now(case=case, actor=clerk, answer="按物价部门公示的标准收费。")
    _propose(case, (earlier, "same_person", 0.7, ["同一信访人"]))
    entry = _entry(_page(client_for(clerk), case), "similar")
    assert earlier.receipt_number in entry
    assert "确认关联</button>" not in entry


# --- labels -----------------------------------------------------------------------------------------------------


@pytest.fixture
def analysed(make_case: Callable[..., Any]) -> Case:
    case = make_case()
    enrichment = dict(case.enrichment or {})
    enrichment["extraction"] = {
        "places": ["八角南里小区"],
        "specific_places": ["八角南里小区"],
        "phones": ["138****5678"],
        "money": ["300元"],
    }
    enrichment["risk"] = {
        "level": "high",
        "urgency": "urgent",
        "flags": ["escalation", "group"],
        "emergency_flag": False,
        "reasons": ["扬言进京或越级上访：进京"],
    }
    Case.objects.filter(pk=case.pk).update(enrichment=enrichment)
    case.refresh_from_db()
    _suggest(case, "WY0101", 0.72)
    return case


def test_the_analysis_is_labelled_for_people(client_for: Any, clerk: Any, analysed: Case) -> None:
    html = _page(client_for(clerk), analysed)
    facts = re.compile(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>")
    assert facts.findall(_entry(html, "extraction")) == [
        ("地点", "八角南里小区"),
        ("电话", "138****5678"),
        ("金额", "300元"),
    ]
    assert facts.findall(_entry(html, "risk")) == [
        ("风险等级", "高"),
        ("建议紧急程度", "紧急"),
        ("风险类型", "扬言进京或越级上访、群体性"),
        ("需立即处置", "否"),
    ]


def test_the_analysis_and_its_forms_speak_english(
    client_for: Any, clerk: Any, analysed: Case, make_case: Callable[..., Any]
) -> None:
    earlier = make_case()
    _propose(analysed, (earlier, "same_person", 0.83, ["同一信访人"]))
    client = client_for(clerk)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = _page(client, analysed)
    facts = re.compile(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>")
    assert facts.findall(_entry(html, "risk")) == [
        ("Risk level", "High"),
        ("Suggested urgency", "Urgent"),
        ("Risk signs", "Threat to petition in Beijing or skip levels、Group petition"),
        ("Needs action now", "No"),
    ]
    classification = _entry(html, "classification")
    assert "<h3>Category suggestion</h3>" in classification
    assert ("Model", "Keyword rules (no trained model yet)") in facts.findall(classification)
    assert "<summary>Correct the category</summary>" in classification
    similar = _entry(html, "similar")
    assert "<h3>Similar cases</h3>" in similar
    assert '<span class="tag kind kind-same_person">Repeat petition by the same person</span>' in similar
    assert '<button class="primary" type="submit">Confirm the link</button>' in similar
