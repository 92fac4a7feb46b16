"""The demo district: Shijingshan's petition office, its units and people, and a year of cases.

Everything is made through the real services — ``create_unit``/``create_user`` for the organisation, and for
the cases the same service functions staff use (register, accept, dispatch, sign, return, reply, rate, review,
withdraw …) — so events, clocks and the audit chain are exactly what a year of work would have left.

How a year is simulated: every case gets a *story*, a list of timed steps planned up front from a seeded
random generator. The steps of all stories run interleaved in time order with the clock set back to each
step's moment (``time-machine``), and the clock sweep runs once every simulated night, so follow-up windows
close cases on the right day and breaches are recorded when they happened. Steps planned after the real now
never run, which is what leaves recent cases open in every state; a final sweep at the real now turns
overdue open cases yellow or red. A handful of stories are anchored so that every state, a yellow and a red
case exist even in a small demo.

Accounts: the demo accounts of ``data.DEMO_ACCOUNTS`` and the other people who work the cases (the handler and
leader of every other street office, department and property company) all log in with ``DEMO_PASSWORD``; its
hash is computed once and shared, since hashing costs most of a second each time.
"""

from __future__ import annotations

import logging
import random
import time as wallclock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from jiefen.cases import services as cs
from jiefen.cases.actors import CITIZEN, SYSTEM, Actor
from jiefen.cases.intake import Intake, PersonInput
from jiefen.cases.models import Assignment, Case, CaseType, Category, Channel, Reply, Urgency
from jiefen.clocks import engine
from jiefen.clocks.calendar import WorkCalendar, current_calendar
from jiefen.clocks.models import Clock
from jiefen.clocks.services import choose_policy, sweep
from jiefen.core.errors import DomainError
from jiefen.demo import data
from jiefen.org.models import AliasKind, JurisdictionAlias, Role, Unit, UnitKind, User
from jiefen.org.services import create_unit, create_user

DEMO_PASSWORD = "jiefen-demo-2026"  # noqa: S105 — published: `jiefen demo` prints it

log = logging.getLogger("jiefen.demo")

# Steps that end the office's work on a case, or hand it to the petitioner: a case can no longer be merged
# into after the first of them.
_CLOSING_ACTIONS = frozenset({"answer_now", "decline", "transfer", "merge", "withdraw", "send_reply"})
_FEEDBACK = ("satisfied", "basically", "not_satisfied", "none")
_OFFICE_CHANNELS = frozenset({Channel.WALK_IN, Channel.PHONE, Channel.LETTER, Channel.FIELD_VISIT})
_CHANNEL_WEIGHTS = (
    (Channel.HOTLINE_12345, 33),
    (Channel.WEB, 17),
    (Channel.MOBILE, 14),
    (Channel.WALK_IN, 13),
    (Channel.PHONE, 10),
    (Channel.LETTER, 6),
    (Channel.FIELD_VISIT, 7),
)
_RESIDENTIAL_SUFFIXES = (
    "小区",
    "院",
    "宿舍",
    "花园",
    "家园",
    "城",
    "苑",
    "园",
    "区",
    "房",
    "楼",
    "村",
    "山水",
)


def load_demo(*, cases: int = 3000, progress: bool = False, seed: int = 20261126) -> bool:
    """Load the demo district and ``cases`` cases over the past year when the database holds no units yet,
    and return True; otherwise change nothing and return False. All or nothing: one transaction.

    The same seed gives the same district, people and stories; when each story's steps fall depends on the
    moment of loading, since the demo year ends at that moment.
    """
    if cases < 0:
        raise ValueError("cases must not be negative")
    began = wallclock.monotonic()
    with transaction.atomic():
        # Inside the transaction: on SQLite it takes the write lock at BEGIN (IMMEDIATE), so two loaders queue
        # and the second sees the first one's units.
        if Unit.objects.exists():
            return False
        loader = _Loader(cases=cases, seed=seed, progress=progress)
        loader.load()
    if progress:
        print(f"Demo district loaded in {wallclock.monotonic() - began:.0f} s.", flush=True)
    return True


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role in Chinese, unit name) of every demo account present in the database, in a fixed
    order; all of them log in with ``DEMO_PASSWORD``."""
    wanted = [account.username for account in data.DEMO_ACCOUNTS]
    present = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    names = dict(
        Unit.objects.filter(code__in=[a.unit for a in data.DEMO_ACCOUNTS]).values_list("code", "name")
    )
    with translation.override("zh-hans"):
        return [
            (account.username, str(Role(account.role).label), names.get(account.unit, account.unit))
            for account in data.DEMO_ACCOUNTS
            if account.username in present
        ]


# --- the organisation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    alias: str
    is_compound: bool
    community: Unit
    street: Unit
    company: Unit | None


@dataclass
class _Org:
    root: Unit
    units: dict[str, Unit] = field(default_factory=dict)
    by_pk: dict[int, Unit] = field(default_factory=dict)
    places: list[Place] = field(default_factory=list)
    by_alias: dict[str, Place] = field(default_factory=dict)
    handlers: dict[int, User] = field(default_factory=dict)
    leaders: dict[int, User] = field(default_factory=dict)
    staff: dict[str, User] = field(default_factory=dict)

    def add(self, unit: Unit) -> Unit:
        self.units[unit.code] = unit
        self.by_pk[unit.pk] = unit
        return unit

    def _nearest(self, people: dict[int, User], unit: Unit) -> User:
        """The unit's own person, else its parent's: a street office's people act for its communities."""
        current: Unit | None = unit
        while current is not None:
            if current.pk in people:
                return people[current.pk]
            current = self.by_pk.get(current.parent_id) if current.parent_id else None
        raise LookupError(f"nobody works for {unit}")

    def handler(self, unit: Unit) -> User:
        return self._nearest(self.handlers, unit)

    def leader(self, unit: Unit) -> User:
        return self._nearest(self.leaders, unit)


