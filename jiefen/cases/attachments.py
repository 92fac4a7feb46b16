"""Files brought with a case: checked by their content (not their name), limited in size and number, stored
outside the database under a random name; photos re-encoded so that hidden data (GPS position, camera serial)
is dropped unless the person chose to keep the location."""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from jiefen.cases.events import new_event, write_events
from jiefen.cases.models import Attachment, Case, EventKind
from jiefen.cases.workflow import OPEN_STATES
from jiefen.core.errors import IllegalMove, InvalidInput

# Detected MIME type → stored extension. Anything else is refused.
ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "audio/mpeg": "mp3",
    "audio/x-m4a": "m4a",
    "audio/amr": "amr",
    "video/mp4": "mp4",
}
REENCODED_IMAGES = {"image/jpeg", "image/png", "image/webp"}
# A photo of more pixels than this is refused rather than decoded (decompression bombs).
MAX_IMAGE_PIXELS = 60_000_000


@dataclass(frozen=True)
class Upload:
    name: str
    stream: IO[bytes]


def _clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name.strip()[:200] or "file"


def _read_limited(stream: IO[bytes], limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"文件过大：每个文件不能超过 {limit // (1024 * 1024)} MB")
    return data


def _strip_image(data: bytes, mime: str, keep_location: bool) -> bytes:
    """Re-encode a photo without its metadata (EXIF carries the GPS position), turned upright first."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidInput("图片尺寸过大，请缩小后再上传")
            image = ImageOps.exif_transpose(probe)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InvalidInput("图片已损坏或格式不正确") from exc
    out = io.BytesIO()
    fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[mime]
    params: dict[str, Any] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if keep_location:
        with Image.open(io.BytesIO(data)) as original:
            exif = original.getexif()
        gps = exif.get_ifd(0x8825)
        if gps:
            kept = Image.Exif()
            kept[0x8825] = gps
            params["exif"] = kept.tobytes()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def add_attachment(
    *, case: Case, actor: Any, upload: Upload, by_petitioner: bool = False, keep_location: bool = False
) -> Attachment:
    """Check, clean and store one file for ``case``. Bad files are refused with a message; nothing is stored."""
    if case.status not in OPEN_STATES:
        raise IllegalMove("已结束的信访件不能再添加材料")
    if case.attachments.count() >= settings.ATTACHMENT_MAX_COUNT:
        raise InvalidInput(f"每件最多上传 {settings.ATTACHMENT_MAX_COUNT} 个文件")
    data = _read_limited(upload.stream, settings.ATTACHMENT_MAX_BYTES)
    if not data:
        raise InvalidInput("文件是空的")
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else ""
    if mime not in ALLOWED_TYPES:
        raise InvalidInput(
            "不支持的文件类型：只能上传照片（JPG、PNG、WebP、GIF）、PDF、Word、Excel、录音或视频"
        )
    if mime in REENCODED_IMAGES:
        data = _strip_image(data, mime, keep_location)
    name = _clean_name(upload.name)
    stored = f"{secrets.token_hex(16)}.{ALLOWED_TYPES[mime]}"
    with transaction.atomic():
        attachment = Attachment(
            case=case,
            original_name=name,
            content_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            uploaded_by_petitioner=by_petitioner,
        )
        attachment.file.save(stored, ContentFile(data), save=False)
        try:
            attachment.save()
            write_events(
                [
                    new_event(
                        case=case,
                        kind=EventKind.ATTACHMENT_ADDED,
                        actor=actor,
                        data={"attachment": attachment.pk, "name": name, "type": mime, "size": len(data)},
                        is_public=by_petitioner,
                    )
                ]
            )
        except Exception:
            # The row was not written: do not leave its file behind.
            attachment.file.delete(save=False)
            raise
    return attachment
