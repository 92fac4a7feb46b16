"""The intake enricher: classification, extraction, related cases and risk for a case about to be saved.

It runs inside the registering transaction, before the case row exists (``case.pk`` is None), so it reads
only the case's own fields and a few indexed rows; the new case's vector is appended to the shared index once
the registration has committed. Every part carries its explanation, stored in ``Case.enrichment`` under
``classification``, ``extraction``, ``similar`` and ``risk``. A failure of any part is logged and leaves that
part out: enrichment never blocks a registration.
"""

from __future__ import annotations

import functools
import json
import logging
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection
from django.db.models.fields.json import KT
from django.utils import timezone

from jiefen.cases.intake import Intake
from jiefen.cases.models import Case, Category, Channel, MatterStatus, Urgency
from jiefen.cases.services.enrichment import after_commit, in_bulk_session, session_memo
from jiefen.intelligence import ahead, engine
from jiefen.language import risk as risk_mod
from jiefen.language.reading import Reading, nearest, read
from jiefen.language.similar import char_grams, common_runs
from jiefen.language.text import case_text, model_text

log = logging.getLogger(__name__)

# A suggestion at least this likely is set as the category of a case registered without one.
APPLY_SCORE = 0.6
SEARCH_K = 20
SAME_PROBLEM_SCORE = 0.55
DUPLICATE_SCORE = 0.92
DUPLICATE_MINUTES = 30
DUPLICATE_OVERLAP = 0.8
# Related cases shown per case, best first.
SHOWN = 10

# Risk urgency (language.risk) → the case's urgency choices. "priority" (a medium flag: a group, a repeat)
# stays normal: it is flagged for the clerk, but only high and critical flags move a case up the queue.
RISK_URGENCY = {
    "normal": Urgency.NORMAL,
    "priority": Urgency.NORMAL,
    "urgent": Urgency.URGENT,
    "emergency": Urgency.CRITICAL,
}
_URGENCY_ORDER = [Urgency.NORMAL, Urgency.URGENT, Urgency.CRITICAL]

RISK_LABELS = {
    "self_harm": "自伤自残言语",
    "violence": "暴力威胁言语",
    "escalation": "扬言进京或越级上访",
    "group": "群体性",
    "vulnerable": "涉及困难群体",
    "repeat": "重复信访",
    "wage_arrears_festival": "春节前后欠薪",
    "emergency": "需立即处置的紧急情况",
}
KIND_LABELS = {
    "near_duplicate": "重复提交",
    "same_person": "同一信访人重复信访",
    "same_problem_same_place": "同一地点同一问题（联名/热点）",
    "final_matter": "相同事实已复核终结",
}
_PREFIX = re.compile(r"^(?:[A-Z]\d{0,2}[市区县省]|[\u4e00-\u9fff]{2,3}省|来自)+")


def place_key(name: str) -> str:
    """A place or organisation name without the district prefix ("A5区魅力之城小区" → "魅力之城小区")."""
    return _PREFIX.sub("", str(name))


def place_keys(extraction: Any) -> set[str]:
    """The specific place keys of a stored ``extraction`` entry (4 characters or more)."""
    if not isinstance(extraction, dict):
        return set()
    names = list(extraction.get("specific_places") or [])
    return {k for k in (place_key(n) for n in names) if len(k) >= 4}


def shares_place(a: set[str], b: set[str]) -> list[str]:
    return sorted({x if len(x) <= len(y) else y for x in a for y in b if x in y or y in x}, key=len)


def text_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the texts' character 4-gram sets: near 1 for the same text sent twice."""
    ga, gb = char_grams(a), char_grams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else float(model_text(a) == model_text(b))


# A shared phrase is shown up to this many characters: a reader recognises the problem from its start, and two
# copies of one message share all of it.
PHRASE_CHARS = 24


