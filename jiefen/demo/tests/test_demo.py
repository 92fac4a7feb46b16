"""The demo district: loaded once for this module (a small year of cases), then inspected.

The load runs inside a transaction that is rolled back when the module is done, so the other tests still start
from an empty database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from jiefen.audit.models import AuditEntry
from jiefen.audit.services import verify_chain
from jiefen.cases.models import Case, CaseEvent, Channel, ClockColour
from jiefen.cases.queries import cases_visible_to
from jiefen.cases.workflow import CaseStatus
from jiefen.demo import data
from jiefen.demo.services import DEMO_PASSWORD, demo_accounts, load_demo
from jiefen.org.models import Role, Unit, UnitKind, User

pytestmark = pytest.mark.django_db

STREETS = {
    "八宝山街道",
    "老山街道",
    "八角街道",
    "古城街道",
    "苹果园街道",
    "金顶街街道",
    "广宁街道",
    "五里坨街道",
    "鲁谷街道",
}
FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    from jiefen.clocks import calendar
    from jiefen.clocks import services as clock_services

    warnings = _Collect()
    logger = logging.getLogger("jiefen.demo")
    logger.addHandler(warnings)
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHING), transaction.atomic():
        # Caches filled by earlier tests may describe rows those tests rolled back.
        calendar.clear_cache()
        clear_policies = getattr(clock_services, "clear_policy_cache", None)
        if clear_policies is not None:
            clear_policies()
        loaded = load_demo(cases=200, seed=7)
        yield {"loaded": loaded, "warnings": warnings.messages}
        transaction.set_rollback(True)
    logger.removeHandler(warnings)


def test_it_loads_into_an_empty_database_without_a_story_failing(demo: dict[str, Any]) -> None:
    assert demo["loaded"] is True
    assert demo["warnings"] == []
    assert Case.objects.count() == 200


def test_it_builds_the_district_with_its_nine_streets(demo: dict[str, Any]) -> None:
    root = Unit.objects.get(code="SJS")
    assert (root.name, root.kind, root.parent_id) == ("石景山区信访办", UnitKind.DISTRICT, None)
    streets = Unit.objects.filter(kind=UnitKind.STREET)
    assert set(streets.values_list("name", flat=True)) == STREETS
    assert all(street.parent_id == root.pk for street in streets)
    assert Unit.objects.filter(kind=UnitKind.DEPARTMENT).count() == len(data.DEPARTMENTS)
    assert Unit.objects.filter(kind=UnitKind.PROPERTY_COMPANY).count() == len(data.PROPERTY_COMPANIES)
    assert Unit.objects.filter(kind=UnitKind.MEDIATION_COMMITTEE).count() == len(data.MEDIATION_STREETS)


def test_every_street_has_communities_that_own_their_place_names(demo: dict[str, Any]) -> None:
    for street in Unit.objects.filter(kind=UnitKind.STREET):
        communities = Unit.objects.filter(parent=street, kind=UnitKind.COMMUNITY)
        assert communities.count() >= 3, street.name
        for community in communities:
            assert community.aliases.exists(), community.name
    assert set(Unit.objects.get(code="WY-01").aliases.values_list("alias", flat=True)) >= {
        "八角南里",
        "杨庄中区",
    }


def test_every_role_has_a_demo_account_that_logs_in(demo: dict[str, Any]) -> None:
    usernames = [account.username for account in data.DEMO_ACCOUNTS]
    for role in Role:
        user = User.objects.filter(username__in=usernames, groups__name=role.value).first()
        assert user is not None, role
        assert Client().login(username=user.username, password=DEMO_PASSWORD), user.username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not Client().login(username="handler_bj", password="wrong-password")


def test_demo_accounts_names_each_account_with_its_role_and_unit(demo: dict[str, Any]) -> None:
    accounts = demo_accounts()
    assert [a[0] for a in accounts] == [account.username for account in data.DEMO_ACCOUNTS]
    assert ("clerk", "接访员", "石景山区信访办") in accounts
    assert ("handler_bj", "承办人", "八角街道") in accounts
    assert ("handler_community", "承办人", "八角南里社区") in accounts
    assert ("handler_property", "承办人", "京西物业管理有限公司") in accounts


def test_unit_accounts_see_only_their_units_cases(demo: dict[str, Any]) -> None:
    def visible(username: str) -> set[int]:
        return set(cases_visible_to(User.objects.get(username=username)).values_list("pk", flat=True))

    street, community, company, other_street = (
        visible("handler_bj"),
        visible("handler_community"),
        visible("handler_property"),
        visible("handler_gc"),
    )
    assert community and company and other_street
    assert community < street
    assert not street & other_street
    assert len(street) < Case.objects.count()


def test_cases_are_in_every_state(demo: dict[str, Any]) -> None:
    present = set(Case.objects.values_list("status", flat=True).distinct())
    # send_reply moves a case on to follow_up in the same transaction, so `replied` is never a resting state:
    # it shows in the history only.
    assert present == set(CaseStatus) - {CaseStatus.REPLIED}
    assert CaseEvent.objects.filter(to_status=CaseStatus.REPLIED).exists()


def test_some_open_cases_are_overdue_and_some_in_warning(demo: dict[str, Any]) -> None:
    assert Case.objects.filter(clock_colour=ClockColour.RED).exists()
    assert Case.objects.filter(clock_colour=ClockColour.YELLOW).exists()
    assert Case.objects.filter(status=CaseStatus.REGISTERED, clock_colour=ClockColour.RED).exists()
    assert Case.objects.filter(status=CaseStatus.IN_PROGRESS, clock_colour=ClockColour.RED).exists()


def test_cases_spread_over_the_past_year_from_every_channel(demo: dict[str, Any]) -> None:
    now = timezone.now()
    created = list(Case.objects.values_list("created_at", flat=True))
    assert min(created) > now - timedelta(days=366)
    assert max(created) < now
    assert len({(c.year, c.month) for c in created}) >= 12
    channels = set(Case.objects.values_list("channel", flat=True))
    assert channels >= {
        Channel.WEB,
        Channel.MOBILE,
        Channel.WALK_IN,
        Channel.PHONE,
        Channel.LETTER,
        Channel.HOTLINE_12345,
        Channel.FIELD_VISIT,
    }
    assert Case.objects.filter(category__code__startswith="WY").count() > Case.objects.count() / 3


def test_it_has_repeat_petitioners_group_visits_and_confidential_reports(demo: dict[str, Any]) -> None:
    assert Case.objects.filter(is_group=True, representatives__isnull=False).exists()
    assert Case.objects.filter(case_type="report", confidential=True).exists()
    assert not Case.objects.filter(case_type="report", confidential=False).exists()
    repeat = Case.objects.filter(petitioner__isnull=False).values("petitioner").order_by()
    assert repeat.count() > repeat.distinct().count()


def test_the_audit_chain_verifies(demo: dict[str, Any]) -> None:
    result = verify_chain()
    assert result.ok, result.reason
    assert result.checked == AuditEntry.objects.count()


def test_a_second_load_changes_nothing(demo: dict[str, Any]) -> None:
    before = (Unit.objects.count(), User.objects.count(), Case.objects.count(), AuditEntry.objects.count())
    assert load_demo(cases=50) is False
    after = (Unit.objects.count(), User.objects.count(), Case.objects.count(), AuditEntry.objects.count())
    assert after == before


def test_the_demo_streets_have_map_boundaries_and_the_dashboards_are_filled(demo: dict[str, Any]) -> None:
    from jiefen.analytics.models import DailyRollup, RollupMark
    from jiefen.cases.models import CaseEvent
    from jiefen.org.models import Unit

    assert Unit.objects.filter(kind="street").count() == 9
    assert not Unit.objects.filter(kind="street", boundary__isnull=True).exists()
    assert DailyRollup.objects.exists()
    assert (
        RollupMark.objects.get().last_event_id
        == CaseEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    )
