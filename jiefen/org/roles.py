"""What each role may do in the Django admin (group permissions). Case work is governed by the services'
move table, not by these."""

from __future__ import annotations

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "admin": [
        "org.add_unit",
        "org.change_unit",
        "org.view_unit",
        "org.add_jurisdictionalias",
        "org.change_jurisdictionalias",
        "org.delete_jurisdictionalias",
        "org.view_jurisdictionalias",
        "org.add_user",
        "org.change_user",
        "org.view_user",
        "cases.add_category",
        "cases.change_category",
        "cases.view_category",
        "clocks.add_clockpolicy",
        "clocks.change_clockpolicy",
        "clocks.delete_clockpolicy",
        "clocks.view_clockpolicy",
        "clocks.add_calendarday",
        "clocks.change_calendarday",
        "clocks.delete_calendarday",
        "clocks.view_calendarday",
        "clocks.add_calendaryear",
        "clocks.change_calendaryear",
        "clocks.delete_calendaryear",
        "clocks.view_calendaryear",
        "auth.view_group",
    ],
    "dispatcher": ["org.view_unit", "cases.view_category"],
    "supervisor": ["org.view_unit", "cases.view_category"],
    "leader": ["org.view_unit", "cases.view_category"],
    "reception_clerk": ["cases.view_category"],
    "unit_handler": [],
    "unit_leader": [],
    "field_officer": ["cases.view_category"],
    "mediator": [],
}
