"""Changes to units and users. Role changes are security-relevant and go into the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from jiefen.audit.models import AuditAction
from jiefen.audit.services import record
from jiefen.audit.signals import permission_change_recorded_by_caller
from jiefen.core.errors import InvalidInput
from jiefen.org.models import AliasKind, JurisdictionAlias, Role, Unit, UnitKind, User


def create_unit(
    *,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    aliases: Iterable[str] = (),
    alias_kind: str = AliasKind.COMPOUND,
    **details: Any,
) -> Unit:
    if kind not in UnitKind.values:
        raise InvalidInput(f"单位类型“{kind}”无效")
    if Unit.objects.filter(code=code).exists():
        raise InvalidInput(f"单位代码“{code}”已存在")
    with transaction.atomic():
        unit = Unit.objects.create(code=code, name=name, kind=kind, parent=parent, **details)
        JurisdictionAlias.objects.bulk_create(
            [JurisdictionAlias(unit=unit, alias=alias, kind=alias_kind) for alias in aliases]
        )
    return unit


def set_roles(*, user: User, roles: Iterable[str], actor: Any) -> User:
    """Replace the user's roles; the change is written to the audit log."""
    wanted = sorted(set(roles))
    unknown = [role for role in wanted if role not in Role.values]
    if unknown:
        raise InvalidInput(f"未知角色：{', '.join(unknown)}")
    with transaction.atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        groups = [Group.objects.get_or_create(name=role)[0] for role in wanted]
        with permission_change_recorded_by_caller():
            user.groups.set(groups)
        user.__dict__.pop("_roles_cache", None)
        if before != wanted:
            record(
                action=AuditAction.PERMISSION_CHANGED,
                actor=actor,
                object_type="user",
                object_id=user.pk,
                data={"username": user.username, "before": before, "after": wanted},
            )
    return user


def create_user(
    *,
    username: str,
    password: str | None,
    roles: Iterable[str],
    unit_code: str | None,
    full_name: str = "",
    is_superuser: bool = False,
    actor: Any,
    validate: bool = True,
    password_hash: str = "",
) -> User:
    """A staff user. ``password=None`` makes an account that cannot log in until a password is set;
    ``password_hash`` stores an already hashed password (many accounts sharing one, as the demo's do, without
    paying for the slow hash each time)."""
    if not username or User.objects.filter(username=username).exists():
        raise InvalidInput(f"用户名“{username}”为空或已存在")
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise InvalidInput(f"单位代码“{unit_code}”不存在")
    if password_hash:
        try:
            identify_hasher(password_hash)
        except ValueError as exc:
            raise InvalidInput("密码哈希格式不正确") from exc
    elif validate and password is not None:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise InvalidInput("；".join(exc.messages)) from exc
    with transaction.atomic():
        user = User.objects.create_user(
            username=username,
            password=None if password_hash else password,
            unit=unit,
            full_name=full_name,
            is_staff=is_superuser or Role.ADMIN in set(roles),
            is_superuser=is_superuser,
        )
        if password_hash:
            user.password = password_hash
            user.save(update_fields=["password"])
        set_roles(user=user, roles=roles, actor=actor)
    return user
