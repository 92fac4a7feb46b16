from typing import Any

import pytest

from jiefen.cases.models import Category
from jiefen.web.tests.conftest import receipts


def _shown(client: Any, cases: dict[str, Any], **params: Any) -> set[str]:
    """The names (keys of ``cases``) of the cases the list shows for ``params``."""
    response = client.get("/cases/", params)
    assert response.status_code == 200
    by_receipt = {case.receipt_number: name for name, case in cases.items()}
    return {by_receipt[r] for r in receipts(response.content.decode())}


def test_the_fixture_cases_are_in_the_states_the_filters_rely_on(list_cases: dict[str, Any]) -> None:
    states = {name: (c.status, c.clock_colour) for name, c in list_cases.items()}
    assert states == {
        "park": ("registered", "yellow"),
        "noise": ("accepted", "green"),
        "wage": ("dispatched", "red"),
        "consult": ("closed", "none"),
    }


def test_the_office_sees_every_case_newest_first(client_for: Any, dispatcher: Any, list_cases: Any) -> None:
    page = client_for(dispatcher).get("/cases/").content.decode()
    c = list_cases
    assert receipts(page) == [
        c["wage"].receipt_number,
        c["noise"].receipt_number,
        c["park"].receipt_number,
        c["consult"].receipt_number,
    ]
    assert "共 4 件" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "registered"}, {"park"}),
        ({"status": "accepted"}, {"noise"}),
        ({"status": "dispatched"}, {"wage"}),
        ({"status": "closed"}, {"consult"}),
        ({"status": "final"}, set()),
        ({"colour": "yellow"}, {"park"}),
        ({"colour": "green"}, {"noise"}),
        ({"colour": "red"}, {"wage"}),
        ({"colour": "none"}, {"consult"}),
        ({"channel": "walk_in"}, {"park"}),
        ({"channel": "phone"}, {"noise"}),
        ({"channel": "web"}, {"wage"}),
        ({"channel": "hotline_12345"}, {"consult"}),
        ({"case_type": "help"}, {"wage"}),
        ({"case_type": "complaint"}, {"park", "noise"}),
        ({"date_to": "2024-03-31"}, {"consult"}),
        ({"date_from": "2024-03-01", "date_to": "2024-03-01"}, {"consult"}),
        ({"date_from": "2024-04-01"}, {"park", "noise", "wage"}),
        ({"status": "registered", "channel": "phone"}, set()),
        ({"colour": "red", "channel": "web", "case_type": "help"}, {"wage"}),
        # Unknown values are ignored rather than failing the page.
        (
            {"status": "nonsense", "colour": "purple", "date_from": "yesterday", "unit": "x"},
            {"park", "noise", "wage", "consult"},
        ),
    ],
)
def test_it_filters_the_list(
    client_for: Any, dispatcher: Any, list_cases: Any, params: dict[str, str], expected: set[str]
) -> None:
    assert _shown(client_for(dispatcher), list_cases, **params) == expected


def test_it_filters_by_unit_including_the_units_below_and_the_tasks_given_to_them(
    client_for: Any, dispatcher: Any, list_cases: Any, district: dict[str, Any]
) -> None:
    client = client_for(dispatcher)
    # 八角街道: park lies in its community 八角南里社区; wage was dispatched to it.
    assert _shown(client, list_cases, unit=district["street_a"].pk) == {"park", "wage"}
    assert _shown(client, list_cases, unit=district["community_a1"].pk) == {"park"}
    assert _shown(client, list_cases, unit=district["street_b"].pk) == {"noise"}
    assert _shown(client, list_cases, unit=district["department"].pk) == set()


def test_it_filters_by_category_including_its_subcategories(
    client_for: Any, dispatcher: Any, list_cases: Any
) -> None:
    client = client_for(dispatcher)
    top = {c.code: c.pk for c in Category.objects.filter(code__in=["WY", "WY01", "LD", "ZD"])}
    assert _shown(client, list_cases, category=top["WY"]) == {"park", "noise"}
    assert _shown(client, list_cases, category=top["WY01"]) == {"park"}
    assert _shown(client, list_cases, category=top["LD"]) == {"wage"}
    assert _shown(client, list_cases, category=top["ZD"]) == set()


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("13800138000", {"park"}),
        ("138-0013-8000", {"park"}),
        ("13900139000", {"noise"}),
        ("13600000000", set()),
        ("噪音", {"noise"}),
        ("消防通道", {"park"}),
        ("工资 拖欠", {"wage"}),
        ("工资 噪音", set()),
        ("供暖费", {"consult"}),
        ("工地", {"noise", "wage"}),
    ],
)
def test_it_searches_by_phone_and_by_words(
    client_for: Any, dispatcher: Any, list_cases: Any, term: str, expected: set[str]
) -> None:
    assert _shown(client_for(dispatcher), list_cases, q=term) == expected


def test_it_finds_a_case_by_its_receipt_number(client_for: Any, dispatcher: Any, list_cases: Any) -> None:
    client = client_for(dispatcher)
    for name, case in list_cases.items():
        assert _shown(client, list_cases, q=case.receipt_number) == {name}
        assert _shown(client, list_cases, q=f"  {case.receipt_number.lower()} ") == {name}


def test_unit_staff_see_only_their_own_units_cases(
    client_for: Any, handler_a: Any, outsider_b: Any, list_cases: Any
) -> None:
    assert _shown(client_for(handler_a), list_cases) == {"park", "wage"}
    assert _shown(client_for(outsider_b), list_cases) == {"noise"}
    # Searching does not reach past the scope either.
    assert _shown(client_for(outsider_b), list_cases, q="13800138000") == set()
    assert _shown(client_for(outsider_b), list_cases, q=list_cases["wage"].receipt_number) == set()


def test_an_htmx_request_gets_only_the_rows(client_for: Any, dispatcher: Any, list_cases: Any) -> None:
    client = client_for(dispatcher)
    response = client.get("/cases/", {"status": "registered"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert '<table class="list stack">' in html
    assert receipts(html) == [list_cases["park"].receipt_number]
    assert "HX-Request" in response["Vary"]
    # Going back in history re-requests the URL as a whole page.
    restore = client.get(
        "/cases/",
        {"status": "registered"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()


def test_the_list_pages_fifty_at_a_time(client_for: Any, dispatcher: Any, make_case: Any) -> None:
    for i in range(51):
        make_case(title=f"测试信访件{i:02d}")
    client = client_for(dispatcher)
    first = client.get("/cases/", {"q": "测试信访件"}).content.decode()
    assert len(receipts(first)) == 50
    assert "共 51 件" in first
    assert 'href="?q=%E6%B5%8B%E8%AF%95%E4%BF%A1%E8%AE%BF%E4%BB%B6&amp;page=2"' in first
    second = client.get("/cases/", {"q": "测试信访件", "page": 2}).content.decode()
    assert len(receipts(second)) == 1
    assert "测试信访件00" in second