def _build_org(rng: random.Random) -> _Org:
    code, name, address = data.ROOT
    org = _Org(root=create_unit(code=code, name=name, kind=UnitKind.DISTRICT, address=address))
    org.add(org.root)
    for dept_code, dept_name in data.DEPARTMENTS:
        org.add(create_unit(code=dept_code, name=dept_name, kind=UnitKind.DEPARTMENT, parent=org.root))
    company_of: dict[str, Unit] = {}
    for company_code, company_name, compounds in data.PROPERTY_COMPANIES:
        company = org.add(
            create_unit(
                code=company_code,
                name=company_name,
                kind=UnitKind.PROPERTY_COMPANY,
                parent=org.root,
                aliases=compounds,
                alias_kind=AliasKind.COMPOUND,
            )
        )
        for compound in compounds:
            company_of.setdefault(compound, company)
    for street_code, street_name, communities in data.STREETS:
        street = org.add(
            create_unit(code=street_code, name=street_name, kind=UnitKind.STREET, parent=org.root)
        )
        for number, (community_name, compounds, others) in enumerate(communities, 1):
            community = org.add(
                create_unit(
                    code=f"{street_code}-{number:02d}",
                    name=community_name,
                    kind=UnitKind.COMMUNITY,
                    parent=street,
                    aliases=compounds,
                    alias_kind=AliasKind.COMPOUND,
                )
            )
            # create_unit takes one alias kind; roads, landmarks and villages are added as place names here
            # (org.services has no service for adding aliases to an existing unit).
            JurisdictionAlias.objects.bulk_create(
                [JurisdictionAlias(unit=community, alias=other, kind=AliasKind.PLACE) for other in others]
            )
            for alias, is_compound in [*((c, True) for c in compounds), *((o, False) for o in others)]:
                place = Place(
                    alias, is_compound, community, street, company_of.get(alias) if is_compound else None
                )
                org.places.append(place)
                org.by_alias[alias] = place
        if street_code in data.MEDIATION_STREETS:
            org.add(
                create_unit(
                    code=f"{street_code}-TJ",
                    name=f"{street_name}人民调解委员会",
                    kind=UnitKind.MEDIATION_COMMITTEE,
                    parent=street,
                )
            )
    _create_people(org, rng)
    return org


def _create_people(org: _Org, rng: random.Random) -> None:
    from django.contrib.auth.hashers import make_password

    # One slow hash for all the demo accounts (their shared password is public anyway).
    demo_hash = make_password(DEMO_PASSWORD)
    admin_spec = next(a for a in data.DEMO_ACCOUNTS if a.superuser)
    admin = create_user(
        username=admin_spec.username,
        password=None,
        password_hash=demo_hash,
        roles=[admin_spec.role],
        unit_code=admin_spec.unit,
        full_name=admin_spec.full_name,
        is_superuser=True,
        actor=None,
    )
    org.staff[admin.username] = admin
    for account in data.DEMO_ACCOUNTS:
        if account is admin_spec:
            continue
        user = create_user(
            username=account.username,
            password=None,
            password_hash=demo_hash,
            roles=[account.role],
            unit_code=account.unit,
            full_name=account.full_name,
            actor=admin,
        )
        org.staff[user.username] = user
        unit = org.units[account.unit]
        if account.role == Role.UNIT_HANDLER:
            org.handlers[unit.pk] = user
        elif account.role == Role.UNIT_LEADER:
            org.leaders[unit.pk] = user
    working = [
        unit
        for unit in org.units.values()
        if unit.kind
        in (UnitKind.STREET, UnitKind.DEPARTMENT, UnitKind.PROPERTY_COMPANY, UnitKind.MEDIATION_COMMITTEE)
    ]
    for unit in working:
        wanted = [(Role.UNIT_HANDLER, org.handlers, "handler")]
        if unit.kind != UnitKind.MEDIATION_COMMITTEE:
            wanted.append((Role.UNIT_LEADER, org.leaders, "leader"))
        for role, people, suffix in wanted:
            if unit.pk in people:
                continue
            people[unit.pk] = create_user(
                username=f"{unit.code.lower().replace('-', '_')}_{suffix}",
                password=None,
                password_hash=demo_hash,
                roles=[role],
                unit_code=unit.code,
                full_name=_name(rng),
                actor=admin,
                validate=False,
            )


# --- people and texts --------------------------------------------------------------------------------------------


@dataclass
class _Person:
    name: str
    phone: str
    id_number: str
    home: Place
    last: _Story | None = None

    def as_input(self, address: str) -> PersonInput:
        return PersonInput(name=self.name, phone=self.phone, id_number=self.id_number, address=address)


def _name(rng: random.Random) -> str:
    given = rng.choice(data.GIVEN_FIRST) + rng.choice(data.GIVEN_SECOND)
    return rng.choice(data.SURNAMES) + (given if rng.random() < 0.8 else given[-1])


def _phone(rng: random.Random) -> str:
    return rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _id_number(rng: random.Random) -> str:
    born = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 58))
    body = f"{data.ID_AREA}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _residential(alias: str) -> str:
    return alias if alias.endswith(_RESIDENTIAL_SUFFIXES) else f"{alias}小区"


# --- stories ------------------------------------------------------------------------------------------------------


class _Step(NamedTuple):
    at: datetime
    action: str
    args: dict[str, Any]


@dataclass
class _Spec:
    """Everything decided about a case before its story runs."""

    index: int
    at: datetime
    channel: str
    case_type: str
    urgency: str
    topic: data.Topic
    place: Place
    place_text: str
    title: str
    content: str
    person: _Person | None
    representatives: list[_Person]
    people_count: int
    registrar: str
    lead: Unit
    assists: list[Unit]
    alt: Unit
    child: Unit | None
    letter_lag: timedelta | None = None
    merge_into: _Story | None = None


@dataclass
class _Story:
    spec: _Spec
    steps: list[_Step] = field(default_factory=list)
    case: Case | None = None
    lead: Assignment | None = None
    assists: list[Assignment] = field(default_factory=list)
    child: Assignment | None = None
    reply: Reply | None = None
    stale: bool = False
    dead: bool = False

    def open_until(self, never: datetime) -> datetime:
        return next((step.at for step in self.steps if step.action in _CLOSING_ACTIONS), never)


class _Draw:
    """Random decisions of one story, each of which a forced story may fix by name."""

    def __init__(self, rng: random.Random, force: dict[str, Any]) -> None:
        self.rng, self.force = rng, force

    def chance(self, name: str, p: float) -> bool:
        return bool(self.force[name]) if name in self.force else self.rng.random() < p

    def pick(self, name: str, options: Sequence[str], weights: Sequence[float]) -> str:
        return str(self.force[name]) if name in self.force else self.rng.choices(options, weights)[0]

    def days(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)


class _Plan:
    """Step times of one story. Staff steps are moved into working hours (workdays, or every day for 接诉即办
    hotline work); the minutes of a moved step come from their own generator so a forced story replanned at
    another date draws the same decisions."""

    def __init__(self, start: datetime, snap_rng: random.Random, loader: _Loader, every_day: bool) -> None:
        self.t, self.snap_rng, self.loader, self.every_day = start, snap_rng, loader, every_day
        self.steps: list[_Step] = [_Step(start, "register", {})]

    def add(self, days: float, action: str, *, snap: bool = True, **args: Any) -> datetime:
        return self.at(self.t + timedelta(days=days), action, snap=snap, **args)

    def at(self, moment: datetime, action: str, *, snap: bool = True, **args: Any) -> datetime:
        moment = max(moment, self.t + timedelta(minutes=1))
        if snap:
            moment = self.loader.working_time(moment, self.snap_rng, every_day=self.every_day)
        self.t = moment
        self.steps.append(_Step(moment, action, args))
        return moment


