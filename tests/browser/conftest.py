"""Playwright against Debian's Chromium and pytest-django's live server.

The tests are skipped only when /usr/bin/chromium is missing; any other failure to start the browser fails them.
Screenshots go to test-artifacts/screenshots/ (not committed) for a person to look at.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from "async" code
# unless told this is safe. The live server runs in its own thread and is not affected.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
PASSWORD = "test-pass-8731"  # the personas' password in the root conftest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Reload what the data migrations put in a new database (the category taxonomy, the clock policies).

    The live server reads committed data, so these tests run with transaction=True, and every such test (here
    or elsewhere in the suite) empties the tables when it ends. Django's serialized rollback would restore them
    but trips over the content types that a flush recreates, so the loaders, which skip what exists, run again.
    """
    if "browser" not in request.keywords:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module in (
        "jiefen.cases.migrations.0003_default_taxonomy",
        "jiefen.clocks.migrations.0002_statutory_clock_policies",
    ):
        importlib.import_module(module).load(apps, None)


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Open a fresh browser context (its own cookies) on the live server; ``viewport`` defaults to desktop."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, locale: str = "zh-CN") -> Any:
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale=locale, base_url=live_server.url, device_scale_factor=1
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login() -> Callable[[Any, str], None]:
    def do(page: Any, username: str) -> None:
        page.goto("/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/")

    return do


@pytest.fixture
def fits_width() -> Callable[[Any], bool]:
    """Whether a page, once loaded, fits its viewport's width (nothing to scroll sideways)."""

    def check(page: Any) -> bool:
        page.wait_for_load_state()
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    return check


@pytest.fixture
def shoot() -> Callable[..., Path]:
    """Save a screenshot of ``page`` as test-artifacts/screenshots/<name>.png."""

    def take(page: Any, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def phone_page(new_page: Callable[..., Any]) -> Any:
    """A page the size of a small phone (360 × 740 CSS pixels)."""
    return new_page(viewport=PHONE)


@pytest.fixture
def office_cases(
    make_case: Callable[..., Any], district: dict[str, Any], dispatcher: Any, clerk: Any
) -> dict[str, Any]:
    """A realistic handful of cases in different states, so the list and the home page have something to show."""
    from jiefen.cases import services
    from jiefen.cases.intake import PersonInput
    from jiefen.cases.models import Category

    cat = {c.code: c.pk for c in Category.objects.filter(code__in=["WY0101", "WY02", "LD01", "WY07", "CG01"])}
    a1, b1 = district["community_a1"].pk, district["community_b1"].pk
    park = make_case(jurisdiction_unit_id=a1, category_id=cat["WY0101"])
    noise = make_case(
        channel="phone",
        title="夜间施工噪音扰民",
        content="古城南路工地每天夜里十二点后还在施工，噪音很大，老人孩子无法休息。",
        petitioner=PersonInput(name="李四", phone="13900139000"),
        jurisdiction_unit_id=b1,
        category_id=cat["WY02"],
    )
    wage = make_case(
        channel="web",
        case_type="help",
        title="农民工工资被拖欠半年",
        content="我们在工地干了半年，包工头一直拖欠工资不给。",
        petitioner=PersonInput(name="王五", phone="13700137000"),
        category_id=cat["LD01"],
        urgency="urgent",
    )
    heating = make_case(
        channel="hotline_12345",
        title="暖气不热室温只有十五度",
        content="杨庄东区5号楼暖气一直不热，屋里只有十五度。",
        petitioner=PersonInput(name="赵六", phone="13600136000"),
        jurisdiction_unit_id=a1,
        category_id=cat["WY07"],
    )
    building = make_case(
        channel="letter",
        case_type="report",
        title="举报楼顶违法加盖",
        content="八角南里8号楼顶有人私自加盖房屋。",
        petitioner=PersonInput(name="钱七", phone="13500135000"),
        jurisdiction_unit_id=a1,
        category_id=cat["CG01"],
    )
    services.accept_case(case=noise, actor=dispatcher)
    services.accept_case(case=wage, actor=dispatcher)
    services.dispatch_case(case=wage, actor=dispatcher, lead_unit=district["street_a"])
    return {"park": park, "noise": noise, "wage": wage, "heating": heating, "building": building}
