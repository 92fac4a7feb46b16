"""Reads: related cases of a case (for ``jiefen similar``, the API and the case page), model versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import QuerySet
from scipy import sparse

from jiefen.cases.models import Case, MatterStatus
from jiefen.core.errors import InvalidInput
from jiefen.intelligence import engine
from jiefen.intelligence.enrich import (
    KIND_LABELS,
    place_keys,
    shared_phrases,
    shares_place,
    text_overlap,
)
from jiefen.intelligence.models import Correction, ModelVersion
from jiefen.language.text import case_text

# Candidates fetched from the index and re-ranked on their full texts.
CANDIDATES = 200
TITLE_WEIGHT = 0.3
PLACE_BONUS = 0.1
# Cases this close (vector cosine and shared 4-grams) are copies of one submission: listed together, counted once.
COPY_SCORE = 0.95
COPY_OVERLAP = 0.8


@dataclass
class Related:
    case_id: int
    external_id: str
    receipt_number: str
    score: float
    reason: str
    kind: str
    copy_of: int | None = None  # a listed case this one is a copy of


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)


def find_case(
    *, external_id: str | None = None, receipt_number: str | None = None, cases: QuerySet[Case] | None = None
) -> Case:
    scope = cases if cases is not None else Case.objects.all()
    if receipt_number:
        found = scope.filter(receipt_number=receipt_number).first()
    elif external_id:
        found = scope.filter(external_id=external_id).order_by("pk").first()
    else:
        raise InvalidInput("请给出外部编号或受理编号")
    if found is None:
        raise InvalidInput(f"没有信访件 {receipt_number or external_id}")
    return found


def related_cases(case: Case, top: int = 10, *, cases: QuerySet[Case] | None = None) -> list[Related]:
    """The ``top`` cases most related to ``case``, best first, each with its reason.

    Candidates come from the shared index; they are re-ranked by char n-gram TF-IDF cosine of the full text
    and of the title, plus a bonus for naming the same specific place (compound, school, company …).
    Near-identical copies (vector cosine ≥ ``COPY_SCORE``) are one submission: copies of a listed case follow it
    and do not use up ``top``; copies of ``case`` itself come first. ``cases`` limits what may be listed (the
    user's visible cases)."""
    index, vec = engine.index(), engine.vectorizer()
    if index is None or vec is None:
        raise InvalidInput("相似检索索引尚未建立：请先运行 jiefen reindex")
    text = case_text(case.title, case.content)
    vector = vec.obj.transform([text])[0]
    hit_ids = [h.case_id for h in index.search(vector, CANDIDATES + 1) if h.case_id != case.pk]
    scope = cases if cases is not None else Case.objects.all()
    rows = {
        c.pk: c
        for c in scope.filter(pk__in=hit_ids)
        .select_related("matter")
        .only(
            "pk",
            "title",
            "content",
            "external_id",
            "receipt_number",
            "petitioner_id",
            "enrichment",
            "matter__status",
        )
    }
    ordered = [pk for pk in hit_ids if pk in rows]
    if not ordered:
        return []
    texts = [case_text(rows[pk].title, rows[pk].content) for pk in ordered]
    tfidf = vec.obj.tfidf
    full = _unit_rows(tfidf.transform([text, *texts]))
    titles = _unit_rows(tfidf.transform([case.title] + [rows[pk].title for pk in ordered]))
    full_cos = (full[1:] @ full[0].T).toarray().ravel()
    title_cos = (titles[1:] @ titles[0].T).toarray().ravel()
    own_places = place_keys((case.enrichment or {}).get("extraction"))
    shared = [
        shares_place(own_places, place_keys((rows[pk].enrichment or {}).get("extraction"))) for pk in ordered
    ]
    scores = (
        (1 - TITLE_WEIGHT) * full_cos
        + TITLE_WEIGHT * title_cos
        + PLACE_BONUS * np.array([bool(s) for s in shared], dtype=np.float32)
    )
    order = np.argsort(-scores, kind="stable")
    vectors = vec.obj.transform(texts)
    copies_of_case: list[int] = []
    groups: list[list[int]] = []

    def copies(a: np.ndarray, a_text: str, i: int) -> bool:
        return float(vectors[i] @ a) >= COPY_SCORE and text_overlap(a_text, texts[i]) >= COPY_OVERLAP

    for i in order:
        if copies(vector, text, int(i)):
            copies_of_case.append(int(i))
            continue
        for group in groups:
            if copies(vectors[group[0]], texts[group[0]], int(i)):
                group.append(int(i))
                break
        else:
            if len(groups) < top:
                groups.append([int(i)])
    listed: list[tuple[int, int | None]] = [(i, None) for i in copies_of_case]
    for group in groups:
        listed += [(group[0], None)] + [(i, group[0]) for i in group[1:]]
    out = []
    for i, head in listed:
        other = rows[ordered[i]]
        same_person = bool(case.petitioner_id) and other.petitioner_id == case.petitioner_id
        final = other.matter is not None and other.matter.status == MatterStatus.FINAL
        if i in copies_of_case:
            kind = "near_duplicate"
        elif final:
            kind = "final_matter"
        elif same_person:
            kind = "same_person"
        elif shared[i]:
            kind = "same_problem_same_place"
        else:
            kind = "related"
        parts = [KIND_LABELS.get(kind, "内容相近")]
        if head is not None:
            parts.append(f"与 {rows[ordered[head]].receipt_number} 内容相同")
        if shared[i]:
            parts.append("同一地点：" + "、".join(shared[i]))
        phrases = shared_phrases(text, texts[i])
        if phrases:
            parts.append("共同内容：" + "、".join(phrases))
        out.append(
            Related(
                case_id=other.pk,
                external_id=other.external_id,
                receipt_number=other.receipt_number,
                score=round(float(scores[i]), 4),
                reason="；".join(parts),
                kind=kind,
                copy_of=rows[ordered[head]].pk if head is not None else None,
            )
        )
    return out


def model_versions(kind: str | None = None) -> QuerySet[ModelVersion]:
    rows = ModelVersion.objects.all()
    return rows.filter(kind=kind) if kind else rows


def corrections_of(case: Case) -> QuerySet[Correction]:
    return Correction.objects.filter(case=case).select_related("previous", "suggested", "category", "actor")


def as_dicts(related: list[Related]) -> list[dict[str, Any]]:
    return [r.__dict__ for r in related]