# (name, decisions fixed, last step kept, rule for when it happened): one of each of these is anchored so that
# at the real now its case is in that state — "tail": the last step lo–hi days ago; "red"/"yellow": the clock
# started by the named step has breached / is in its warning stretch; "any": some time in the past year.
_BASE_FORCE: dict[str, Any] = {
    "answer_now": False,
    "early": "accept",
    "withdraw_at": "",
    "returned": "",
    "info": False,
    "slow": False,
    "stall": False,
    "slow_accept": False,
    "slow_sign": False,
    "merge_after_accept": False,
    "review": False,
    "reexam": False,
    "late_review": False,
    "fb1": "satisfied",
    "rater": "citizen",
}
_REVIEWED = {"fb1": "basically", "review": True}
_FORCED: list[tuple[str, dict[str, Any], str | None, tuple[Any, ...]]] = [
    ("registered_red", {}, "register", ("red", "acceptance", "register")),
    ("registered_yellow", {}, "register", ("yellow", "acceptance", "register")),
    ("accepted", {}, "accept", ("tail", 0.05, 2)),
    ("dispatched_red", {}, "dispatch", ("red", "sign", "dispatch")),
    ("in_progress_red", {}, "sign_lead", ("red", "handling", "accept")),
    ("in_progress_yellow", {}, "sign_lead", ("yellow", "handling", "accept")),
    ("awaiting_info", {"info": True}, "request_info", ("tail", 1, 15)),
    ("follow_up", {"fb1": "none"}, "send_reply", ("tail", 0.5, 10)),
    ("reopened", {"fb1": "not_satisfied"}, "feedback", ("tail", 0.2, 2)),
    ("under_review", _REVIEWED, "request_review", ("tail", 2, 20)),
    ("under_review_red", _REVIEWED, "request_review", ("red", "review_decision", "request_review")),
    ("reviewed", _REVIEWED, "decide_review", ("tail", 2, 20)),
    ("under_reexam", {**_REVIEWED, "reexam": True}, "request_reexam", ("tail", 2, 20)),
    ("final", {**_REVIEWED, "reexam": True}, None, ("any",)),
    ("closed", {}, None, ("any",)),
    ("declined", {"early": "decline"}, None, ("any",)),
    ("transferred", {"early": "transfer"}, None, ("any",)),
    ("withdrawn", {"withdraw_at": "in_progress"}, None, ("any",)),
    ("merged", {}, None, ("merge",)),
]


# --- the loader ----------------------------------------------------------------------------------------------------


