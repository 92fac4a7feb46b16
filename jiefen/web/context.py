"""Navigation by role, for every staff page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from jiefen.org.models import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    office_name = settings.OFFICE_NAME
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "office_name": office_name}
    items = [(_("工作台"), reverse("web:home")), (_("信访件"), reverse("web:case_list"))]
    if user.has_role(Role.SUPERVISOR, Role.LEADER, Role.ADMIN):
        items.append((_("督查督办"), reverse("supervision:board")))
    if user.is_office_staff or user.has_role(Role.UNIT_LEADER, Role.UNIT_HANDLER):
        items.append((_("统计分析"), reverse("analytics:dashboard")))
    if user.is_office_staff or user.has_role(Role.MEDIATOR):
        items.append((_("矛盾纠纷"), reverse("mediation:list")))
    if user.has_role(Role.RECEPTION_CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN):
        items.append((_("来访登记"), reverse("intake:register")))
    if user.has_role(Role.FIELD_OFFICER, Role.RECEPTION_CLERK, Role.SUPERVISOR, Role.ADMIN):
        items.append((_("实地走访"), reverse("intake:visits")))
    from jiefen.notify.queries import may_watch_outbox, unread_count

    unread = unread_count(user)
    items.append(
        (_("消息（%(count)d）") % {"count": unread} if unread else _("消息"), reverse("notify:inbox"))
    )
    if may_watch_outbox(user):
        items.append((_("发件箱"), reverse("notify:outbox")))
    if user.has_role(Role.ADMIN) or user.is_superuser:
        items.append((_("批量导入"), reverse("transfer:import")))
        items.append((_("系统管理"), reverse("admin:index")))
    return {"nav_items": items, "office_name": office_name, "unread_messages": unread}
