"""The leaders' dashboard carries the mediation figures of the same period (issue #7 item 5)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from jiefen.mediation.services import PartyInput, register_dispute


def test_the_dashboard_shows_disputes_by_kind_and_links_to_the_mediation_figures(
    dispatcher: Any, leader: Any
) -> None:
    for kind in ("property", "property", "labour"):
        register_dispute(
            actor=dispatcher,
            title="物业费纠纷",
            description="业主与物业公司就物业费发生争议",
            kind=kind,
            parties=[
                PartyInput(role="applicant", name="业主甲"),
                PartyInput(role="respondent", name="物业公司", party_type="organisation"),
            ],
        )
    client = Client()
    client.force_login(leader)
    html = client.get("/analytics/").content.decode()
    panel = html.split('id="disputes"')[1].split("</section>")[0]
    assert "纠纷 3 件" in panel
    assert "调解成功率 —" in panel  # none concluded yet
    assert '<td>物业纠纷</td><td class="num">2</td>' in panel
    assert "/mediation/figures/?date_from=" in panel
