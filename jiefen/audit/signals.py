"""Logins, logouts and failed logins go into the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


# Set while a service records a permission change itself (with its actor and a before/after summary), so the
# raw relation changes it makes are not recorded a second time.
_recorded_by_caller: ContextVar[bool] = ContextVar("permission_change_recorded_by_caller", default=False)


@contextmanager
def permission_change_recorded_by_caller() -> Iterator[None]:
    token = _recorded_by_caller.set(True)
    try:
        yield
    finally:
        _recorded_by_caller.reset(token)


def _permission_changed(
    sender: Any, instance: Any, action: str, pk_set: Any, model: Any, **kwargs: Any
) -> None:
    """Role and permission changes made anywhere else (the Django admin included) go into the chain."""
    if action not in ("post_add", "post_remove", "post_clear") or _recorded_by_caller.get():
        return
    names = sorted(str(obj) for obj in model.objects.filter(pk__in=pk_set or [])) if pk_set else []
    record(
        action=AuditAction.PERMISSION_CHANGED,
        object_type=type(instance).__name__.lower(),
        object_id=instance.pk,
        data={"change": action.removeprefix("post_"), "relation": sender._meta.model_name, "items": names},
    )


def connect_permission_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed

    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(_permission_changed, sender=through, dispatch_uid=f"audit-{through._meta.label}")
