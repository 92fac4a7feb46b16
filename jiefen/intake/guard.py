"""Guards at the citizen's door: rate limits, an offline bot challenge, and idempotency keys.

Rate limits count in a Django cache (``settings.INTAKE_RATE_CACHE``): Redis in production, a file cache in the
embedded mode so the count holds across web processes. The challenge needs no script and no outside service:
the form carries a signed timestamp and an empty honeypot field; a bot that posts at once, or fills every
field, is refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import caches

from jiefen.core.errors import DomainError, InvalidInput

_CHALLENGE_SALT = "jiefen.intake.challenge"
CHALLENGE_MAX_AGE = 6 * 3600  # a person may take a while to write; a form older than this is reloaded
HONEYPOT_FIELD = "website"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


class ChallengeFailed(DomainError):
    code = "challenge_failed"
    http_status = 400


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int
    message: str


# Anonymous submission: per address and per phone. Tracking (receipt + query code) is limited harder, as it is
# what a brute-force guess of query codes would use.
SUBMIT_PER_IP = Limit(
    "submit-ip", 20, 3600, "提交过于频繁，请一小时后再试；紧急情况请直接拨打 110、119 或 120"
)
SUBMIT_PER_PHONE = Limit("submit-phone", 5, 3600, "该手机号提交过于频繁，请一小时后再试")
TRACK_PER_IP = Limit("track-ip", 30, 600, "查询过于频繁，请十分钟后再试")
CODE_PER_PHONE = Limit("code-phone", 3, 600, "验证码发送过于频繁，请十分钟后再试")
CODE_PER_IP = Limit("code-ip", 10, 3600, "验证码发送过于频繁，请一小时后再试")


def _bucket_key(limit: Limit, ident: str) -> str:
    digest = hashlib.sha256(f"{limit.scope}:{ident}".encode()).hexdigest()[:32]
    return f"rl:{limit.scope}:{digest}:{int(time.time() // limit.seconds)}"


def check_rate(limit: Limit, ident: str) -> None:
    """Count one attempt by ``ident`` (an address or a keyed phone hash); RateLimited past the limit.

    A fixed window: ``add`` creates the counter for the window, ``incr`` bumps it (atomic on Redis; on the
    file cache two processes may rarely both read the same count, which only lets one extra attempt through).
    """
    if not settings.INTAKE_RATE_LIMITS or not ident:
        return
    cache = caches[settings.INTAKE_RATE_CACHE]
    key = _bucket_key(limit, ident)
    if cache.add(key, 1, timeout=limit.seconds):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=limit.seconds)
        return
    if count > limit.count:
        raise RateLimited(limit.message)


def new_challenge() -> str:
    return signing.dumps({"t": time.time(), "n": secrets.token_hex(4)}, salt=_CHALLENGE_SALT, compress=False)


def check_challenge(token: str, honeypot: str) -> None:
    """The signed timestamp must be genuine, not too old, and at least ``INTAKE_MIN_FILL_SECONDS`` old; the
    honeypot (hidden from people) must be empty."""
    if honeypot:
        raise ChallengeFailed("提交未通过校验，请刷新页面后重新填写")
    try:
        payload = signing.loads(token or "", salt=_CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
        issued = float(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ChallengeFailed("页面已过期，请刷新页面后重新提交（您填写的内容已保留）") from exc
    if time.time() - issued < settings.INTAKE_MIN_FILL_SECONDS:
        raise ChallengeFailed("提交过快，请核对填写的内容后再次提交")


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def clean_idempotency_key(value: str) -> str:
    value = (value or "").strip()
    if not _KEY_RE.match(value):
        raise InvalidInput("提交标识无效，请刷新页面后重新提交")
    return value
