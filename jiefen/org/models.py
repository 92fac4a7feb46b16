"""The organisation: units in a tree, their jurisdiction aliases, and the people who work in them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    DEPARTMENT = "department", _("委办局")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    MEDIATION_COMMITTEE = "mediation_committee", _("调解委员会")
    OTHER = "other", _("其他")


class Unit(models.Model):
    """A node of the unit tree. ``path`` is the chain of ancestor ids ("/1/4/17/"), kept by the services, so a
    subtree is one indexed prefix match."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=24, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # path depends on the id, so a new row is saved twice; parents are saved before children.
        super().save(*args, **kwargs)
        expected = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if self.path != expected:
            self.path = expected
            super().save(update_fields=["path"])

    def subtree_q(self, field: str = "") -> Q:
        prefix = f"{field}__" if field else ""
        return Q(**{f"{prefix}path__startswith": self.path})

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)


class AliasKind(models.TextChoices):
    PLACE = "place", _("地名")
    COMPOUND = "compound", _("小区")
    ROAD = "road", _("道路")
    LANDMARK = "landmark", _("地标")


class JurisdictionAlias(models.Model):
    """A place or residential-compound name that belongs to a unit (usually a community)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("单位"))
    alias = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=AliasKind.choices, default=AliasKind.PLACE)

    class Meta:
        verbose_name = _("属地别名")
        verbose_name_plural = _("属地别名")
        constraints = [models.UniqueConstraint(fields=["alias", "unit"], name="alias_unique_per_unit")]
        indexes = [models.Index(fields=["alias"])]

    def __str__(self) -> str:
        return f"{self.alias} → {self.unit}"


class Role(models.TextChoices):
    RECEPTION_CLERK = "reception_clerk", _("接访员")
    DISPATCHER = "dispatcher", _("交办员")
    UNIT_HANDLER = "unit_handler", _("承办人")
    UNIT_LEADER = "unit_leader", _("单位负责人")
    SUPERVISOR = "supervisor", _("督办员")
    FIELD_OFFICER = "field_officer", _("走访员")
    MEDIATOR = "mediator", _("调解员")
    LEADER = "leader", _("领导/分析员")
    ADMIN = "admin", _("系统管理员")


# Roles that work for the petition office itself and so see every case of the district.
OFFICE_ROLES = frozenset(
    {Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.FIELD_OFFICER, Role.LEADER, Role.ADMIN}
)


class User(AbstractUser):
    """A staff member. Roles are Django groups named by ``Role`` values, so they carry group permissions."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def roles(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.groups.values_list("name", flat=True)) if self.pk else frozenset()
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.roles.intersection(roles))

    @property
    def is_office_staff(self) -> bool:
        """Staff of the petition office (not of a unit it dispatches to) see the whole district."""
        return self.is_superuser or bool(self.roles & OFFICE_ROLES)