def shared_phrases(query: str, candidate: str, limit: int = 3) -> list[str]:
    """Maximal phrases (≥ 4 characters) both texts contain, longest first, each cut to ``PHRASE_CHARS``."""
    longest = sorted(dict.fromkeys(common_runs(query, candidate)), key=len, reverse=True)[:limit]
    return [p if len(p) <= PHRASE_CHARS else p[: PHRASE_CHARS - 1] + "…" for p in longest]


# --- the parts ------------------------------------------------------------------------------------------------


def category_for(label: str, categories: dict[str, Category] | None = None) -> Category | None:
    """The category a predicted label names: by code, full name ("a › b"), path ("a/b") or unique name."""
    return (categories if categories is not None else engine.categories()).get(label)


def _classifications(suggestions: Sequence[Sequence[Any]], trained: int | None) -> list[dict[str, Any]]:
    """The classification entry of each text from its top suggestions (``trained``: the classifier's
    version, None for the keyword rules): the best category, the alternatives and the words behind it."""
    model = f"v{trained}" if trained is not None else "keywords"
    categories = engine.categories()
    return [_classification(top, model, categories, trained is not None) for top in suggestions]


def _classification(
    suggestions: Sequence[Any], model: str, categories: dict[str, Category], trained: bool
) -> dict[str, Any]:
    if not suggestions:
        return {}
    top = []
    for s in suggestions:
        category = category_for(s.label, categories)
        top.append(
            {
                "label": category.full_name if category else s.label,
                "category_id": category.pk if category else None,
                "score": s.score,
                "words": list(s.words),
            }
        )
    best = top[0]
    words = "、".join(best["words"])
    reason = f"依据词语：{words}" if words and trained else f"匹配分类名称或关键词：{words}" if words else ""
    return {
        "category": best["label"],
        "category_id": best["category_id"],
        "score": best["score"],
        "alternatives": [f"{t['label']}（{t['score']:.2f}）" for t in top[1:]],
        "model": model,
        "reasons": [r for r in [reason] if r],
    }


# A search hit scoring below this cannot be any kind of related case (the lowest threshold is the same
# person's: half of ``SAME_PROBLEM_SCORE``), so it is not looked up.
MIN_RELATED_SCORE = SAME_PROBLEM_SCORE / 2
_META_FIELDS = (
    "pk",
    "receipt_number",
    "petitioner_id",
    "received_at",
    "matter_id",
    "matter__status",
    "matter__title",
)


@dataclass
class _Candidate:
    pk: int
    score: float
    kind: str
    meta: dict[str, Any]
    minutes: float  # how far apart in time (infinite below DUPLICATE_SCORE: not looked at)
    same_person: bool
    shared: list[str]
    final: bool


def related_many(
    cases: Sequence[Case],
    texts: Sequence[str],
    vectors: np.ndarray,
    places: Sequence[set[str]],
    searched: Sequence[Sequence[tuple[int, float]]] | None,
    *,
    made_ahead: Reading | None = None,
) -> list[dict[str, Any]]:
    """Repeats and related cases for each new case: (a) the same person's earlier cases on the problem,
    (b) other people's cases on the problem at the same place, (c) cases on the same facts already final
    after 复核 — and a double submission within minutes. ``searched``: each case's nearest indexed cases
    (``SEARCH_K``), searched ``made_ahead`` of the batch before (whose cases are added here). For the whole
    batch: the people's earlier cases, the candidates' details, and the texts of those that qualify."""
    hits: list[dict[int, float]] = [{} for _ in cases]
    for found, row_hits in zip(hits, searched or [[] for _ in cases], strict=True):
        found.update((case_id, score) for case_id, score in row_hits if score >= MIN_RELATED_SCORE)
    if made_ahead is not None:
        _recent_mates(made_ahead, hits)
    person_cases = _latest_cases({c.petitioner_id for c in cases if c.petitioner_id})
    # Saved cases (the background analysis) relate only to earlier ones; their batch-mates are in the database
    # but not yet in the index, so they are compared here.
    _batch_mates(cases, vectors, hits)
    mine = [
        [pk for pk in person_cases.get(c.petitioner_id or 0, []) if c.pk is None or pk < c.pk] for c in cases
    ]
    unscored = [[pk for pk in person if pk not in found] for person, found in zip(mine, hits, strict=True)]
    texts_of = _texts({pk for pks in unscored for pk in pks})
    vec = engine.vectorizer()
    for found, missing, vector in zip(hits, unscored, vectors, strict=True):
        missing = [pk for pk in missing if pk in texts_of]
        if missing and vec is not None:
            scores = vec.obj.transform([texts_of[pk] for pk in missing]) @ vector
            found.update({pk: round(float(s), 4) for pk, s in zip(missing, scores, strict=True)})
    for found, own_cases in zip(hits, mine, strict=True):  # below SAME_PROBLEM_SCORE only the person's own
        for pk in [pk for pk, score in found.items() if score < SAME_PROBLEM_SCORE and pk not in own_cases]:
            del found[pk]
    wanted = set().union(*hits)
    if not wanted:
        return [{} for _ in cases]
    meta = _details(wanted)
    chosen = [
        _candidates(case, case_places, found, meta)
        for case, case_places, found in zip(cases, places, hits, strict=True)
    ]
    texts_of.update(_texts({c.pk for found in chosen for c in found} - set(texts_of)))
    return [_related(text, found, texts_of) for text, found in zip(texts, chosen, strict=True)]


