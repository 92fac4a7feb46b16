"""The submission API for apps: an Idempotency-Key header makes a retry return the same receipt."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jiefen.cases.intake import query_code_matches
from jiefen.cases.models import Case

pytestmark = pytest.mark.django_db


def petition(token: str, **overrides: Any) -> dict[str, Any]:
    return {
        "challenge": token,
        "case_type": "help",
        "title": "独居老人需要帮助",
        "content": "隔壁独居老人腿脚不便，希望社区定期上门看望。",
        "name": "张三",
        "phone": "13800138000",
        **overrides,
    }


def test_a_retry_with_the_same_idempotency_key_returns_the_same_receipt() -> None:
    client = Client()
    issued = client.get("/api/portal/challenge").json()
    headers = {"HTTP_IDEMPOTENCY_KEY": issued["idempotency_key"]}
    first = client.post(
        "/api/portal/petitions", petition(issued["challenge"]), content_type="application/json", **headers
    )
    again = client.post(
        "/api/portal/petitions",
        petition(issued["challenge"], title="再试一次"),
        content_type="application/json",
        **headers,
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() | {"replayed": True} == again.json()
    case = Case.objects.get()
    assert (case.channel, case.title) == ("mobile", "独居老人需要帮助")
    assert query_code_matches(case, first.json()["query_code"])


@pytest.mark.parametrize(
    ("headers", "overrides", "status", "message"),
    [
        ({}, {}, 400, "提交标识无效，请刷新页面后重新提交"),
        (
            {"HTTP_IDEMPOTENCY_KEY": "k" * 20},
            {"challenge": "x"},
            400,
            "页面已过期，请刷新页面后重新提交（您填写的内容已保留）",
        ),
        (
            {"HTTP_IDEMPOTENCY_KEY": "k" * 20},
            {"name": ""},
            400,
            "实名提交请填写姓名和手机号码；不愿留名的举报、建议和咨询可以选择匿名",
        ),
        ({"HTTP_IDEMPOTENCY_KEY": "k" * 20}, {"case_type": "x"}, 400, "诉求类型“x”无效"),
    ],
)
def test_bad_api_submissions_are_refused_and_nothing_stored(
    headers: dict[str, Any], overrides: dict[str, Any], status: int, message: str
) -> None:
    client = Client()
    issued = client.get("/api/portal/challenge").json()
    response = client.post(
        "/api/portal/petitions",
        petition(issued["challenge"], **overrides),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == status
    assert response.json()["message"] == message
    assert not Case.objects.exists()
