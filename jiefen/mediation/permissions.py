"""Who may do what to a dispute. Services check these before they change anything; pages use them to offer
only what will work."""

from __future__ import annotations

from typing import Any

from jiefen.core.errors import NotAllowed
from jiefen.mediation.models import Dispute
from jiefen.org.models import Role

# Petition-office roles that take disputes in, give them to mediators and follow them up.
REGISTERING = frozenset({Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.MEDIATOR})
ASSIGNING = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
FOLLOWING_UP = ASSIGNING


def _active(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active and hasattr(actor, "has_role"))


def in_charge(actor: Any, dispute: Dispute) -> bool:
    """The dispute's mediator, or a mediator of the committee it was given to."""
    if not _active(actor):
        return False
    if actor.is_superuser:
        return True
    if not actor.has_role(Role.MEDIATOR):
        return False
    return dispute.mediator_id == actor.pk or (
        actor.unit_id is not None and dispute.committee_id == actor.unit_id
    )


def may_register(actor: Any) -> bool:
    return _active(actor) and actor.has_role(*REGISTERING)


def may_assign(actor: Any) -> bool:
    return _active(actor) and actor.has_role(*ASSIGNING)


def may_follow_up(actor: Any, dispute: Dispute) -> bool:
    """Referral, withdrawal, performance and court records: the mediator, or the office that follows up."""
    return in_charge(actor, dispute) or (_active(actor) and actor.has_role(*FOLLOWING_UP))


def check_in_charge(actor: Any, dispute: Dispute) -> None:
    if not in_charge(actor, dispute):
        raise NotAllowed("只有该纠纷的调解员或其所在调解组织的调解员可以进行此操作")


def check_follow_up(actor: Any, dispute: Dispute) -> None:
    if not may_follow_up(actor, dispute):
        raise NotAllowed("您无权处理该纠纷")
