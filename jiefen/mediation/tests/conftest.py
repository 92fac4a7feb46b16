"""Mediation fixtures: three mediation committees, four mediators in the directory, and a property-management
case being handled by street office A.

- ``mediator_a`` (八角街道人民调解委员会; neighbours, property, family) and ``mediator_a2`` (same committee; labour)
- ``mediator_b`` (古城街道人民调解委员会; neighbours, property): the other committee, who must be denied A's disputes
- ``mediator_prop`` (区物业纠纷人民调解委员会, an industry committee serving the whole district; property)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def committees(district: dict[str, Any]) -> dict[str, Any]:
    from jiefen.org.services import create_unit

    return {
        "a": create_unit(
            code="BJ-TWH",
            name="八角街道人民调解委员会",
            kind="mediation_committee",
            parent=district["street_a"],
        ),
        "b": create_unit(
            code="GC-TWH",
            name="古城街道人民调解委员会",
            kind="mediation_committee",
            parent=district["street_b"],
        ),
        "property": create_unit(
            code="WY-TWH",
            name="区物业纠纷人民调解委员会",
            kind="mediation_committee",
            parent=district["root"],
        ),
    }


def _mediator(
    username: str, full_name: str, unit: Any, kind: str, specialities: list[str], admin: Any
) -> Any:
    from jiefen.mediation.services import save_mediator_profile
    from jiefen.org.services import create_user

    user = create_user(
        username=username,
        password="test-pass-8731",
        roles=["mediator"],
        unit_code=unit.code,
        full_name=full_name,
        actor=None,
        validate=False,
    )
    save_mediator_profile(user=user, actor=admin, kind=kind, specialities=specialities, capacity=10)
    return user


@pytest.fixture
def mediators(committees: dict[str, Any], admin_user: Any) -> dict[str, Any]:
    return {
        "a": _mediator(
            "mediator_a",
            "李调解",
            committees["a"],
            "committee",
            ["neighbours", "property", "family"],
            admin_user,
        ),
        "a2": _mediator("mediator_a2", "周调解", committees["a"], "committee", ["labour"], admin_user),
        "b": _mediator(
            "mediator_b", "吴调解", committees["b"], "committee", ["neighbours", "property"], admin_user
        ),
        "prop": _mediator(
            "mediator_prop", "郑调解", committees["property"], "industry", ["property"], admin_user
        ),
    }


@pytest.fixture
def mediator_a(mediators: dict[str, Any]) -> Any:
    return mediators["a"]


@pytest.fixture
def mediator_b(mediators: dict[str, Any]) -> Any:
    return mediators["b"]


@pytest.fixture
def property_case(
    make_case: Callable[..., Any], dispatcher: Any, handler_a: Any, district: dict[str, Any]
) -> Any:
    """A property-management complaint, dispatched to street office A and signed: in progress."""
    from jiefen.cases import services
    from jiefen.cases.intake import PersonInput

    case = make_case(
        title="物业公司不退还装修押金",
        content="我在八角南里小区装修完毕已半年，京西物业公司一直不退还3000元装修押金。",
        petitioner=PersonInput(name="张三", phone="13800138000"),
        place_text="八角南里小区5号楼",
        jurisdiction_unit_id=district["community_a1"].pk,
    )
    services.accept_case(case=case, actor=dispatcher)
    services.dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_a"])
    services.sign_assignment(assignment=case.assignments.get(), actor=handler_a)
    case.refresh_from_db()
    return case


PARTIES = [
    {
        "role": "applicant",
        "party_type": "person",
        "name": "张三",
        "phone": "13800138000",
        "address": "八角南里5号楼",
    },
    {
        "role": "respondent",
        "party_type": "organisation",
        "name": "京西物业公司",
        "representative": "孙经理",
        "address": "石景山区八角路1号",
    },
]


@pytest.fixture
def make_dispute(clerk: Any) -> Callable[..., Any]:
    """Register a dispute through the service; keyword arguments override the defaults."""
    from jiefen.mediation.services import PartyInput, register_dispute

    def make(**overrides: Any) -> Any:
        fields: dict[str, Any] = {
            "actor": clerk,
            "title": "装修押金退还纠纷",
            "description": "业主张三要求京西物业公司退还装修押金3000元，物业称装修损坏公共墙面需扣款。",
            "kind": "property",
            "amount": "3000",
            "parties": [PartyInput(**p) for p in PARTIES],
        }
        fields.update(overrides)
        return register_dispute(**fields)

    return make
