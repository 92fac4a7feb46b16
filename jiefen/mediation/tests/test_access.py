"""Who sees which dispute, and a mediator of another committee denied with nothing changed — through the
services, the pages and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from jiefen.core.errors import NotAllowed
from jiefen.mediation import services
from jiefen.mediation.models import Dispute, DisputeEvent, Party
from jiefen.mediation.queries import disputes_visible_to, get_dispute_for_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputes(make_dispute: Any, dispatcher: Any, mediators: dict[str, Any]) -> dict[str, Dispute]:
    mine = make_dispute(title="A委的纠纷")
    services.assign_mediator(dispute=mine, mediator=mediators["a"], actor=dispatcher)
    colleague = make_dispute(title="A委同事的纠纷", kind="labour")
    services.assign_mediator(dispute=colleague, mediator=mediators["a2"], actor=dispatcher)
    other = make_dispute(title="B委的纠纷")
    services.assign_mediator(dispute=other, mediator=mediators["b"], actor=dispatcher)
    unassigned = make_dispute(title="未分派")
    return {"mine": mine, "colleague": colleague, "other": other, "unassigned": unassigned}


def titles(user: Any) -> set[str]:
    return set(disputes_visible_to(user).values_list("title", flat=True))


def test_office_staff_see_every_dispute(
    disputes: dict[str, Dispute], clerk: Any, dispatcher: Any, leader: Any
) -> None:
    for user in (clerk, dispatcher, leader):
        assert titles(user) == {"A委的纠纷", "A委同事的纠纷", "B委的纠纷", "未分派"}


def test_a_mediator_sees_their_own_and_their_committees(
    disputes: dict[str, Dispute], mediators: dict[str, Any]
) -> None:
    assert titles(mediators["a"]) == {"A委的纠纷", "A委同事的纠纷"}
    assert titles(mediators["a2"]) == {"A委的纠纷", "A委同事的纠纷"}
    assert titles(mediators["b"]) == {"B委的纠纷"}
    assert titles(mediators["prop"]) == set()


def test_unit_staff_and_strangers_see_none(
    disputes: dict[str, Dispute], handler_a: Any, outsider_b: Any
) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert titles(handler_a) == set()
    assert titles(outsider_b) == set()
    assert titles(AnonymousUser()) == set()
    assert titles(None) == set()


def test_a_mediator_is_denied_another_committees_dispute_and_nothing_changes(
    disputes: dict[str, Dispute], mediators: dict[str, Any]
) -> None:
    other = disputes["other"]
    party = other.parties.order_by("id").first()
    assert party is not None
    with pytest.raises(Http404):
        get_dispute_for_user(mediators["a"], other.pk)
    events = DisputeEvent.objects.filter(dispute=other).count()
    with pytest.raises(NotAllowed) as exc:
        services.record_consent(dispute=other, party=party, actor=mediators["a"], given=True)
    assert exc.value.message == "只有该纠纷的调解员或其所在调解组织的调解员可以进行此操作"
    with pytest.raises(NotAllowed):
        services.refer_dispute(
            dispute=other, actor=mediators["a"], channel="litigation", receiver="法院", reason="不成"
        )
    other.refresh_from_db()
    party.refresh_from_db()
    assert (other.status, other.version, other.mediator) == ("assigned", 2, mediators["b"])
    assert party.consent == "pending"
    assert DisputeEvent.objects.filter(dispute=other).count() == events


def test_only_the_office_assigns_mediators(
    disputes: dict[str, Dispute], mediators: dict[str, Any], clerk: Any
) -> None:
    dispute = disputes["unassigned"]
    for actor in (mediators["a"], clerk):
        with pytest.raises(NotAllowed):
            services.assign_mediator(dispute=dispute, mediator=mediators["a"], actor=actor)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.mediator_id, dispute.version) == ("registered", None, 1)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_and_the_api_deny_another_committee_with_nothing_changed(
    disputes: dict[str, Dispute], mediators: dict[str, Any]
) -> None:
    other = disputes["other"]
    party = other.parties.order_by("id").first()
    assert party is not None
    client = _client(mediators["a"])
    assert client.get(f"/mediation/{other.pk}/").status_code == 404
    response = client.post(f"/mediation/{other.pk}/action/consent/", {"party": party.pk, "given": "true"})
    assert response.status_code == 404
    doc_response = client.get(f"/mediation/{other.pk}/documents/1.pdf")
    assert doc_response.status_code == 404
    api = client.post(
        f"/api/mediation/disputes/{other.pk}/consent",
        {"party": party.pk, "given": True},
        content_type="application/json",
    )
    assert api.status_code == 404
    assert api.json() == {"code": "not_found", "message": "not found"}
    listing = client.get("/api/mediation/disputes").json()
    assert {d["title"] for d in listing["items"]} == {"A委的纠纷", "A委同事的纠纷"}
    other.refresh_from_db()
    assert (other.status, other.version) == ("assigned", 2)
    assert Party.objects.get(pk=party.pk).consent == "pending"


def test_a_committee_colleague_may_record_consent(
    disputes: dict[str, Dispute], mediators: dict[str, Any]
) -> None:
    dispute = disputes["mine"]
    party = dispute.parties.order_by("id").first()
    assert party is not None
    client = _client(mediators["a2"])
    response = client.post(
        f"/api/mediation/disputes/{dispute.pk}/consent",
        {"party": party.pk, "given": True},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [p["consent"] for p in response.json()["parties"]] == ["given", "pending"]


def test_unit_staff_may_not_open_the_directory(disputes: dict[str, Dispute], handler_a: Any) -> None:
    assert _client(handler_a).get("/mediation/mediators/").status_code == 403
