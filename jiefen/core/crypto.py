"""Personal data at rest: authenticated encryption and keyed lookup hashes.

Both keys are derived from ``settings.DATA_KEY`` with HKDF, so one secret in the environment protects the data
and a database dump alone reveals neither phone nor ID numbers. Lookups ("find the petitioner with this phone")
go through the keyed hash, which is deterministic for equal normalised input.
"""

from __future__ import annotations

import base64
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(settings.DATA_KEY.encode())


@lru_cache(maxsize=4)
def _fernet(data_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"jiefen-field-encryption")))


@lru_cache(maxsize=4)
def _lookup_key(data_key: str) -> bytes:
    return _derive(b"jiefen-lookup-hash")


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.DATA_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.DATA_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("personal data cannot be decrypted: wrong JIEFEN_DATA_KEY?") from exc


def normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s", "", value or "").upper()


def lookup_hash(value: str) -> str:
    if not value:
        return ""
    return hmac.digest(_lookup_key(settings.DATA_KEY), value.encode(), "sha256").hex()


def mask_phone(value: str) -> str:
    if len(value) >= 7:
        return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"
    return "*" * len(value)


def mask_id_number(value: str) -> str:
    if len(value) >= 8:
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
    return "*" * len(value)


def mask_name(value: str) -> str:
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)
