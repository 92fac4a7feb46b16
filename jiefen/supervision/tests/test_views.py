from __future__ import annotations

from typing import Any

from django.test import Client

from jiefen.cases.models import CaseEvent, EventKind


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_board_is_for_supervisors(supervisor: Any, handler_a: Any, dispatched_case: Any) -> None:
    assert client_for(supervisor).get("/supervision/").status_code == 200
    assert client_for(handler_a).get("/supervision/").status_code == 403


def test_urging_from_the_board_lands_on_the_timeline(supervisor: Any, dispatched_case: Any) -> None:
    response = client_for(supervisor).post(
        f"/supervision/cases/{dispatched_case.pk}/urge/", {"message": "请于本周内答复"}, follow=True
    )
    assert response.status_code == 200
    assert dispatched_case.events.get(kind=EventKind.URGED).note == "请于本周内答复"


def test_a_unit_cannot_supervise_and_nothing_changes(
    handler_a: Any, outsider_b: Any, dispatched_case: Any
) -> None:
    assert (
        client_for(handler_a)
        .post(f"/supervision/cases/{dispatched_case.pk}/urge/", {"message": "x"})
        .status_code
        == 403
    )
    assert (
        client_for(outsider_b)
        .post(f"/supervision/cases/{dispatched_case.pk}/urge/", {"message": "x"})
        .status_code
        == 403
    )
    assert not CaseEvent.objects.filter(kind=EventKind.URGED).exists()


def test_an_order_is_answered_from_the_case_page(
    supervisor: Any, handler_a: Any, dispatched_case: Any, district: dict[str, Any]
) -> None:
    client_for(supervisor).post(
        f"/supervision/cases/{dispatched_case.pk}/order/",
        {"unit": district["street_a"].pk, "instructions": "三日内反馈"},
    )
    order = dispatched_case.supervision_orders.get()
    response = client_for(handler_a).post(f"/supervision/orders/{order.pk}/answer/", {"answer": "已处理完毕"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.answer) == ("answered", "已处理完毕")
