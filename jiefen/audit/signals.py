"""Logins, logouts and failed logins go into the audit chain."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record


def client_ip(request: Any) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(action=AuditAction.LOGIN, actor=user, object_type="user", object_id=user.pk, ip=client_ip(request))


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(
            action=AuditAction.LOGOUT,
            actor=user,
            object_type="user",
            object_id=user.pk,
            ip=client_ip(request),
        )


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    record(
        action=AuditAction.LOGIN_FAILED,
        object_type="user",
        data={"username": str(credentials.get("username", ""))[:150]},
        ip=client_ip(request),
    )
