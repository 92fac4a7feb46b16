"""Reading labelled tables for training and import: CSV, TSV/TXT, XLSX and JSON lines.

``read_table`` yields one ``dict`` per row whatever the format. It copes with what real exports contain:
a UTF-8 byte-order mark or GB18030 (Excel on Chinese Windows), header cells with stray spaces, blank rows,
quote characters inside unquoted TSV fields, rows shorter than the header, and spreadsheet cells that mix
datetimes, numbers and strings (values are returned as the spreadsheet holds them; text is normalised by the
caller). ``read_labelled`` builds on it to return ``(text, label)`` pairs for ``classify.train``.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from jiefen.language.text import normalize

Row = dict[str, Any]

_ENCODINGS = ("utf-8-sig", "gb18030")


def _detect_encoding(path: Path) -> str:
    head = path.read_bytes()[: 1 << 20]
    for enc in _ENCODINGS:
        try:
            head.decode(enc)
        except UnicodeDecodeError as exc:
            # A multi-byte character may be cut at the 1 MiB boundary; only a failure before it counts.
            if exc.start < len(head) - 4:
                continue
        return enc
    return "utf-8-sig"


def _clean_header(cells: Sequence[Any]) -> list[str]:
    names = []
    for i, cell in enumerate(cells):
        name = str(cell).strip() if cell is not None else ""
        names.append(name or f"column_{i + 1}")
    return names


def _read_delimited(
    path: Path, delimiter: str, fieldnames: Sequence[str] | None, encoding: str | None
) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    enc = encoding or _detect_encoding(path)
    # TSV exports rarely quote, and a lone " inside a message must not swallow the following lines.
    with path.open(encoding=enc, newline="") as handle:
        if delimiter == "\t":
            reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(handle, delimiter=delimiter)
        header = list(fieldnames) if fieldnames else None
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = _clean_header(cells)
                continue
            yield {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header)}


def _read_xlsx(path: Path, fieldnames: Sequence[str] | None, sheet: str | int | None) -> Iterator[Row]:
    import openpyxl  # imported here: only spreadsheet users pay for it

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
            ws = workbook.worksheets[0]
        elif isinstance(sheet, int):
            ws = workbook.worksheets[sheet]
        else:
            ws = workbook[sheet]
        header = list(fieldnames) if fieldnames else None
        for cells in ws.iter_rows(values_only=True):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if header is None:
                header = _clean_header(cells)
                continue
            yield {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header)}
    finally:
        workbook.close()


def _read_jsonl(path: Path, encoding: str | None) -> Iterator[Row]:
    with path.open(encoding=encoding or _detect_encoding(path)) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            value = json.loads(line)
            if not isinstance(value, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object per line")
            yield value


def read_table(
    path: str | Path,
    *,
    fieldnames: Sequence[str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> Iterator[Row]:
    """Yield the rows of a table file as dicts keyed by header name.

    The format follows the extension: ``.csv``; ``.tsv``/``.txt`` (tab-separated); ``.xlsx``/``.xlsm``;
    ``.jsonl``/``.ndjson``. For files without a header row pass ``fieldnames``; the first row is then data.
    Raises ``ValueError`` for an unknown extension.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_delimited(path, ",", fieldnames, encoding)
    if suffix in {".tsv", ".txt", ".tab"}:
        return _read_delimited(path, "\t", fieldnames, encoding)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path, fieldnames, sheet)
    if suffix in {".jsonl", ".ndjson"}:
        return _read_jsonl(path, encoding)
    raise ValueError(f"unsupported table format {suffix!r} for {path.name}: use csv, tsv, txt, xlsx or jsonl")


def cell_text(value: Any) -> str:
    """A cell as normalised text: ``None`` → ``""``, ``12.0`` → ``"12"``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize(str(value))


def read_labelled(
    path: str | Path,
    *,
    text_column: str | Sequence[str],
    label_column: str,
    fieldnames: Sequence[str] | None = None,
    sheet: str | int | None = None,
) -> list[tuple[str, str]]:
    """``(text, label)`` pairs from a table, skipping rows whose text or label is empty.

    ``text_column`` may name several columns (e.g. ``["留言主题", "留言详情"]``); their non-empty values are
    joined with a newline-free space so title and body read as one text.
    """
    columns = [text_column] if isinstance(text_column, str) else list(text_column)
    pairs: list[tuple[str, str]] = []
    for row in read_table(path, fieldnames=fieldnames, sheet=sheet):
        missing = [c for c in [*columns, label_column] if c not in row]
        if missing:
            raise KeyError(f"{Path(path).name}: no column {missing[0]!r}; columns are {sorted(row)}")
        text = normalize(" ".join(t for t in (cell_text(row[c]) for c in columns) if t))
        label = cell_text(row[label_column])
        if text and label:
            pairs.append((text, label))
    return pairs
