"""Shared test fixtures: a small district and the personas of STYLE §12.

- ``clerk``, ``dispatcher``, ``supervisor``, ``leader``, ``admin_user``: the petition office (whole district)
- ``handler_a`` / ``leader_a``: street office A (八角街道); ``handler_a1``: community A1 under it
- ``property_handler``: a property company
- ``outsider_b``: a handler of street office B (古城街道), who must be denied street A's cases
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jiefen.cases.intake import Intake, PersonInput


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> None:
    from jiefen.clocks.calendar import clear_cache
    from jiefen.clocks.services import clear_policy_cache
    from jiefen.notify.services import clear_template_cache

    clear_cache()
    clear_policy_cache()
    clear_template_cache()


@pytest.fixture
def district(db: Any) -> dict[str, Any]:
    from jiefen.org.services import create_unit

    root = create_unit(code="SJS", name="石景山区信访办", kind="district")
    street_a = create_unit(code="BJ", name="八角街道", kind="street", parent=root)
    community_a1 = create_unit(
        code="BJ-01", name="八角南里社区", kind="community", parent=street_a, aliases=["八角南里", "杨庄东区"]
    )
    street_b = create_unit(code="GC", name="古城街道", kind="street", parent=root)
    community_b1 = create_unit(code="GC-01", name="古城南路社区", kind="community", parent=street_b)
    property_co = create_unit(code="WY-01", name="京西物业公司", kind="property_company", parent=root)
    department = create_unit(code="ZJW", name="区住建委", kind="department", parent=root)
    return {
        "root": root,
        "street_a": street_a,
        "community_a1": community_a1,
        "street_b": street_b,
        "community_b1": community_b1,
        "property_co": property_co,
        "department": department,
    }


def _user(username: str, roles: list[str], unit: Any) -> Any:
    from jiefen.org.services import create_user

    return create_user(
        username=username,
        password="test-pass-8731",
        roles=roles,
        unit_code=unit.code if unit else None,
        full_name=username,
        actor=None,
        validate=False,
    )


@pytest.fixture
def clerk(district: dict[str, Any]) -> Any:
    return _user("clerk", ["reception_clerk"], district["root"])


@pytest.fixture
def dispatcher(district: dict[str, Any]) -> Any:
    return _user("dispatcher", ["dispatcher"], district["root"])


@pytest.fixture
def supervisor(district: dict[str, Any]) -> Any:
    return _user("supervisor", ["supervisor"], district["root"])


@pytest.fixture
def leader(district: dict[str, Any]) -> Any:
    return _user("leader", ["leader"], district["root"])


@pytest.fixture
def admin_user(district: dict[str, Any]) -> Any:
    return _user("admin", ["admin"], district["root"])


@pytest.fixture
def handler_a(district: dict[str, Any]) -> Any:
    return _user("handler_a", ["unit_handler"], district["street_a"])


@pytest.fixture
def leader_a(district: dict[str, Any]) -> Any:
    return _user("leader_a", ["unit_leader"], district["street_a"])


@pytest.fixture
def handler_a1(district: dict[str, Any]) -> Any:
    return _user("handler_a1", ["unit_handler"], district["community_a1"])


@pytest.fixture
def property_handler(district: dict[str, Any]) -> Any:
    return _user("property_handler", ["unit_handler"], district["property_co"])


@pytest.fixture
def outsider_b(district: dict[str, Any]) -> Any:
    return _user("outsider_b", ["unit_handler"], district["street_b"])


@pytest.fixture
def in_thread() -> Callable[[Callable[[], Any]], threading.Thread]:
    """Starts a call in a thread of its own, with its own database connection (closed when it ends)."""
    from django.db import connection

    def start(call: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                call()
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    return start


@pytest.fixture
def make_case(clerk: Any) -> Callable[..., Any]:
    """Register a case through the real intake service; keyword arguments override the Intake fields."""
    from jiefen.cases.services import register_case

    def make(**overrides: Any) -> Any:
        actor = overrides.pop("actor", clerk)
        fields: dict[str, Any] = {
            "channel": "walk_in",
            "case_type": "complaint",
            "title": "小区楼下车辆乱停堵塞消防通道",
            "content": "八角南里小区3号楼下长期有车辆乱停，堵住消防通道，物业不管。",
            "petitioner": PersonInput(name="张三", phone="13800138000"),
            "place_text": "八角南里小区3号楼",
        }
        fields.update(overrides)
        return register_case(intake=Intake(**fields), actor=actor).case

    return make


@pytest.fixture
def dispatched_case(make_case: Callable[..., Any], dispatcher: Any, district: dict[str, Any]) -> Any:
    """A case accepted and dispatched to street office A as lead."""
    from jiefen.cases.services import accept_case, dispatch_case

    case = make_case()
    accept_case(case=case, actor=dispatcher)
    dispatch_case(case=case, actor=dispatcher, lead_unit=district["street_a"])
    case.refresh_from_db()
    return case


@pytest.fixture
def private_data_dir(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A DATA_DIR of the test's own, with the language engine's loaded models forgotten before and after
    (model files and the similar-case index live there)."""
    from jiefen.intelligence import engine

    settings.DATA_DIR = tmp_path / "data"
    engine.reset()
    yield settings.DATA_DIR
    engine.reset()
