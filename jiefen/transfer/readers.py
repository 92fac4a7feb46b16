"""Rows of a file as dicts keyed by its header, chosen by extension: .csv, .tsv, .xlsx, .jsonl/.ndjson.

Plain Python, no Django. CSV/TSV may be UTF-8 (with or without BOM) or GB18030, as Chinese office software
writes them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUPPORTED = (".csv", ".tsv", ".xlsx", ".jsonl", ".ndjson")


class UnreadableFile(ValueError):
    pass


def kind_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableFile(f"不支持的文件类型“{suffix or '无扩展名'}”：请使用 CSV、TSV、XLSX 或 JSON Lines")
    return suffix


Row = tuple[int, dict[str, Any]]


def read_rows(path: str | Path) -> Iterator[Row]:
    """Each data row as (its row or line number in the file, its values by header name); blank rows are
    skipped."""
    suffix = kind_of(path)
    if suffix in (".csv", ".tsv"):
        yield from _delimited(Path(path), "\t" if suffix == ".tsv" else ",")
    elif suffix == ".xlsx":
        yield from _xlsx(Path(path))
    else:
        yield from _jsonl(Path(path))


def _text_stream(path: Path) -> io.TextIOBase:
    with path.open("rb") as probe:
        head = probe.read(65536)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the probe is not an error.
            if encoding == "utf-8-sig" and exc.start >= len(head) - 4:
                break
            continue
        break
    else:
        raise UnreadableFile("文件编码无法识别：请保存为 UTF-8 或 GB18030")
    return open(path, encoding=encoding, newline="")


def _delimited(path: Path, delimiter: str) -> Iterator[Row]:
    stream = _text_stream(path)
    with stream:
        csv.field_size_limit(10_000_000)
        reader = csv.reader(stream, delimiter=delimiter)
        header = [h.strip() for h in next(reader, [])]
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, dict(zip(header, values, strict=False))


def count_rows(path: str | Path) -> int | None:
    """How many data rows the file has, cheaply, for a progress bar; None when unknown."""
    suffix = kind_of(path)
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            rows = book.worksheets[0].max_row
        finally:
            book.close()
        return max(0, rows - 1) if rows else None
    with open(path, "rb") as stream:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    return lines if suffix in (".jsonl", ".ndjson") else max(0, lines - 1)


def _xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"无法读取 Excel 文件：{exc}") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for number, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))
    finally:
        book.close()


def _jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"不是有效的 JSON：{exc.msg}"}
                continue
            yield number, row if isinstance(row, dict) else {"__error__": "不是 JSON 对象"}