# How many of a person's latest cases are compared with their new one (a hotline's frequent callers have
# thousands).
PERSON_CASES = 20


def _latest_cases(people: set[int]) -> dict[int, list[int]]:
    """Each person's latest ``PERSON_CASES`` case ids, newest first: only those rows leave the database.
    (Written out: the ORM's compilation of a filtered window costs more than the query itself, on every
    registration.)"""
    if not people:
        return {}
    quote = connection.ops.quote_name
    person, pk = quote(Case._meta.get_field("petitioner").column), quote(Case._meta.pk.column)  # type: ignore[union-attr]
    placeholders = ", ".join(["%s"] * len(people))
    latest: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        # Names come from the model; values go as parameters.
        cursor.execute(
            f"SELECT {person}, {pk} FROM (SELECT {person}, {pk}, "  # noqa: S608 - fixed names
            f"ROW_NUMBER() OVER (PARTITION BY {person} ORDER BY {pk} DESC) AS newest "
            f"FROM {quote(Case._meta.db_table)} WHERE {person} IN ({placeholders})) AS ranked "
            f"WHERE newest <= %s ORDER BY {person}, {pk} DESC",
            [*people, PERSON_CASES],
        )
        for person_id, case_id in cursor.fetchall():
            latest.setdefault(person_id, []).append(case_id)
    return latest


def _batch_mates(cases: Sequence[Case], vectors: np.ndarray, hits: list[dict[int, float]]) -> None:
    """Add to each saved case's hits its earlier batch-mates that score high enough (and drop later cases
    and the case itself, which a search may return)."""
    if not cases or any(c.pk is None for c in cases):
        return
    pks = np.array([c.pk for c in cases], dtype=np.int64)
    scores = vectors @ vectors.T
    for i, found in enumerate(hits):
        for pk in [pk for pk in found if pk >= pks[i]]:
            del found[pk]
        for j in np.flatnonzero((pks < pks[i]) & (scores[i] >= MIN_RELATED_SCORE)).tolist():
            found[int(pks[j])] = round(float(scores[i, j]), 4)


def _recent_mates(reading: Reading, hits: list[dict[int, float]]) -> None:
    """Add to each case's hits the cases of the import's batch before (indexed after the search made ahead
    of it), keeping the best ``SEARCH_K`` as a search of the whole index would. The reader compared the two
    batches' texts already (``Reading.recent``) where it read that batch too; else they are compared here."""
    recent = session_memo("related.recent").get("batch")
    if recent is None:
        return
    number, cases_at, pks, recent_vectors = recent
    if reading.recent is not None and number is not None and reading.recent_of == number:
        mates = [[(pk, score) for p, score in row for pk in cases_at.get(p, ())] for row in reading.recent]
    else:
        top = nearest(reading.vectors, recent_vectors, SEARCH_K, MIN_RELATED_SCORE)  # type: ignore[arg-type]
        mates = [[(int(pks[p]), score) for p, score in row] for row in top]
    for found, row in zip(hits, mates, strict=True):
        found.update(row)
        if len(found) > SEARCH_K:
            best = sorted(found.items(), key=lambda kv: -kv[1])[:SEARCH_K]
            found.clear()
            found.update(best)


