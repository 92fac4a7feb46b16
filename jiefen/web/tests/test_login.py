from typing import Any

import pytest
from django.test import Client

from jiefen.audit.models import AuditAction, AuditEntry


@pytest.mark.parametrize("path", ["/", "/cases/", "/cases/1/", "/cases/1/identity/"])
def test_it_sends_anonymous_visitors_to_the_login_page(db: Any, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_it_refuses_an_action_from_an_anonymous_visitor(dispatched_case: Any) -> None:
    response = Client().post(
        f"/cases/{dispatched_case.pk}/action/accept/", {"version": dispatched_case.version}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    dispatched_case.refresh_from_db()
    assert dispatched_case.status == "dispatched"


def test_a_login_is_written_to_the_audit_log(dispatcher: Any) -> None:
    client = Client()
    response = client.post("/login/", {"username": "dispatcher", "password": "test-pass-8731"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN).get()
    assert (entry.actor_id, entry.actor_name, entry.object_type, entry.object_id) == (
        dispatcher.pk,
        "dispatcher",
        "user",
        str(dispatcher.pk),
    )
    assert entry.ip == "127.0.0.1"
    assert client.get("/").status_code == 200


def test_a_failed_login_is_refused_and_written_to_the_audit_log(dispatcher: Any) -> None:
    client = Client()
    response = client.post("/login/", {"username": "dispatcher", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码不正确，请重试。" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).get()
    assert entry.actor_id is None
    assert entry.data == {"username": "dispatcher"}
    assert client.get("/")["Location"] == "/login/?next=/"


def test_logout_ends_the_session(client_for: Any, clerk: Any) -> None:
    client = client_for(clerk)
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, actor_id=clerk.pk).count() == 1


def test_after_login_the_user_lands_on_the_page_they_asked_for(dispatcher: Any) -> None:
    client = Client()
    response = client.post(
        "/login/", {"username": "dispatcher", "password": "test-pass-8731", "next": "/cases/"}
    )
    assert response["Location"] == "/cases/"
    # An off-site "next" is not followed.
    client.post("/logout/")
    response = client.post(
        "/login/", {"username": "dispatcher", "password": "test-pass-8731", "next": "https://example.com/"}
    )
    assert response["Location"] == "/"


def test_a_signed_in_user_is_not_shown_the_login_form_again(client_for: Any, clerk: Any) -> None:
    response = client_for(clerk).get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"
