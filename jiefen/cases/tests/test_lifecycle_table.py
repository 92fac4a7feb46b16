"""Every move against every state: the allowed ones lead where the table says and write an event; the
forbidden ones raise IllegalMove and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from jiefen.cases import services
from jiefen.cases.actors import CITIZEN, SYSTEM
from jiefen.cases.models import Case, CaseEvent, EventKind
from jiefen.cases.workflow import ALLOWED_MOVES, OPEN_STATES, CaseStatus, Move, moves_from, target_of
from jiefen.core.errors import IllegalMove

PAIRS = [(status, move) for status in CaseStatus for move in Move]


def test_the_table_names_only_real_states_and_every_state_is_reachable() -> None:
    reachable = {CaseStatus.REGISTERED}
    for sources, target in ALLOWED_MOVES.values():
        assert sources <= set(CaseStatus)
        reachable.add(target)
    assert reachable == set(CaseStatus)


def test_terminal_states_allow_no_move_except_the_review_chain_from_closed() -> None:
    assert moves_from(CaseStatus.FINAL) == []
    assert moves_from(CaseStatus.WITHDRAWN) == []
    assert moves_from(CaseStatus.MERGED) == []
    assert moves_from(CaseStatus.CLOSED) == [Move.REQUEST_REVIEW]
    assert all(Move.WITHDRAW in moves_from(state) for state in OPEN_STATES)


def _actor_for(move: Move, personas: dict[str, Any]) -> Any:
    if move in (Move.WINDOW_PASSED, Move.REVIEW_WINDOW_PASSED, Move.START_FOLLOW_UP, Move.ALL_RETURNED):
        return SYSTEM
    if move in (Move.SIGN, Move.REQUEST_INFO, Move.INFO_RECEIVED, Move.REPLY, Move.RESUME):
        return personas["handler_a"]
    if move in (Move.DECIDE_REVIEW, Move.DECIDE_REEXAM):
        return personas["leader"]
    if move in (Move.SATISFIED, Move.NOT_SATISFIED, Move.REQUEST_REVIEW, Move.REQUEST_REEXAM, Move.WITHDRAW):
        return CITIZEN
    return personas["dispatcher"]


@pytest.mark.parametrize(("status", "move"), PAIRS, ids=[f"{s.value}-{m.value}" for s, m in PAIRS])
def test_each_move_from_each_state(
    status: CaseStatus,
    move: Move,
    dispatched_case: Case,
    dispatcher: Any,
    handler_a: Any,
    leader: Any,
) -> None:
    case = dispatched_case
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    version = case.version
    events_before = CaseEvent.objects.filter(case=case).count()
    personas = {"dispatcher": dispatcher, "handler_a": handler_a, "leader": leader}
    events: list[CaseEvent] = []
    target = target_of(move, status)
    if target is None:
        with pytest.raises(IllegalMove, match="不能执行"):
            services._move(case, move, _actor_for(move, personas), events)
        case.refresh_from_db()
        assert (case.status, case.version) == (status, version)
        assert events == []
    else:
        services._move(case, move, _actor_for(move, personas), events)
        services.write_events(events)
        case.refresh_from_db()
        assert case.status == target
        assert case.version == version + 1
        event = CaseEvent.objects.filter(case=case).latest("id")
        assert (event.kind, event.move, event.from_status, event.to_status) == (
            EventKind.MOVE,
            move,
            status,
            target,
        )
        assert CaseEvent.objects.filter(case=case).count() == events_before + 1
