"""The one access function, tested across the personas: who sees which case, and who sees whose identity."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from jiefen.cases import services
from jiefen.cases.queries import cases_visible_to, get_case_for_user, may_see_identity


@pytest.fixture
def cases(make_case: Any, dispatcher: Any, district: dict[str, Any]) -> dict[str, Any]:
    in_a = make_case(title="八角的案子")
    services.accept_case(case=in_a, actor=dispatcher)
    services.dispatch_case(case=in_a, actor=dispatcher, lead_unit=district["street_a"])
    to_community = make_case(title="社区的案子")
    services.accept_case(case=to_community, actor=dispatcher)
    services.dispatch_case(case=to_community, actor=dispatcher, lead_unit=district["community_a1"])
    in_b = make_case(title="古城的案子", jurisdiction_unit_id=district["street_b"].pk)
    undispatched = make_case(title="未交办")
    return {"a": in_a, "a1": to_community, "b": in_b, "new": undispatched}


def visible(user: Any) -> set[str]:
    return set(cases_visible_to(user).values_list("title", flat=True))


def test_office_staff_see_the_whole_district(
    cases: dict[str, Any], clerk: Any, dispatcher: Any, supervisor: Any, leader: Any
) -> None:
    for user in (clerk, dispatcher, supervisor, leader):
        assert visible(user) == {"八角的案子", "社区的案子", "古城的案子", "未交办"}


def test_a_street_sees_its_own_and_its_communities_cases(
    cases: dict[str, Any], handler_a: Any, leader_a: Any
) -> None:
    assert visible(handler_a) == {"八角的案子", "社区的案子"}
    assert visible(leader_a) == {"八角的案子", "社区的案子"}


def test_a_community_sees_only_its_own(cases: dict[str, Any], handler_a1: Any) -> None:
    assert visible(handler_a1) == {"社区的案子"}


def test_another_street_sees_only_what_is_in_its_jurisdiction(cases: dict[str, Any], outsider_b: Any) -> None:
    assert visible(outsider_b) == {"古城的案子"}
    with pytest.raises(Http404):
        get_case_for_user(outsider_b, cases["a"].pk)


def test_strangers_see_nothing(cases: dict[str, Any], property_handler: Any) -> None:
    assert visible(property_handler) == set()
    assert visible(AnonymousUser()) == set()
    assert visible(None) == set()


def test_a_deactivated_user_sees_nothing(cases: dict[str, Any], dispatcher: Any) -> None:
    dispatcher.is_active = False
    assert visible(dispatcher) == set()


@pytest.mark.parametrize("bad_id", ["abc", "", "1; DROP TABLE cases_case", None, "99999999"])
def test_bad_ids_are_not_found(cases: dict[str, Any], dispatcher: Any, bad_id: Any) -> None:
    with pytest.raises(Http404):
        get_case_for_user(dispatcher, bad_id)


def test_a_reporters_identity_is_hidden_from_units(
    make_case: Any, dispatcher: Any, handler_a: Any, district: dict[str, Any]
) -> None:
    report = make_case(case_type="report", title="举报某单位")
    services.accept_case(case=report, actor=dispatcher)
    services.dispatch_case(case=report, actor=dispatcher, lead_unit=district["street_a"])
    assert may_see_identity(dispatcher, report)
    assert not may_see_identity(handler_a, report)
    ordinary = make_case()
    assert may_see_identity(handler_a, ordinary)
