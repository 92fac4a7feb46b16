"""The lifecycle of a dispute (矛盾纠纷): its states and the one table of allowed moves.

Every move is made by exactly one service function in ``services.py``; a database constraint keeps the status
column inside ``DisputeStatus``. Court confirmation (司法确认) runs beside the lifecycle, on the agreement.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DisputeStatus(models.TextChoices):
    REGISTERED = "registered", _("待分派")
    ASSIGNED = "assigned", _("待当事人同意")
    MEDIATING = "mediating", _("调解中")
    AGREED = "agreed", _("已达成协议")
    PERFORMED = "performed", _("已履行")
    REFERRED = "referred", _("调解不成已移交")
    WITHDRAWN = "withdrawn", _("已撤回")


class DisputeMove(models.TextChoices):
    ASSIGN = "assign", _("指派调解员")
    REASSIGN = "reassign", _("更换调解员")
    CONSENT = "consent", _("各方同意调解")
    AGREE = "agree", _("签署调解协议")
    FULFIL = "fulfil", _("协议履行完毕")
    REFER = "refer", _("调解不成移交")
    WITHDRAW = "withdraw", _("撤回")


S = DisputeStatus

# States in which the dispute is still being worked on; the mediator's load counts them.
OPEN_STATES = frozenset({S.REGISTERED, S.ASSIGNED, S.MEDIATING, S.AGREED})
# Mediation ended in an agreement (the success rate's numerator).
SUCCESS_STATES = frozenset({S.AGREED, S.PERFORMED})
# Mediation is over, one way or the other (the success rate's denominator; withdrawn disputes are not counted).
CONCLUDED_STATES = frozenset({S.AGREED, S.PERFORMED, S.REFERRED})

# move → (states it may start from, state it leads to)
ALLOWED_MOVES: dict[DisputeMove, tuple[frozenset[DisputeStatus], DisputeStatus]] = {
    DisputeMove.ASSIGN: (frozenset({S.REGISTERED}), S.ASSIGNED),
    DisputeMove.REASSIGN: (frozenset({S.ASSIGNED}), S.ASSIGNED),
    DisputeMove.CONSENT: (frozenset({S.ASSIGNED}), S.MEDIATING),
    DisputeMove.AGREE: (frozenset({S.MEDIATING}), S.AGREED),
    DisputeMove.FULFIL: (frozenset({S.AGREED}), S.PERFORMED),
    # Consent refused, sessions failed, or an agreement not performed: the dispute goes on to another channel.
    DisputeMove.REFER: (frozenset({S.REGISTERED, S.ASSIGNED, S.MEDIATING, S.AGREED}), S.REFERRED),
    DisputeMove.WITHDRAW: (frozenset({S.REGISTERED, S.ASSIGNED, S.MEDIATING}), S.WITHDRAWN),
}


def target_of(move: DisputeMove, current: str) -> DisputeStatus | None:
    """The state ``move`` leads to from ``current``, or None when the table forbids it."""
    sources, target = ALLOWED_MOVES[move]
    return target if current in sources else None


def moves_from(current: str) -> list[DisputeMove]:
    return [move for move, (sources, _target) in ALLOWED_MOVES.items() if current in sources]
