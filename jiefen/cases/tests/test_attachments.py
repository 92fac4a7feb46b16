"""Uploads: checked by content, limited, photos stripped of their GPS position, nothing stored on refusal."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from jiefen.cases.attachments import Upload, add_attachment
from jiefen.cases.models import Attachment, EventKind
from jiefen.core.errors import IllegalMove, InvalidInput

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 26.0), 3: "E", 4: (116.0, 11.0, 5.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg") -> Upload:
    return Upload(name=name, stream=io.BytesIO(data))


def stored_exif(attachment: Attachment) -> Image.Exif:
    with attachment.file.open("rb") as fh, Image.open(fh) as image:
        return image.getexif()


def test_a_photo_is_stored_without_its_gps_position(make_case: Any, clerk: Any) -> None:
    case = make_case()
    assert Image.open(io.BytesIO(jpeg_with_gps())).getexif().get_ifd(GPS_IFD)
    attachment = add_attachment(
        case=case, actor=clerk, upload=upload(jpeg_with_gps(), "../../etc/现场照片.jpg")
    )
    assert attachment.content_type == "image/jpeg"
    assert attachment.original_name == "现场照片.jpg"
    assert not attachment.file.name.endswith("现场照片.jpg")
    exif = stored_exif(attachment)
    assert not exif.get_ifd(GPS_IFD)
    assert 0x010F not in exif
    assert case.events.filter(kind=EventKind.ATTACHMENT_ADDED).count() == 1


def test_the_person_may_keep_the_location(make_case: Any, clerk: Any) -> None:
    attachment = add_attachment(
        case=make_case(), actor=clerk, upload=upload(jpeg_with_gps()), keep_location=True
    )
    gps = stored_exif(attachment).get_ifd(GPS_IFD)
    assert gps[1] == "N" and gps[3] == "E"


def test_a_pdf_is_kept_as_it_is(make_case: Any, clerk: Any) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    attachment = add_attachment(case=make_case(), actor=clerk, upload=upload(pdf, "材料.pdf"))
    assert attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as fh:
        assert fh.read() == pdf


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "photo.jpg", "不支持的文件类型"),
        (b"<html><script>alert(1)</script></html>", "note.pdf", "不支持的文件类型"),
        (b"", "empty.jpg", "文件是空的"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "broken.jpg", "图片已损坏"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    make_case: Any, clerk: Any, tmp_path: Path, data: bytes, name: str, message: str
) -> None:
    case = make_case()
    with pytest.raises(InvalidInput, match=message):
        add_attachment(case=case, actor=clerk, upload=upload(data, name))
    assert Attachment.objects.count() == 0
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_size_and_count_are_limited(make_case: Any, clerk: Any, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 2048
    settings.ATTACHMENT_MAX_COUNT = 1
    case = make_case()
    with pytest.raises(InvalidInput, match="文件过大"):
        add_attachment(case=case, actor=clerk, upload=upload(b"%PDF-1.4\n" + b"0" * 4096, "big.pdf"))
    add_attachment(case=case, actor=clerk, upload=upload(b"%PDF-1.4\n%%EOF\n", "a.pdf"))
    with pytest.raises(InvalidInput, match="最多上传 1 个"):
        add_attachment(case=case, actor=clerk, upload=upload(b"%PDF-1.4\n%%EOF\n", "b.pdf"))
    assert Attachment.objects.count() == 1


def test_a_decompression_bomb_is_refused(make_case: Any, clerk: Any) -> None:
    out = io.BytesIO()
    Image.new("1", (10000, 10000)).save(out, format="PNG")
    with pytest.raises(InvalidInput, match="图片尺寸过大"):
        add_attachment(case=make_case(), actor=clerk, upload=upload(out.getvalue(), "bomb.png"))


def test_a_closed_case_takes_no_more_material(make_case: Any, clerk: Any, dispatcher: Any) -> None:
    from jiefen.cases.services import answer_now

    case = make_case(case_type="consult")
    answer_now(case=case, actor=dispatcher, answer="已答复")
    case.refresh_from_db()
    with pytest.raises(IllegalMove):
        add_attachment(case=case, actor=clerk, upload=upload(b"%PDF-1.4\n%%EOF\n", "a.pdf"))
