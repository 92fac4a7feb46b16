from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from jiefen.core.errors import InvalidInput
from jiefen.org.models import User
from jiefen.org.services import create_user


def test_a_shared_password_hash_logs_several_accounts_in(district: dict[str, Any]) -> None:
    encoded = make_password("shared-demo-pass-77")
    for name in ("a1", "a2"):
        create_user(
            username=name,
            password=None,
            password_hash=encoded,
            roles=["dispatcher"],
            unit_code="SJS",
            actor=None,
        )
    assert Client().login(username="a1", password="shared-demo-pass-77")
    assert Client().login(username="a2", password="shared-demo-pass-77")


def test_an_account_without_a_password_cannot_log_in(district: dict[str, Any]) -> None:
    user = create_user(username="nopass", password=None, roles=["unit_handler"], unit_code="BJ", actor=None)
    assert not user.has_usable_password()
    assert not Client().login(username="nopass", password="")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password_hash": "not-a-hash"}, "密码哈希"),
        ({"password": "123"}, "密码"),
        ({"unit_code": "NOPE"}, "单位代码"),
        ({"roles": ["emperor"]}, "未知角色"),
    ],
)
def test_bad_user_input_is_refused_and_nothing_created(
    district: dict[str, Any], fields: dict[str, Any], message: str
) -> None:
    base: dict[str, Any] = {
        "username": "newbie",
        "password": "a-good-long-password-91",
        "roles": ["dispatcher"],
        "unit_code": "SJS",
    }
    base.update(fields)
    with pytest.raises(InvalidInput, match=message):
        create_user(actor=None, **base)
    assert not User.objects.filter(username="newbie").exists()