def _details(pks: set[int]) -> dict[int, dict[str, Any]]:
    """The candidates' details (``_META_FIELDS``, their place keys and time received in seconds), by id:
    those an import already looked up in an earlier batch from its memo, the rest in one query."""
    memo = session_memo("related.details")
    missing = pks - memo.keys()
    if missing:
        for row in (
            Case.objects.filter(pk__in=missing)
            .annotate(other_places=KT("enrichment__extraction__specific_places"))
            .values(*_META_FIELDS, "other_places")
        ):
            row["place_keys"] = _place_keys_of(row.pop("other_places"))
            row["received_ts"] = row["received_at"].timestamp()
            memo[row["pk"]] = row
    return memo


def _texts(pks: set[int]) -> dict[int, str]:
    """The texts of the cases ``pks`` (an import's memo first, like ``_details``)."""
    memo = session_memo("related.texts")
    missing = pks - memo.keys()
    if missing:
        memo.update(
            (pk, case_text(t, c))
            for pk, t, c in Case.objects.filter(pk__in=missing).values_list("pk", "title", "content")
        )
    return {pk: memo[pk] for pk in pks if pk in memo}


def _candidates(
    case: Case, places: set[str], hits: dict[int, float], meta: dict[int, dict[str, Any]]
) -> list[_Candidate]:
    """The hits that may be related, with their kind as far as it is known without the texts (a possible
    double submission is confirmed by ``_related`` comparing the texts)."""
    received = (case.received_at or timezone.now()).timestamp()
    person = case.petitioner_id
    final_status = MatterStatus.FINAL.value
    chosen: list[_Candidate] = []
    certain = 0
    for pk, score in sorted(hits.items(), key=operator.itemgetter(1), reverse=True):
        other = meta.get(pk)
        if other is None:
            continue
        same_person = bool(person) and other["petitioner_id"] == person
        # (a shared place counts from SAME_PROBLEM_SCORE up (and for a possible double submission), and is
        # evidence for the person's own cases; below, another person's case is no kind of related case,
        # wherever it is: most hits, whose places are not compared)
        places_count = score >= min(SAME_PROBLEM_SCORE, DUPLICATE_SCORE) or same_person
        shared = (
            shares_place(places, other["place_keys"])
            if places_count and places and other["place_keys"]
            else []
        )
        final = other["matter__status"] == final_status
        if final and score >= SAME_PROBLEM_SCORE and (same_person or shared):
            kind = "final_matter"
        elif same_person and score >= SAME_PROBLEM_SCORE / 2:
            kind = "same_person"
        elif score >= SAME_PROBLEM_SCORE and shared:
            kind = "same_problem_same_place"
        else:
            kind = ""
        # (how far apart in time matters only for a possible double submission)
        minutes = abs(received - other["received_ts"]) / 60 if score >= DUPLICATE_SCORE else float("inf")
        duplicate = minutes <= DUPLICATE_MINUTES and (same_person or not person)
        if kind or duplicate:
            chosen.append(
                _Candidate(
                    pk,
                    score,
                    "maybe_duplicate" if duplicate else kind,
                    other,
                    minutes,
                    same_person,
                    shared,
                    final,
                )
            )
            # ``_related`` shows the first SHOWN; only a possible duplicate may still drop out there.
            certain += not duplicate
            if certain == SHOWN:
                break
    return chosen