class _Loader:
    def __init__(self, *, cases: int, seed: int, progress: bool) -> None:
        self.count, self.progress = cases, progress
        self.rng = random.Random(seed)
        self.text = random.Random(seed + 1)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        # Steps later than this never run: the demo year ends a little before the real now.
        self.cutoff = self.now - timedelta(minutes=2)
        self.start = self.now - timedelta(days=365)
        self.setup_at = datetime.combine(
            self.start.astimezone(self.tz).date() - timedelta(days=2), time(9), self.tz
        )
        self.never = self.now + timedelta(days=3650)
        self.calendar: WorkCalendar = WorkCalendar()
        self.touched: set[int] = set()
        self.registered = 0
        self.failures: list[str] = []
        self.began = wallclock.monotonic()

    # The whole load --------------------------------------------------------------------------------------------

    def load(self) -> None:
        import time_machine

        with time_machine.travel(self.setup_at.astimezone(UTC), tick=False) as traveller:
            self.org = _build_org(self.rng)
            self.calendar = current_calendar()
            self.categories = dict(Category.objects.values_list("code", "id"))
            homes = [place for place in self.org.places if place.is_compound]
            self.people = [
                self._person(self.rng.choice(homes), False) for _ in range(max(4, self.count // 40))
            ]
            stories = self._plan()
            self._say(f"Demo district: {len(self.org.units)} units, {len(stories)} case stories planned.")
            self._run(stories, traveller)
        # At the real now: open cases whose clocks passed their warning or due time turn yellow or red.
        sweep()
        # The demo's streets and communities get schematic boundaries for the map; the dashboards' rollups
        # are filled so the first visit shows the year at once.
        from jiefen.analytics.geo import fill_missing_boundaries
        from jiefen.analytics.services import refresh_rollups

        fill_missing_boundaries()
        refresh_rollups(lag_seconds=0)
        if self.failures:
            log.warning(
                "demo: %d case stories stopped early: %s", len(self.failures), "; ".join(self.failures[:5])
            )

    def _say(self, line: str) -> None:
        if self.progress:
            print(line, flush=True)

    # Time --------------------------------------------------------------------------------------------------------

    def working_time(self, moment: datetime, rng: random.Random, *, every_day: bool) -> datetime:
        """``moment`` if staff are at work then, else the start of the next working stretch plus a little."""
        opens, closes = (time(8), time(20)) if every_day else (time(8, 30), time(17, 30))
        local = moment.astimezone(self.tz)
        day, keep = local.date(), opens <= local.time() <= closes
        if local.time() > closes:
            day, keep = day + timedelta(days=1), False
        while not every_day and not self.calendar.is_workday(day):
            day, keep = day + timedelta(days=1), False
        if keep:
            return moment
        return datetime.combine(day, opens, self.tz) + timedelta(minutes=rng.randint(5, 150))

    def _clock(self, kind: str, spec: _Spec, start: datetime) -> tuple[datetime, datetime]:
        """(warn, due) of the ``kind`` clock this case would get at ``start``, by the live policy table."""
        probe = Case(channel=spec.channel, case_type=spec.case_type, urgency=spec.urgency)
        choice = choose_policy(kind, probe)
        due = engine.add(start, choice.amount, choice.unit, self.calendar, self.tz)
        return engine.warn_time(start, due, choice.warn_ratio), due

    # Planning ----------------------------------------------------------------------------------------------------

    def _plan(self) -> list[_Story]:
        copies = 1 + self.count // 1000
        forced = [entry for entry in _FORCED for _ in range(copies)][: self.count]
        stories = self._natural(self.count - len(forced))
        stories += self._forced(forced, len(stories))
        return stories

    def _natural(self, count: int) -> list[_Story]:
        drafts = sorted((self._registration() for _ in range(count)), key=lambda d: d[0])
        stories: list[_Story] = []
        for index, (at, topic, channel, group) in enumerate(drafts):
            rng = random.Random(self.rng.getrandbits(64))
            spec = self._spec(index, at, topic, channel, group, rng)
            story = _Story(spec)
            seed = rng.getrandbits(64)
            story.steps = self._steps(spec, seed, {})
            person = spec.person
            if person is not None:
                target = person.last
                if target is not None and target.spec.topic is spec.topic and rng.random() < 0.6:
                    merged = self._as_repeat(spec, target)
                    steps = self._steps(merged, seed, {})
                    if steps[-1].at < target.open_until(self.never) - timedelta(hours=1):
                        story.spec, story.steps = merged, steps
                person.last = story
            stories.append(story)
        return stories

    def _registration(self) -> tuple[datetime, data.Topic, str, bool]:
        rng = self.rng
        first = self.start.astimezone(self.tz).date() + timedelta(days=1)
        span = (self.now.astimezone(self.tz).date() - first).days + 1
        while True:
            offset = rng.randrange(span)
            # A slowly rising load, and fewer petitions on rest days.
            if rng.random() > 0.75 + 0.25 * offset / span:
                continue
            day = first + timedelta(days=offset)
            workday = self.calendar.is_workday(day)
            if not workday and rng.random() > 0.55:
                continue
            topic = rng.choices(data.TOPICS, [t.weight * t.season.get(day.month, 1.0) for t in data.TOPICS])[
                0
            ]
            group = workday and topic.group > 0 and rng.random() < topic.group
            channels = [(c, w) for c, w in _CHANNEL_WEIGHTS if workday or c not in _OFFICE_CHANNELS]
            channel = (
                Channel.WALK_IN
                if group
                else rng.choices([c for c, _ in channels], [w for _, w in channels])[0]
            )
            at = datetime.combine(day, time(0), self.tz) + timedelta(hours=self._hour(channel, rng))
            if at < self.cutoff:
                return at, topic, channel, group

    @staticmethod
    def _hour(channel: str, rng: random.Random) -> float:
        if channel in _OFFICE_CHANNELS:
            return rng.uniform(8.7, 17.0)
        if channel == Channel.HOTLINE_12345:
            return rng.triangular(7.0, 22.5, 10.0)
        return rng.triangular(6.5, 23.8, 20.5)

    def _person(self, home: Place, with_id: bool) -> _Person:
        rng = self.rng
        return _Person(_name(rng), _phone(rng), _id_number(rng) if with_id else "", home)

    def _spec(
        self,
        index: int,
        at: datetime,
        topic: data.Topic,
        channel: str,
        group: bool,
        rng: random.Random,
        case_type: str = "",
    ) -> _Spec:
        person: _Person | None = None
        if not group and not case_type and rng.random() < 0.12:
            # One of the district's regular petitioners, often about the same problem as last time.
            person = rng.choice(self.people)
            if person.last is not None and rng.random() < 0.5:
                topic = person.last.spec.topic
        case_type = case_type or rng.choices([t for t, _ in topic.types], [w for _, w in topic.types])[0]
        if case_type == CaseType.CONSULT and not topic.consults:
            case_type = CaseType.COMPLAINT
        special: dict[str, tuple[tuple[str, str], ...]] = {
            CaseType.CONSULT: topic.consults,
            CaseType.REPORT: topic.reports,
        }
        items = special.get(case_type) or topic.items
        anonymous = (
            channel in (Channel.WEB, Channel.MOBILE)
            and case_type in (CaseType.REPORT, CaseType.SUGGESTION)
            and rng.random() < (0.35 if case_type == CaseType.REPORT else 0.1)
        )
        if anonymous:
            person = None
        elif person is None:
            person = self._person(self._place(topic, rng), channel in (Channel.WALK_IN, Channel.LETTER))
        place = person.home if person is not None and topic.place == "compound" and not topic.areas else None
        place = place or self._place(topic, rng)
        representatives: list[_Person] = []
        people_count = 1
        if group and person is not None:
            representatives = [person, *(self._person(place, True) for _ in range(rng.randint(1, 4)))]
            people_count = rng.randint(6, 60)
        urgency = Urgency.NORMAL
        if channel == Channel.HOTLINE_12345:
            urgent = 0.25 if topic.code in ("WY06", "WY07") else 0.05
            roll = rng.random()
            urgency = (
                Urgency.CRITICAL if roll < urgent / 5 else Urgency.URGENT if roll < urgent else Urgency.NORMAL
            )
        elif group:
            urgency = Urgency.URGENT
        place_text, fill = self._fill(topic, place, people_count, rng)
        title_template, body_template = rng.choice(items)
        opening = rng.choice(data.OPENINGS[topic.place])
        history = rng.choice(data.HISTORY) if case_type in (CaseType.COMPLAINT, CaseType.APPEAL) else ""
        content = "".join(
            [
                data.FIELD_PREFIX if channel == Channel.FIELD_VISIT else "",
                opening,
                body_template,
                history,
                data.GROUP_SUFFIX if group else "",
                rng.choice(data.ASKS[case_type]),
            ]
        ).format_map(fill)
        lead, assists, alt, child = self._route(topic, place, rng)
        registrars: dict[str, str] = {
            Channel.HOTLINE_12345: "system",
            Channel.WEB: "citizen",
            Channel.MOBILE: "citizen",
            Channel.FIELD_VISIT: "field",
        }
        registrar = registrars.get(channel, "clerk")
        return _Spec(
            index=index,
            at=at,
            channel=channel,
            case_type=case_type,
            urgency=urgency,
            topic=topic,
            place=place,
            place_text=place_text,
            title=title_template.format_map(fill)[:200],
            content=content,
            person=person,
            representatives=representatives,
            people_count=people_count,
            registrar=registrar,
            lead=lead,
            assists=assists,
            alt=alt,
            child=child,
            letter_lag=timedelta(days=rng.randint(1, 4)) if channel == Channel.LETTER else None,
        )

    def _place(self, topic: data.Topic, rng: random.Random) -> Place:
        if topic.areas:
            return self.org.by_alias[rng.choice(topic.areas)]
        wanted = topic.place == "compound"
        while True:
            place = rng.choice(self.org.places)
            if place.is_compound == wanted:
                return place

    def _fill(
        self, topic: data.Topic, place: Place, people: int, rng: random.Random
    ) -> tuple[str, dict[str, Any]]:
        xq = _residential(place.alias)
        bldg = f"{rng.randint(1, 24)}号楼"
        site = f"{place.alias}附近在建工地"
        place_text = {"compound": f"{xq}{bldg}", "site": site}.get(topic.place, place.alias)
        old2 = rng.choice((1.2, 1.5, 1.85, 2.2))
        old = rng.choice((150, 200, 300, 400))
        fill = {
            "xq": xq,
            "bldg": bldg,
            "unit_no": f"{rng.randint(1, 6)}单元",
            "company": place.company.name if place.company else "物业",
            "community": place.community.name,
            "place": place.alias,
            "site": site,
            "n": rng.randint(2, 6),
            "months": rng.randint(2, 14),
            "days": rng.randint(3, 15),
            "years": rng.randint(2, 12),
            "age": rng.randint(45, 59),
            "old": old,
            "new": old + rng.choice((100, 150, 200, 300)),
            "old2": old2,
            "new2": round(old2 + rng.choice((0.6, 0.8, 1.2)), 2),
            "price": rng.choice((18, 25, 30, 35, 45)),
            "fee": rng.choice((5, 8, 10, 15)),
            "fee2": rng.choice((3600, 5800, 6800, 9800, 12800)),
            "wan": rng.randint(8, 60),
            "workers": rng.randint(6, 40),
            "wage": rng.randint(12, 180),
            "small": rng.randrange(8000, 36000, 500),
            "people": people,
        }
        return place_text, fill

    def _route(
        self, topic: data.Topic, place: Place, rng: random.Random
    ) -> tuple[Unit, list[Unit], Unit, Unit | None]:
        """(lead, assists, where a returned task goes instead, who the lead passes its task down to)."""
        units, street, company = self.org.units, place.street, place.company
        assists: list[Unit] = []
        if topic.route == "estate":
            roll = rng.random()
            if company is not None and roll < 0.2:
                lead, alt = company, street
            elif roll < 0.45:
                lead, alt = place.community, street
            else:
                lead, alt = street, units["ZJW"]
                if company is not None and rng.random() < 0.35:
                    assists.append(company)
        elif topic.route == "street":
            lead = street
            alt = units[topic.alt] if topic.alt != "street" else units["CGZF"]
        else:
            lead = units[topic.route]
            alt = street if topic.alt == "street" else units[topic.alt]
        committee = units.get(f"{street.code}-TJ")
        if topic.assist == "street" and lead is not street and rng.random() < 0.5:
            assists.append(street)
        elif topic.assist == "mediation" and committee is not None and rng.random() < 0.4:
            assists.append(committee)
        elif topic.assist in units and units[topic.assist] is not lead:
            assists.append(units[topic.assist])
        child = None
        if lead is street and rng.random() < 0.3:
            if company is not None and company not in assists:
                child = company
            elif place.community.pk in self.org.handlers:
                child = place.community
        return lead, assists, alt, child

    def _moved(self, spec: _Spec, place: Place, rng: random.Random) -> _Spec:
        """The same petition about another place (its texts, routing and petitioner's home follow)."""
        place_text, fill = self._fill(spec.topic, place, 1, rng)
        lead, assists, alt, child = self._route(spec.topic, place, rng)
        title, body = rng.choice(spec.topic.items)
        person = self._person(place, False)
        return _Spec(
            **{
                **spec.__dict__,
                "place": place,
                "place_text": place_text,
                "title": title.format_map(fill)[:200],
                "content": (body + rng.choice(data.ASKS[CaseType.COMPLAINT])).format_map(fill),
                "person": person,
                "lead": lead,
                "assists": assists,
                "alt": alt,
                "child": child,
            }
        )

    def _as_repeat(self, spec: _Spec, target: _Story) -> _Spec:
        """The same person petitions again about a case still open: it is merged into that case."""
        first = target.spec
        local = first.at.astimezone(self.tz)
        return _Spec(
            **{
                **spec.__dict__,
                "title": f"{data.MERGE_PREFIX}{first.title}"[:200],
                "content": f"本人于{local.month}月{local.day}日反映过“{first.title}”，至今没有处理结果，今天再次反映，请尽快处理。",
                "place": first.place,
                "place_text": first.place_text,
                "case_type": first.case_type,
                "merge_into": target,
            }
        )

    def _steps(self, spec: _Spec, seed: int, force: dict[str, Any]) -> list[_Step]:
        """The story of one case, from its registration on. Decisions come from ``seed`` unless ``force``
        fixes them by name."""
        d = _Draw(random.Random(seed), force)
        hot = spec.channel == Channel.HOTLINE_12345
        critical = hot and spec.urgency == Urgency.CRITICAL
        urgent = hot and spec.urgency == Urgency.URGENT
        staff = not critical
        plan = _Plan(spec.at, random.Random(seed + 1), self, every_day=hot)
        desk = "citizen" if spec.channel in (Channel.WEB, Channel.MOBILE, Channel.HOTLINE_12345) else "clerk"

        if spec.merge_into is not None:
            if d.chance("merge_after_accept", 0.3):
                plan.add(d.days(0.05, 1.0), "accept")
            plan.add(d.days(0.02, 1.5), "merge")
            return plan.steps
        if spec.case_type == CaseType.CONSULT and d.chance("answer_now", 0.65):
            plan.add(d.days(0.003, 0.03), "answer_now", snap=False)
            return plan.steps
        disputed = spec.topic.code[:2] in ("ZD", "LD", "ZF", "SB")
        early = d.pick("early", ("accept", "decline", "transfer"), (91, 5, 4) if disputed else (97, 1.8, 1.2))
        if early != "accept":
            plan.add(d.days(0.3, 6), early)
            return plan.steps
        withdraw_at = d.pick(
            "withdraw_at",
            ("", "registered", "accepted", "in_progress", "follow_up"),
            (97.5, 0.5, 0.5, 1, 0.5),
        )
        if withdraw_at == "registered":
            plan.add(d.days(0.5, 5), "withdraw")
            return plan.steps

        if hot:
            delay = d.days(0.005, 0.08)
        elif d.chance("slow_accept", 0.05):
            delay = d.days(11, 18)
        else:
            delay = d.days(0.1, 4)
        accepted = plan.add(delay, "accept", snap=staff)
        if withdraw_at == "accepted":
            plan.add(d.days(0.2, 3), "withdraw")
            return plan.steps
        plan.add(d.days(0.003, 0.04) if hot else d.days(0.05, 1.5), "dispatch", snap=staff)
        returned = "" if critical else d.pick("returned", ("", "upheld", "overruled"), (95, 3, 2))
        if returned:
            plan.add(d.days(0.1, 2), "return_lead")
            plan.add(d.days(0.1, 1.5), "review_return", uphold=returned == "upheld")
            if returned == "upheld":
                plan.add(d.days(0.05, 1), "redispatch")
        if critical:
            sign = d.days(0.004, 0.012)
        elif hot:
            sign = d.days(0.01, 0.06)
        elif d.chance("slow_sign", 0.05):
            sign = d.days(1.5, 4)
        else:
            sign = d.days(0.05, 0.8)
        plan.add(sign, "sign_lead", snap=staff)
        if spec.assists and returned != "upheld":
            plan.add(d.days(0.02, 0.8), "sign_assists", snap=staff)
        if spec.child is not None and returned != "upheld":
            plan.add(d.days(0.05, 1), "pass_down")
            plan.add(d.days(0.05, 1), "sign_child")
        if withdraw_at == "in_progress":
            plan.add(d.days(1, 10), "withdraw")
            return plan.steps
        if not hot and d.chance("stall", 0.012):
            # A backlog case (积案): the unit signs and never answers; it stays on the overdue list.
            if d.chance("extend", 0.4):
                plan.at(accepted + timedelta(days=d.days(40, 52)), "extend")
            return plan.steps

        slow = not critical and d.chance("slow", 0.08)
        # Not satisfied reopens the case at most REOPEN_LIMIT times; the next answer closes it regardless.
        rounds = getattr(settings, "REOPEN_LIMIT", 2) + 1
        feedback = "none"
        sent = plan.t
        for round_ in range(1, rounds + 1):
            if round_ == 1 and not hot and d.chance("info", 0.07):
                plan.add(d.days(1, 6), "request_info")
                plan.add(d.days(2, 12), "receive_info", snap=False, actor=desk)
            if critical:
                handle = d.days(0.01, 0.05)
            elif urgent:
                handle = d.days(0.1, 0.7)
            elif hot:
                handle = d.days(8, 14) if slow and round_ == 1 else d.days(0.3, 5)
            elif round_ > 1:
                handle = d.days(3, 18)
            elif slow:
                # Past the 60-day limit (信访工作条例 Art. 34); half of these get the one 30-day extension first.
                target = accepted + timedelta(days=d.days(62, 88))
                if d.chance("extend", 0.5):
                    plan.at(accepted + timedelta(days=d.days(40, 52)), "extend")
                handle = max(1.0, (target - plan.t).total_seconds() / 86400)
            else:
                handle = d.rng.triangular(1.5, 45, 9)
            plan.add(handle, "draft_reply", snap=staff)
            plan.add(d.days(0.003, 0.05) if hot else d.days(0.01, 0.6), "approve_reply", snap=staff)
            sent = plan.add(d.days(0.003, 0.1), "send_reply", snap=staff)
            if round_ == 1 and withdraw_at == "follow_up":
                plan.add(d.days(1, 8), "withdraw")
                return plan.steps
            weights = (55, 20, 13, 12) if round_ == 1 else (45, 30, 17, 8)
            feedback = d.pick(f"fb{round_}", _FEEDBACK, weights)
            if feedback != "none":
                rater = "supervisor" if hot else d.pick("rater", ("supervisor", desk), (6, 4))
                rated = plan.add(
                    d.days(0.2, 3) if hot else d.days(1, 12),
                    "feedback",
                    snap=rater != "citizen",
                    satisfaction=feedback,
                    actor=rater,
                )
                if rated > sent + timedelta(days=14):
                    # Pushed past the follow-up window by a holiday: the window closes the case instead.
                    plan.steps.pop()
                    feedback = "none"
            if feedback != "not_satisfied" or round_ == rounds:
                break
            plan.add(d.days(0.3, 3), "resume")

        if feedback in ("basically", "none") and d.chance("review", 0.15 if disputed else 0.04):
            # 复查 within 30 days of the reply, decided within 30 (Art. 35); 复核 likewise (Art. 36).
            asked = plan.at(sent + timedelta(days=d.days(3, 20)), "request_review", snap=False, actor=desk)
            if asked > sent + timedelta(days=28):
                plan.steps.pop()
                return plan.steps
            late = d.chance("late_review", 0.08)
            decided = plan.add(d.days(31, 40) if late else d.days(8, 26), "decide_review")
            if d.chance("reexam", 0.35):
                plan.at(decided + timedelta(days=d.days(3, 20)), "request_reexam", snap=False, actor=desk)
                plan.add(d.days(8, 26), "decide_reexam")
        return plan.steps

    def _forced(
        self, entries: list[tuple[str, dict[str, Any], str | None, tuple[Any, ...]]], first: int
    ) -> list[_Story]:
        """Stories anchored so that, at the real now, their cases are in the named states."""
        stories: list[_Story] = []
        anchor_for_merge: _Story | None = None
        for offset, (name, force, stop, rule) in enumerate(entries):
            rng = random.Random(self.rng.getrandbits(64))
            topic = rng.choice([t for t in data.TOPICS if t.place == "compound" and t.route == "estate"])
            spec = self._spec(first + offset, self.start, topic, Channel.WEB, False, rng, CaseType.COMPLAINT)
            if offset % 2 == 0:
                # Half of them in 八角南里, so the street, community and property company demo accounts all
                # have cases in every state to look at.
                spec = self._moved(spec, self.org.by_alias[rng.choice(("八角南里", "八角南路小区"))], rng)
            seed = rng.getrandbits(64)
            if rule[0] == "merge":
                if anchor_for_merge is None:
                    continue
                spec = self._as_repeat(spec, anchor_for_merge)
                spec.person = anchor_for_merge.spec.person
                spec.at = anchor_for_merge.spec.at + timedelta(days=rng.uniform(3, 10))
                steps = self._steps(spec, seed, {**_BASE_FORCE, **force})
                if steps[-1].at < self.cutoff:
                    stories.append(_Story(spec, steps))
                continue
            anchored = None
            for retry in range(4):
                # Another set of draws when these cannot be placed (a holiday in the way, say).
                anchored = self._anchor(spec, seed + retry, {**_BASE_FORCE, **force}, stop, rule, rng)
                if anchored is not None:
                    break
            if anchored is None and rule[0] == "tail":
                # A recent step cannot land in a long holiday (National Day, Spring Festival): allow it to be
                # older than planned rather than leave the state out.
                wider = (rule[0], rule[1], rule[2] * 10)
                anchored = self._anchor(spec, seed, {**_BASE_FORCE, **force}, stop, wider, rng)
            if anchored is None:
                log.warning("demo: could not place a %s case in the demo year", name)
                continue
            story = _Story(spec, anchored)
            stories.append(story)
            if name == "in_progress_red" and anchor_for_merge is None:
                anchor_for_merge = story
        return stories

    def _anchor(
        self,
        spec: _Spec,
        seed: int,
        force: dict[str, Any],
        stop: str | None,
        rule: tuple[Any, ...],
        rng: random.Random,
    ) -> list[_Step] | None:
        """Shift the story's registration until its steps satisfy ``rule`` at the real now."""
        tail = rng.uniform(20, 200)

        def attempt() -> tuple[list[_Step] | None, timedelta]:
            """The steps if they satisfy ``rule`` now (else None), and how far to shift the registration."""
            steps = self._steps(spec, seed, force)
            if stop is not None:
                kept = next((i for i, s in enumerate(steps) if s.action == stop), None)
                if kept is None:
                    return None, timedelta(0)
                steps = steps[: kept + 1]
            last = steps[-1].at
            if rule[0] in ("red", "yellow"):
                ref = next(s.at for s in steps if s.action == rule[2])
                warn, due = self._clock(rule[1], spec, ref)
                if rule[0] == "red":
                    ok = due <= self.now - timedelta(days=1)
                    want = ref + (self.now - timedelta(days=5) - due)
                else:
                    ok = warn <= self.now - timedelta(hours=2) and due >= self.now + timedelta(hours=2)
                    want = ref + (self.now - (warn + (due - warn) / 2))
            else:
                low, high = rule[1:] if rule[0] == "tail" else (tail - 5, tail + 5)
                ref, ok = last, low <= (self.now - last).total_seconds() / 86400 <= high
                want = self.now - timedelta(days=(low + high) / 2)
            if ok and last < self.cutoff and spec.at > self.start:
                return steps, timedelta(0)
            return None, want - ref

        spec.at = self.now - timedelta(days=60)
        for _attempt in range(12):
            steps, shift = attempt()
            if steps is not None:
                return steps
            if shift == timedelta(0):
                break
            spec.at += shift
        # The shifts can bounce between two days when office hours, weekends and holidays move the steps
        # (e.g. a 15-day period that ends on a weekend): then try each day of the last months in turn.
        for days_back in range(1, 200):
            spec.at = self.now - timedelta(days=days_back)
            steps, _shift = attempt()
            if steps is not None:
                return steps
        return None

    # Running -----------------------------------------------------------------------------------------------------

    def _run(self, stories: list[_Story], traveller: Any) -> None:
        queue: list[tuple[datetime, int, int, int, _Story | None, _Step | None]] = []
        for story in stories:
            for number, step in enumerate(story.steps):
                if step.at >= self.cutoff:
                    break
                queue.append((step.at, 1, story.spec.index, number, story, step))
        night = self.start.astimezone(self.tz).date() + timedelta(days=1)
        while (at := datetime.combine(night, time(0, 10), self.tz)) < self.cutoff:
            queue.append((at, 0, -1, 0, None, None))
            night += timedelta(days=1)
        queue.sort(key=lambda entry: entry[:4])
        total = len(stories)
        every = max(100, min(300, self.count // 10))
        for at, _kind, _index, _number, queued, planned in queue:
            # A UTC destination: a zoneinfo one would make time-machine reset the process TZ on every move.
            traveller.move_to(at.astimezone(UTC))
            if queued is None or planned is None:
                # The nightly sweep, as the embedded sweeper or Celery beat would have run it.
                result = sweep()
                if result.expired_clocks:
                    # An expired window may have closed its case (follow-up, re-examination request).
                    self.touched.update(
                        Clock.objects.filter(pk__in=result.expired_clocks).values_list("case_id", flat=True)
                    )
                continue
            if queued.dead:
                continue
            self._step(queued, planned)
            if planned.action == "register":
                self.registered += 1
                if self.registered % every == 0 or self.registered == total:
                    elapsed = wallclock.monotonic() - self.began
                    self._say(
                        f"  {self.registered}/{total} cases … (at {at.astimezone(self.tz):%Y-%m-%d}, {elapsed:.0f} s)"
                    )

    def _step(self, story: _Story, step: _Step) -> None:
        action: Callable[..., None] = getattr(self, f"_do_{step.action}")
        try:
            self._fresh(story)
            action(story, **step.args)
        except DomainError as exc:
            # A story the services refuse stops where it is; the load goes on (and the warning names it).
            story.dead = True
            self.failures.append(f"case #{story.spec.index} {step.action}: {exc.message}")

    def _fresh(self, story: _Story) -> None:
        """Reload the case when someone else may have changed its status or version: a service that worked on
        a copy loaded through an assignment, or a sweep that expired one of its windows. (A sweep that only
        recolours a clock changes neither, and the services recompute the colour from the clocks.)"""
        case = story.case
        if case is not None and (story.stale or case.pk in self.touched):
            case.refresh_from_db()
            story.stale = False
            self.touched.discard(case.pk)

    def _actor(self, key: str) -> Actor:
        if key == "citizen":
            return CITIZEN
        if key == "system":
            return SYSTEM
        return self.org.staff[key]

    def _case(self, story: _Story) -> Case:
        assert story.case is not None
        return story.case

    def _lead(self, story: _Story) -> Assignment:
        assert story.lead is not None
        return story.lead

    # One method per step ---------------------------------------------------------------------------------------

    def _do_register(self, story: _Story) -> None:
        spec = story.spec
        address = spec.place_text if spec.topic.place == "compound" else ""
        intake = Intake(
            channel=spec.channel,
            case_type=spec.case_type,
            title=spec.title,
            content=spec.content,
            petitioner=spec.person.as_input(address) if spec.person else None,
            representatives=[p.as_input(address) for p in spec.representatives],
            place_text=spec.place_text,
            category_id=self.categories.get(spec.topic.code),
            jurisdiction_unit_id=spec.place.community.pk,
            urgency=spec.urgency,
            people_count=spec.people_count,
            is_group=bool(spec.representatives),
            is_anonymous=spec.person is None,
            external_id=f"{spec.at.astimezone(self.tz):%Y%m%d}{spec.index:06d}"
            if spec.registrar == "system"
            else "",
            external_source="12345" if spec.registrar == "system" else "",
            received_at=spec.at - spec.letter_lag if spec.letter_lag else None,
        )
        story.case = cs.register_case(intake=intake, actor=self._actor(spec.registrar)).case

    def _do_accept(self, story: _Story) -> None:
        cs.accept_case(case=self._case(story), actor=self.org.staff["dispatcher"])

    def _do_decline(self, story: _Story) -> None:
        top = story.spec.topic.code[:2]
        reason, proper = self.text.choice(data.DECLINES.get(top, data.DECLINES["*"]))
        cs.decline_case(
            case=self._case(story), actor=self.org.staff["dispatcher"], reason=reason, proper_channel=proper
        )

    def _do_transfer(self, story: _Story) -> None:
        top = story.spec.topic.code[:2]
        authority, reason = self.text.choice(data.TRANSFERS.get(top, data.TRANSFERS["*"]))
        cs.transfer_case(
            case=self._case(story), actor=self.org.staff["dispatcher"], authority=authority, reason=reason
        )

    def _do_answer_now(self, story: _Story) -> None:
        actor = self.org.staff["clerk" if story.spec.registrar == "clerk" else "dispatcher"]
        cs.answer_now(case=self._case(story), actor=actor, answer=self.text.choice(data.ANSWERS))

    def _do_merge(self, story: _Story) -> None:
        target = story.spec.merge_into
        assert target is not None and target.case is not None
        self._fresh(target)
        cs.merge_case(case=self._case(story), into=target.case, actor=self.org.staff["dispatcher"])

    def _do_withdraw(self, story: _Story) -> None:
        cs.withdraw_case(
            case=self._case(story),
            actor=self.org.staff["clerk"],
            reason=self.text.choice(data.WITHDRAW_REASONS),
        )

    def _do_dispatch(self, story: _Story) -> None:
        spec = story.spec
        note = (
            data.HOTLINE_DISPATCH_NOTE
            if spec.channel == Channel.HOTLINE_12345
            else self.text.choice(data.DISPATCH_NOTES)
        )
        created = cs.dispatch_case(
            case=self._case(story),
            actor=self.org.staff["dispatcher"],
            lead_unit=spec.lead,
            assist_units=spec.assists,
            instructions=note,
        )
        story.lead, story.assists = created[0], created[1:]

    def _do_redispatch(self, story: _Story) -> None:
        created = cs.dispatch_case(
            case=self._case(story),
            actor=self.org.staff["dispatcher"],
            lead_unit=story.spec.alt,
            instructions=data.RETURN_UPHELD,
        )
        story.lead, story.assists = created[0], []

    def _do_return_lead(self, story: _Story) -> None:
        lead, alt = self._lead(story), story.spec.alt
        template = data.RETURN_TO_STREET if alt.kind == UnitKind.STREET else data.RETURN_TO_DEPARTMENT
        story.lead = cs.return_assignment(
            assignment=lead, actor=self.org.handler(lead.unit), reason=template.format(alt=alt.name)
        )
        story.stale = True

    def _do_review_return(self, story: _Story, *, uphold: bool) -> None:
        story.lead = cs.review_return(
            assignment=self._lead(story),
            actor=self.org.staff["dispatcher"],
            uphold=uphold,
            note=data.RETURN_UPHELD if uphold else data.RETURN_OVERRULED,
        )
        story.stale = True

    def _do_sign_lead(self, story: _Story) -> None:
        lead = self._lead(story)
        story.lead = cs.sign_assignment(assignment=lead, actor=self.org.handler(lead.unit))
        story.stale = True

    def _do_sign_assists(self, story: _Story) -> None:
        for assignment in story.assists:
            cs.sign_assignment(assignment=assignment, actor=self.org.handler(assignment.unit))

    def _do_pass_down(self, story: _Story) -> None:
        lead, child = self._lead(story), story.spec.child
        assert child is not None
        story.child = cs.pass_down_assignment(
            assignment=lead,
            actor=self.org.handler(lead.unit),
            unit=child,
            instructions=self.text.choice(data.PASS_DOWN_NOTES),
        )

    def _do_sign_child(self, story: _Story) -> None:
        assert story.child is not None and story.spec.child is not None
        cs.sign_assignment(assignment=story.child, actor=self.org.handler(story.spec.child))

    def _do_request_info(self, story: _Story) -> None:
        what = data.INFO_REQUESTS.get(story.spec.topic.code[:2], data.INFO_DEFAULT)
        cs.request_info(case=self._case(story), actor=self.org.handler(self._lead(story).unit), what=what)

    def _do_receive_info(self, story: _Story, *, actor: str) -> None:
        cs.receive_info(
            case=self._case(story), actor=self._actor(actor), note=self.text.choice(data.INFO_RECEIVED)
        )

    def _do_extend(self, story: _Story) -> None:
        cs.extend_handling(
            case=self._case(story),
            actor=self.org.staff["supervisor"],
            days=30,
            reason=self.text.choice(data.EXTENSION_REASONS),
        )

    def _do_draft_reply(self, story: _Story) -> None:
        spec, unit = story.spec, self._lead(story).unit
        bases, facts, conclusions = data.REPLIES[spec.topic.code[:2]]
        story.reply = cs.draft_reply(
            case=self._case(story),
            actor=self.org.handler(unit),
            facts=f"信访人反映“{spec.title}”。"
            + self.text.choice(facts).format(unit=unit.name, place=spec.place_text),
            basis="依据" + self.text.choice(bases) + "等规定。",
            conclusion=self.text.choice(conclusions),
            review_rights=data.REVIEW_RIGHTS,
        )

    def _do_approve_reply(self, story: _Story) -> None:
        assert story.reply is not None
        cs.approve_reply(reply=story.reply, actor=self.org.leader(self._lead(story).unit))

    def _do_send_reply(self, story: _Story) -> None:
        cs.send_reply(case=self._case(story), actor=self.org.handler(self._lead(story).unit))

    def _do_feedback(self, story: _Story, *, satisfaction: str, actor: str) -> None:
        resolved = {
            "satisfied": ("resolved", "resolved", "partly"),
            "basically": ("partly", "resolved"),
            "not_satisfied": ("not_resolved", "not_resolved", "partly"),
        }[satisfaction]
        cs.record_feedback(
            case=self._case(story),
            actor=self._actor(actor),
            resolved=self.text.choice(resolved),
            satisfaction=satisfaction,
            comment=self.text.choice(data.FEEDBACK_COMMENTS[satisfaction]),
        )

    def _do_resume(self, story: _Story) -> None:
        cs.resume_case(case=self._case(story), actor=self.org.handler(self._lead(story).unit))

    def _do_request_review(self, story: _Story, *, actor: str) -> None:
        cs.request_review(
            case=self._case(story), actor=self._actor(actor), reason=self.text.choice(data.REVIEW_REASONS)
        )

    def _do_decide_review(self, story: _Story) -> None:
        actor = self.org.staff[self.text.choice(("supervisor", "leader"))]
        cs.decide_review(
            case=self._case(story), actor=actor, decision=self.text.choice(data.REVIEW_DECISIONS)
        )

    def _do_request_reexam(self, story: _Story, *, actor: str) -> None:
        cs.request_reexam(
            case=self._case(story), actor=self._actor(actor), reason=self.text.choice(data.REEXAM_REASONS)
        )

    def _do_decide_reexam(self, story: _Story) -> None:
        cs.decide_reexam(
            case=self._case(story),
            actor=self.org.staff["leader"],
            decision=self.text.choice(data.REEXAM_DECISIONS),
        )
