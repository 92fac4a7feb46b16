"""Portal fixtures: a browser-like client that fetches the form (its hidden key and challenge) before posting."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

HIDDEN = re.compile(r'name="(key|challenge)" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _intake_guards(settings: Any) -> None:
    """Each test gets its own rate-limit counters, and need not wait the minimum fill time."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal-tests"},
    }
    from django.core.cache import caches

    caches["ratelimit"].clear()
    settings.INTAKE_MIN_FILL_SECONDS = 0


def form_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


@pytest.fixture
def citizen() -> Client:
    return Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Mobile Safari")


@pytest.fixture
def submit(citizen: Client, db: Any) -> Callable[..., Any]:
    """Post the submission form as a browser would; keyword arguments override the fields."""

    def post(client: Client | None = None, **overrides: Any) -> Any:
        client = client or citizen
        hidden = form_fields(client.get("/portal/submit/").content.decode())
        data: dict[str, Any] = {
            **hidden,
            "case_type": "complaint",
            "title": "小区门口垃圾堆积无人清理",
            "content": "八角南里小区东门垃圾站已经一周没有清运，气味很大。",
            "place": "八角南里小区东门",
            "name": "张三",
            "phone": "13800138000",
            "website": "",
        }
        data.update(overrides)
        return client.post("/portal/submit/", {k: v for k, v in data.items() if v is not None})

    return post


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 100, 50))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 11.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(0x8825))
