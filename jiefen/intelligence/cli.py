"""``jiefen train``, ``jiefen classify``, ``jiefen similar``, ``jiefen reindex`` (wired into jiefen/cli.py)."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any


def add_commands(add: Any) -> None:
    """Register the subcommands with the ``add(name, handler, help)`` helper of ``jiefen.cli``."""
    t = add("train", cmd_train, "train the category classifier on a labelled file or the office's own cases")
    t.add_argument("--input", help="labelled file: CSV, TSV, XLSX or JSON lines (by extension)")
    t.add_argument("--text-column", help="text column(s), comma-separated (e.g. 留言主题,留言详情)")
    t.add_argument("--label-column", help="label column")
    t.add_argument("--from-db", action="store_true", help="train on the office's settled and corrected cases")
    t.add_argument(
        "--model",
        help="write the model to this file instead of the office's model directory "
        "(then it is not activated)",
    )
    t.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    c = add("classify", cmd_classify, "add predicted and score columns to a file of texts")
    c.add_argument("--model", help="a model file (default: the office's active model, else keyword rules)")
    c.add_argument("--input", required=True)
    c.add_argument("--text-column", required=True)
    c.add_argument("--output", required=True, help="CSV to write (- for stdout)")
    s = add("similar", cmd_similar, "list the cases most related to one case as CSV")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--external-id", help="the case's id in the system it was imported from")
    which.add_argument("--case", help="the case's receipt number")
    s.add_argument("--top", type=int, default=10)
    s.add_argument("--output", default="-", help="CSV to write (- for stdout)")
    r = add("reindex", cmd_reindex, "rebuild the similar-case index from the database")
    r.add_argument("--keep-vectorizer", action="store_true", help="reuse the active vectoriser (no refit)")
    r.add_argument(
        "--compact",
        action="store_true",
        help="only add the cases the index lacks and merge its append log (partitioned anew if it has outgrown "
        "its cells), as the hourly job does",
    )


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_train(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.core.errors import DomainError
    from jiefen.intelligence import services

    try:
        if args.from_db:
            texts, labels = services.training_data_from_db()
            source = "database"
        elif args.input and args.text_column and args.label_column:
            texts, labels = services.read_training_file(args.input, args.text_column, args.label_column)
            source = Path(args.input).name
        else:
            return _error("give --input F --text-column C --label-column L, or --from-db")
        if len(set(labels)) < 2:
            return _error(
                f"training needs at least two labels; found {len(set(labels))} in {len(texts)} rows"
            )
        trained = services.train_classifier(
            texts=texts,
            labels=labels,
            source=source,
            output=Path(args.model) if args.model else None,
            evaluate=not args.no_eval,
        )
    except (DomainError, KeyError, ValueError, OSError) as exc:
        return _error(getattr(exc, "message", None) or str(exc))
    metrics = trained.model.metrics
    version = f"version {trained.version.version} (active)" if trained.version else "not activated"
    shown = ", ".join(f"{k} {metrics[k]}" for k in ("accuracy", "macro_f1") if k in metrics)
    print(
        f"trained on {len(texts)} texts, {len(trained.model.labels)} labels; {shown or 'no evaluation'}; "
        f"{version}; written to {trained.path}"
    )
    return 0


def _open_output(name: str) -> Any:
    return sys.stdout if name == "-" else open(name, "w", encoding="utf-8-sig", newline="")


def cmd_classify(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.core.errors import DomainError
    from jiefen.intelligence import engine, services
    from jiefen.language.classify import Model

    try:
        if args.model:
            model: Any = Model.load(args.model)
        else:
            active = engine.classifier()
            model = active.obj if active else engine.keyword_model()
        rows = services.read_rows(args.input)
        handle = _open_output(args.output)
        count = 0
        try:
            writer = None
            for row in services.classify_rows(rows=rows, text_column=args.text_column, model=model):
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(row), extrasaction="ignore")
                    writer.writeheader()
                writer.writerow(row)
                count += 1
        finally:
            if handle is not sys.stdout:
                handle.close()
    except (DomainError, ValueError, OSError) as exc:
        return _error(getattr(exc, "message", None) or str(exc))
    if args.output != "-":
        print(f"classified {count} rows into {args.output}")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.core.errors import DomainError
    from jiefen.intelligence import queries

    try:
        case = queries.find_case(external_id=args.external_id, receipt_number=args.case)
        related = queries.related_cases(case, top=max(1, args.top))
    except DomainError as exc:
        return _error(exc.message)
    handle = _open_output(args.output)
    try:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "receipt_number", "score", "reason"])
        for r in related:
            writer.writerow([r.external_id, r.receipt_number, f"{r.score:.4f}", r.reason])
    finally:
        if handle is not sys.stdout:
            handle.close()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from jiefen.cli import _setup

    _setup()
    from jiefen.core.errors import DomainError
    from jiefen.intelligence import services

    if args.compact:
        added = services.catch_up_index()
        print(f"index caught up: {added} cases added; compacted: {services.compact_index()} cases")
        return 0
    try:
        result = services.reindex(refit=not args.keep_vectorizer)
    except DomainError as exc:
        return _error(exc.message)
    print(
        f"indexed {result.cases} cases with vectoriser version {result.vectorizer.version} in {result.directory}"
    )
    return 0