def _related(text: str, chosen: Sequence[_Candidate], texts_of: dict[int, str]) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    for c in chosen:
        other_text = texts_of.get(c.pk, "")
        kind = c.kind
        if kind == "maybe_duplicate":
            if text_overlap(text, other_text) >= DUPLICATE_OVERLAP:
                kind = "near_duplicate"
            elif c.final and c.score >= SAME_PROBLEM_SCORE and (c.same_person or c.shared):
                kind = "final_matter"
            elif c.same_person:
                kind = "same_person"
            elif c.shared:
                kind = "same_problem_same_place"
            else:
                continue
        evidence = []
        if kind == "near_duplicate":
            evidence.append(f"{int(c.minutes)}分钟内内容几乎相同")
        if c.same_person:
            evidence.append("同一信访人")
        if c.shared:
            evidence.append("同一地点：" + "、".join(c.shared))
        phrases = shared_phrases(text, other_text)
        if phrases:
            evidence.append("共同内容：" + "、".join(phrases))
        if c.final:
            evidence.append(f"事项“{c.meta['matter__title']}”已复核终结")
        found.append(
            {
                "label": c.meta["receipt_number"],
                "case_id": c.pk,
                "matter_id": c.meta["matter_id"],
                "kind": kind,
                "score": c.score,
                "evidence": evidence,
            }
        )
        if len(found) == SHOWN:
            break
    # (each case carries its own evidence: the case page shows it, and only for the cases the reader may see)
    return {"cases": found} if found else {}


def _place_keys_of(names: Any) -> set[str]:
    if isinstance(names, str):  # some backends hand a JSON key's value back as text
        try:
            names = json.loads(names)
        except ValueError:
            return set()
    return place_keys({"specific_places": names}) if isinstance(names, list) else set()


def _risk(report: risk_mod.RiskReport) -> dict[str, Any]:
    if not report.flags:
        return {}
    return {
        "level": report.level,
        "urgency": RISK_URGENCY[report.urgency],
        "flags": [f.code for f in report.flags],
        "emergency_flag": report.flag("emergency") is not None,
        "reasons": [f"{RISK_LABELS.get(f.code, f.code)}：{'、'.join(f.words)}" for f in report.flags],
    }


# --- the enricher --------------------------------------------------------------------------------------------


def language_enrichment(cases: Sequence[Case]) -> list[dict[str, Any]]:
    """An intake enricher (see ``jiefen.cases.services.intake_enrichers``), for a batch of cases: the
    classifier, the vectoriser and the index each run once per batch (``language.reading.read``, here or,
    in a bulk import, ahead in a second process)."""
    texts = [case_text(c.title, c.content) for c in cases]
    results: list[dict[str, Any]] = [{} for _ in cases]
    todo = [i for i, text in enumerate(texts) if text]
    if not todo:
        return results
    todo_texts = [texts[i] for i in todo]
    days = ahead.days_of([cases[i].received_at for i in todo])
    try:
        made_ahead = ahead.take(list(zip(todo_texts, days, strict=True)))
        reading = made_ahead or read(
            todo_texts, days, engine.models(), k=SEARCH_K, min_score=MIN_RELATED_SCORE
        )
        trained, vectorizer_version = engine.versions()
    except Exception:
        log.exception("language analysis failed")
        return results
    if reading.suggestions is not None:
        try:
            for i, found in zip(todo, _classifications(reading.suggestions, trained), strict=True):
                results[i]["classification"] = found
                case, suggested = cases[i], found.get("category_id")
                if case.category_id is None and suggested is not None and found["score"] >= APPLY_SCORE:
                    case.category_id = suggested
                    found["applied"] = True
        except Exception:
            log.exception("classification failed")
    if reading.extractions is not None:
        for i, extraction in zip(todo, reading.extractions, strict=True):
            results[i]["extraction"] = extraction
    if reading.vectors is not None and vectorizer_version is not None:
        try:
            places = [place_keys(results[i].get("extraction")) for i in todo]
            found_related = related_many(
                [cases[i] for i in todo],
                todo_texts,
                reading.vectors,
                places,
                reading.hits,
                made_ahead=made_ahead,
            )
            for i, similar in zip(todo, found_related, strict=True):
                results[i]["similar"] = similar
            _after_commit([cases[i] for i in todo], reading, vectorizer_version, found_related)
            _remember([cases[i] for i in todo], todo_texts, places)
        except Exception:
            log.exception("similar-case search failed")
    if reading.risks is not None:
        for j, i in enumerate(todo):
            try:
                case, result = cases[i], results[i]
                repeats = sum(
                    1 for f in (result.get("similar") or {}).get("cases", []) if f["kind"] == "same_person"
                )
                # (read without the person's history, which the repeat flag needs)
                result["risk"] = _risk(risk_mod.with_repeats(reading.risks[j], repeats))
                wanted = result["risk"].get("urgency")
                if wanted and _URGENCY_ORDER.index(wanted) > _URGENCY_ORDER.index(Urgency(case.urgency)):
                    case.urgency = wanted
            except Exception:
                log.exception("risk assessment failed")
    return [{key: value for key, value in result.items() if value} for result in results]


