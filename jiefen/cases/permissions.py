"""Which roles may make which moves, and the check every service makes before it changes anything."""

from __future__ import annotations

from typing import Any

from jiefen.cases.actors import Citizen, System
from jiefen.cases.models import Assignment, Case
from jiefen.cases.workflow import Move
from jiefen.core.errors import NotAllowed
from jiefen.org.models import Role

R = Role
OFFICE_DECISIONS = frozenset({R.DISPATCHER, R.ADMIN})
UNIT_WORK = frozenset({R.UNIT_HANDLER, R.UNIT_LEADER})

# move → staff roles that may make it. Moves the petitioner makes through the portal are in CITIZEN_MOVES.
MOVE_ROLES: dict[Move, frozenset[str]] = {
    Move.ACCEPT: OFFICE_DECISIONS,
    Move.DECLINE: OFFICE_DECISIONS,
    Move.TRANSFER: OFFICE_DECISIONS,
    Move.ANSWER_NOW: OFFICE_DECISIONS | {R.RECEPTION_CLERK},
    Move.MERGE: OFFICE_DECISIONS | {R.RECEPTION_CLERK},
    Move.DISPATCH: OFFICE_DECISIONS,
    Move.SIGN: UNIT_WORK,
    Move.ALL_RETURNED: OFFICE_DECISIONS,
    Move.REDISPATCH: OFFICE_DECISIONS,
    Move.REQUEST_INFO: UNIT_WORK,
    Move.INFO_RECEIVED: UNIT_WORK | {R.RECEPTION_CLERK},
    Move.REPLY: UNIT_WORK,
    Move.START_FOLLOW_UP: OFFICE_DECISIONS | {R.SUPERVISOR},
    Move.SATISFIED: frozenset({R.SUPERVISOR, R.RECEPTION_CLERK}),
    Move.WINDOW_PASSED: frozenset(),
    Move.NOT_SATISFIED: frozenset({R.SUPERVISOR, R.RECEPTION_CLERK}),
    Move.RESUME: UNIT_WORK,
    Move.REQUEST_REVIEW: frozenset({R.RECEPTION_CLERK}),
    Move.DECIDE_REVIEW: frozenset({R.LEADER, R.SUPERVISOR, R.ADMIN}),
    Move.REVIEW_WINDOW_PASSED: frozenset(),
    Move.REQUEST_REEXAM: frozenset({R.RECEPTION_CLERK}),
    Move.DECIDE_REEXAM: frozenset({R.LEADER, R.ADMIN}),
    Move.WITHDRAW: frozenset({R.RECEPTION_CLERK}),
}

CITIZEN_MOVES = frozenset(
    {
        Move.SATISFIED,
        Move.NOT_SATISFIED,
        Move.REQUEST_REVIEW,
        Move.REQUEST_REEXAM,
        Move.WITHDRAW,
        Move.INFO_RECEIVED,
    }
)
SYSTEM_MOVES = frozenset(
    {Move.WINDOW_PASSED, Move.REVIEW_WINDOW_PASSED, Move.START_FOLLOW_UP, Move.ALL_RETURNED}
)


def acts_for_unit(actor: Any, unit_path: str) -> bool:
    """A unit's people act on its tasks, and a parent unit's people on its children's (a street office
    answers for its communities, 首接负责)."""
    unit = getattr(actor, "unit", None)
    return unit is not None and unit_path.startswith(unit.path)


def _open_lead_units(case: Case) -> list[str]:
    return list(
        Assignment.objects.filter(
            case=case, role="lead", status__in=["pending", "signed", "replied"]
        ).values_list("unit__path", flat=True)
    )


def may_move(actor: Any, case: Case, move: Move) -> bool:
    if isinstance(actor, Citizen):
        return move in CITIZEN_MOVES
    if isinstance(actor, System):
        return move in SYSTEM_MOVES
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if not actor.has_role(*MOVE_ROLES[move]):
        return False
    if actor.is_superuser or actor.is_office_staff:
        return True
    # Unit staff act only on cases whose lead task is with their unit (or a unit below it).
    return any(acts_for_unit(actor, path) for path in _open_lead_units(case))


def check_move(actor: Any, case: Case, move: Move) -> None:
    if not may_move(actor, case, move):
        raise NotAllowed(f"您无权对该信访件执行“{move.label}”")