def look_ahead(intakes: Sequence[Intake]) -> None:
    """``language_enrichment``'s look-ahead in a bulk import (see ``intelligence.ahead``)."""
    ahead.look_ahead(intakes, k=SEARCH_K, min_score=MIN_RELATED_SCORE)


def _after_commit(
    cases: Sequence[Case], reading: Reading, version: int, similar: Sequence[dict[str, Any]]
) -> None:
    """Once the registration has committed (and the cases have their ids): add their vectors to the shared
    index, and merge double submissions into the earlier cases. In an import, the batch is remembered for
    the next one's ``_recent_mates``."""
    vectors = reading.vectors
    assert vectors is not None

    def add() -> None:
        index = engine.index()
        vec = engine.vectorizer()
        if index is None or vec is None or vec.version != version:
            return  # no index, or reindexed meanwhile: the new index was built from the database
        saved = [i for i, case in enumerate(cases) if case.pk is not None]
        if saved:
            pks = [cases[i].pk for i in saved]
            index.add(vectors[saved], pks)
            # (where the reader read the batch: its cases by their texts' positions in what it was given)
            cases_at: dict[int, list[int]] = {}
            if reading.positions is not None:
                for i in saved:
                    cases_at.setdefault(reading.positions[i], []).append(cases[i].pk)  # type: ignore[arg-type]
            session_memo("related.recent")["batch"] = (
                reading.number,
                cases_at,
                np.asarray(pks, dtype=np.int64),
                vectors[saved],
            )

    after_commit(add)
    for case, found in zip(cases, similar, strict=True):
        duplicate = next((f for f in found.get("cases", []) if f["kind"] == "near_duplicate"), None)
        if duplicate is not None and case.channel != Channel.IMPORT:
            after_commit(functools.partial(_merge_duplicate, case, duplicate["case_id"]))


def _remember(cases: Sequence[Case], texts: Sequence[str], places: Sequence[set[str]]) -> None:
    """In a bulk import, once the batch has committed: its cases' details and texts, for the next batches'
    ``_details`` and ``_texts`` (they are what those would read back)."""
    if not in_bulk_session():
        return

    def remember() -> None:
        details, texts_of = session_memo("related.details"), session_memo("related.texts")
        for case, text, case_places in zip(cases, texts, places, strict=True):
            matter = case.matter
            if case.pk is None or matter is None:
                continue
            details[case.pk] = {
                "pk": case.pk,
                "receipt_number": case.receipt_number,
                "petitioner_id": case.petitioner_id,
                "received_at": case.received_at,
                "matter_id": case.matter_id,
                "matter__status": matter.status,
                "matter__title": matter.title,
                "place_keys": case_places,
                "received_ts": case.received_at.timestamp(),
            }
            texts_of[case.pk] = text

    after_commit(remember)


def _merge_duplicate(case: Case, into_id: int) -> None:
    from jiefen.intelligence.services import merge_double_submission

    try:
        merge_double_submission(case_id=case.pk, into_id=into_id)
    except Exception:
        log.exception("auto-merge of case %s into %s failed", case.pk, into_id)
