"""Hotspots (热点问题): groups of messages about one problem at one place in one stretch of time.

Plain Python (numpy, scipy), no Django, so it runs on files alone. The steps:

1. **Place.** Each message gets an *anchor*: the most specific named place or organisation the extractor finds
   in its title, else in its text (a residential compound, school, company, hospital, property company,
   community), else the caller's ``place_hint`` (e.g. the case's community). Anchors are normalised (a leading
   "A市"/"A5区" and a trailing "小区" dropped) and folded onto the shortest anchor of the corpus they contain
   ("万科魅力之城" → "魅力之城", "A市经济学院体育学院" → "A市经济学院"). A message with no anchor is then
   searched for any anchor of the corpus (the corpus is its own gazetteer); still none → it joins no hotspot.
2. **Problem.** Within one anchor, messages are linked when their char 2–3-gram TF-IDF vectors (title counted
   twice, plus the start of the text) have cosine ≥ ``link_threshold``.
3. **Time.** A link also needs the two messages within ``max_gap_days`` of each other; the hotspot is a
   connected component of links, so its stretch of time has no gap longer than that.
4. Components with at least ``min_cases`` messages are hotspots; each gets a name (the anchor and its key
   phrases), its time span, counts, trend and heat (below).

Heat (热度), documented and comparable across runs::

    heat = 10 × (ln(1+N) + ln(1+P) + 0.3·ln(1+S)) × R × G
    N = messages, P = distinct people, S = support count (点赞) summed over messages
    R = 0.5 ** (age_days / recency_half_life_days), age = days from the hotspot's last message to ``until``
    G = 1 + clamp(growth, 0, 1), growth = (n_recent − n_before) / max(1, n_before) over the last two
        ``growth_window_days`` windows before ``until``

A hotspot raises an early warning (未诉先办) when it is new (its first message within ``growth_window_days`` of
``until``) and has at least ``min_cases`` messages, or when it grows (growth ≥ 1 with ≥ ``min_cases`` recent
messages).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from jiefen.language.extract import Extractor, _shorten_names
from jiefen.language.text import CharNgramTfidf, ngram_keys

_EXTRACTOR = Extractor()
ANCHOR_TYPES = ("compound", "school", "hospital", "company", "property", "community", "street")
_PREFIX_RE = re.compile(r"^(?:[A-Z]\d*[市区县]|[\u4e00-\u9fff]{1,3}[省市区县])+")
_SUFFIX_RE = re.compile(r"(?:小区|社区)$")
# Phrases that say nothing about the problem; left out of names.
_STOP = set("的了是在我们你他她它和与及或也都就还要请问为什么怎么吗呢吧啊呀有没无不这那个些")


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str
    at: datetime
    person: str = ""
    support: int = 0
    place_hint: str = ""


@dataclass
class Found:
    """One hotspot: its member ids (in time order) and what is shown about it."""

    ids: list[str]
    title: str
    key_phrases: list[str]
    place: str
    start: datetime
    end: datetime
    case_count: int
    people: int
    support: int
    heat: float
    growth: float
    trend: str
    warning: bool
    fingerprint: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Params:
    link_threshold: float = 0.08
    broad_link_threshold: float = 0.3
    max_df: float = 0.05
    ngram_max: int = 3
    max_gap_days: int = 365
    min_cases: int = 3
    recency_half_life_days: float = 90.0
    growth_window_days: int = 14
    text_chars: int = 160


# Heads the extractor takes for a name but that name no particular place ("安置小区", "公立幼儿园").
_GENERIC_HEADS = (
    "安置",
    "导致",
    "公立",
    "普惠",
    "民办",
    "私立",
    "我们",
    "我",
    "该",
    "本",
    "这",
    "那",
    "所在",
    "附近",
    "严重",
)


# A kind of place with no name ("幼儿园", "医院") is not one place.
_BARE_KINDS = frozenset(
    [
        "幼儿园",
        "学校",
        "小学",
        "中学",
        "大学",
        "学院",
        "医院",
        "卫生院",
        "公司",
        "物业",
        "物业公司",
        "社区",
        "街道",
        "小区",
        "工地",
        "商场",
        "市场",
        "银行",
        "派出所",
    ]
)


def normalise_anchor(name: str) -> str:
    name = _PREFIX_RE.sub("", name.strip())
    name = _SUFFIX_RE.sub("", name)
    if len(name) < 2 or name.startswith(_GENERIC_HEADS) or name in _BARE_KINDS:
        return ""
    return name


@functools.lru_cache(maxsize=65536)
def _anchor_of_part(part: str) -> tuple[str, str]:
    # Only the extractor's place and organisation passes: contacts, dates and quantities say nothing about
    # where, and skipping them makes a 100,000-message run several times faster.
    entities = _shorten_names(_EXTRACTOR._places(part) + _EXTRACTOR._orgs(part))
    for best in sorted(
        (e for e in entities if e.type in ANCHOR_TYPES), key=lambda e: (ANCHOR_TYPES.index(e.type), e.start)
    ):
        anchor = normalise_anchor(best.text)
        if anchor:
            return anchor, best.type
    return "", ""


def _raw_anchor(title: str, text: str) -> tuple[str, str]:
    """(anchor, its entity type) of a message, or ("", "")."""
    found = _anchor_of_part(title)
    return found if found[0] else _anchor_of_part(text[:300])


# A street (街道/镇) or a place given by the caller covers many problems: its messages must be more alike
# to be linked than those about one compound or school.
BROAD = ("street", "hint")


def anchors(docs: Sequence[Doc]) -> list[str]:
    """Each message's anchor after folding onto the corpus's shortest contained anchor ('' = none)."""
    return [a for a, _ in typed_anchors(docs)]


def typed_anchors(docs: Sequence[Doc]) -> list[tuple[str, str]]:
    """``anchors`` with the kind of each: an extractor type, or "hint" for the caller's place."""
    typed = [_raw_anchor(d.title, d.text) for d in docs]
    raw = [a for a, _ in typed]
    kind_of = {a: t for a, t in typed if a}
    seen_twice = {a for a, n in Counter(raw).items() if n >= 2 and len(a) >= 3}
    vocabulary = sorted(seen_twice, key=len)
    fold: dict[str, str] = {}
    for a in sorted(set(raw) - {""}):
        fold[a] = next((b for b in vocabulary if len(b) < len(a) and b in a), a)
    out: list[tuple[str, str]] = []
    # Longest first, so a message that names "魅力之城" is not caught by a shorter, unrelated anchor.
    search = sorted({fold[a] for a in fold if fold[a] in seen_twice}, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, search))) if search else None
    for doc, a in zip(docs, raw, strict=True):
        if a:
            out.append((fold[a], kind_of.get(fold[a], kind_of[a])))
            continue
        m = pattern.search(doc.title) or pattern.search(doc.text[:300]) if pattern else None
        if m:
            out.append((m.group(), kind_of.get(m.group(), "")))
        else:
            hint = normalise_anchor(doc.place_hint) if doc.place_hint else ""
            out.append((hint, "hint" if hint else ""))
    return out


def _text_of(doc: Doc, chars: int) -> str:
    return f"{doc.title} {doc.title} {doc.text[:chars]}"


def _components(docs: Sequence[Doc], typed: list[tuple[str, str]], params: Params) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    broad: set[str] = set()
    for i, (a, kind) in enumerate(typed):
        if a:
            groups[a].append(i)
            if kind in BROAD:
                broad.add(a)
    candidates = [i for members in groups.values() if len(members) >= params.min_cases for i in members]
    if not candidates:
        return []
    vectorizer = CharNgramTfidf(n_max=params.ngram_max, min_df=2)
    texts = [_text_of(docs[i], params.text_chars) for i in candidates]
    matrix = vectorizer.fit_transform(texts).tocsr()
    row_of = {doc_index: row for row, doc_index in enumerate(candidates)}
    # Unigrams carry little of the problem, and n-grams in most messages are boilerplate ("请尽快处理").
    keys = vectorizer.keys_
    unigram = keys < np.uint64(1 << 21)
    df = np.bincount(matrix.indices, minlength=vectorizer.n_features)
    # (In a small corpus every n-gram of a real hotspot is "common", so the rule starts at 50 messages.)
    common = df > max(50, params.max_df * len(candidates))
    times = np.array([d.at.timestamp() for d in docs])
    gap = params.max_gap_days * 86400.0
    pair_a: list[np.ndarray] = []
    pair_b: list[np.ndarray] = []
    for anchor, members in groups.items():
        if len(members) < params.min_cases:
            continue
        sub = matrix[[row_of[i] for i in members]]
        # The anchor's own n-grams would link every pair of messages about one place.
        drop = unigram | common
        _doc_index, anchor_keys = ngram_keys([anchor], 3)
        at = np.searchsorted(keys, anchor_keys)
        at = at[at < len(keys)]
        drop[at[np.isin(keys[at], anchor_keys)]] = True
        # Dense over the group's own columns: a BLAS product, many times faster than sparse × sparse.
        used = np.unique(sub.indices)
        used = used[~drop[used]]
        dense = sub[:, used].toarray()
        sims = dense @ dense.T
        norms = np.sqrt(np.clip(np.diag(sims), 1e-12, None))
        sims = sims / norms[:, None] / norms[None, :]
        t = times[members]
        close = np.abs(t[:, None] - t[None, :]) <= gap
        threshold = params.broad_link_threshold if anchor in broad else params.link_threshold
        first, second = np.nonzero(np.triu((sims >= threshold) & close, k=1))
        index = np.asarray(members)
        pair_a.append(index[first])
        pair_b.append(index[second])
    rows = np.concatenate(pair_a) if pair_a else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(pair_b) if pair_b else np.zeros(0, dtype=np.int64)
    graph = sparse.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(docs), len(docs)))
    _count, label = connected_components(graph, directed=False)
    comps: dict[int, list[int]] = defaultdict(list)
    for i in candidates:
        comps[int(label[i])].append(i)
    return [sorted(c, key=lambda i: docs[i].at) for c in comps.values() if len(c) >= params.min_cases]


_NOISE_RE = re.compile(
    r"[A-Za-z]+\d*[市区县]?|\d+|[\u4e00-\u9fff]{0,2}(?:小区|社区|街道|花园|[省市县])|[\u4e00-\u9fff]{2,3}(?:路|大道)"
)


_SEGMENT_RE = re.compile(r"[^\u4e00-\u9fff]+")


def _segments(title: str, anchor: str = "") -> list[str]:
    """The runs of Chinese characters of a title once its place names are taken out; a phrase never spans
    two runs."""
    text = _NOISE_RE.sub(" ", title.replace(anchor, " ") if anchor else title)
    return [seg for seg in _SEGMENT_RE.split(text) if len(seg) >= 2]


def _title_grams(title: str, anchor: str = "") -> set[str]:
    """The character bigrams of a title (outside place names) that may start a key phrase."""
    return {
        seg[i : i + 2]
        for seg in _segments(title, anchor)
        for i in range(len(seg) - 1)
        if seg[i] not in _STOP and seg[i + 1] not in _STOP
    }


def _grow(phrase: str, holders: list[str], max_len: int = 8, keep: float = 0.8) -> str:
    """Extend ``phrase`` a character at a time, left or right, while most of the segments holding it agree on
    the next character ("油烟" → "烧烤店油烟扰民")."""
    while len(phrase) < max_len:
        options: Counter[str] = Counter()
        for seg in holders:
            at = seg.find(phrase)
            if at > 0:
                options[seg[at - 1] + phrase] += 1
            if at >= 0 and at + len(phrase) < len(seg):
                options[phrase + seg[at + len(phrase)]] += 1
        if not options:
            break
        best, n = options.most_common(1)[0]
        if n < keep * len(holders) or (best[0] in _STOP and best.endswith(phrase)) or best[-1] in "的了吗呢":
            break
        phrase, holders = best, [seg for seg in holders if best in seg]
    return phrase


def _key_phrases(
    titles: Sequence[str], anchor: str, df: Counter[str] | None = None, n_docs: int = 1, limit: int = 3
) -> list[str]:
    """Key phrases of a hotspot: start from the bigram most shared by the members' titles and rarest in the
    whole corpus (``df``: in how many titles each bigram occurs), grow it while most titles agree, repeat for
    phrases that do not overlap the ones chosen. Place names are taken out first."""
    segments = [_segments(t, anchor) for t in titles]
    counts: Counter[str] = Counter()
    for title in titles:
        counts.update(_title_grams(title, anchor))
    seen: Counter[str] = df if df is not None else Counter()
    idf = {g: math.log((1 + n_docs) / (1 + seen[g])) + 1 for g in counts}
    flat = [seg for segs in segments for seg in segs]
    chosen: list[str] = []

    def overlaps(a: str, b: str) -> bool:
        return any(a[i : i + 2] in b for i in range(len(a) - 1))

    # Shared by many members counts more than rare in the corpus: count² × idf.
    for gram, n in sorted(counts.items(), key=lambda kv: (-kv[1] * kv[1] * idf[kv[0]], kv[0])):
        if n < 2 and chosen:
            break
        if any(overlaps(gram, c) for c in chosen):
            continue
        phrase = _grow(gram, [seg for seg in flat if gram in seg])
        if any(overlaps(phrase, c) for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def heat_of(cases: int, people: int, support: int, age_days: float, growth: float, params: Params) -> float:
    recency = 0.5 ** (max(0.0, age_days) / params.recency_half_life_days)
    boost = 1 + min(1.0, max(0.0, growth))
    return 10 * (math.log1p(cases) + math.log1p(people) + 0.3 * math.log1p(max(0, support))) * recency * boost


def find_hotspots(
    docs: Sequence[Doc], *, until: datetime | None = None, params: Params | None = None
) -> list[Found]:
    """The hotspots among ``docs``, hottest first."""
    p = params or Params()
    if not docs:
        return []
    end_of_run = until or max(d.at for d in docs)
    typed = typed_anchors(docs)
    anchor_of = [a for a, _ in typed]
    window = timedelta(days=p.growth_window_days)
    found: list[Found] = []
    components = _components(docs, typed, p)
    wanted: set[str] = set()
    for members in components:
        for i in members:
            wanted |= _title_grams(docs[i].title, anchor_of[i])
    df: Counter[str] = Counter()
    for d in docs:
        df.update(_title_grams(d.title) & wanted)
    for members in components:
        group = [docs[i] for i in members]
        anchor = Counter(anchor_of[i] for i in members).most_common(1)[0][0]
        phrases = _key_phrases([d.title for d in group], anchor, df, len(docs))
        people = len({d.person or f"#{d.id}" for d in group})
        support = sum(max(0, d.support) for d in group)
        recent = sum(1 for d in group if d.at > end_of_run - window)
        before = sum(1 for d in group if end_of_run - 2 * window < d.at <= end_of_run - window)
        growth = (recent - before) / max(1, before)
        start, end = group[0].at, group[-1].at
        age = (end_of_run - end).total_seconds() / 86400
        is_new = start > end_of_run - window
        trend = "new" if is_new else "rising" if growth > 0.2 else "falling" if recent < before else "steady"
        warning = (is_new and len(group) >= p.min_cases) or (growth >= 1 and recent >= p.min_cases)
        found.append(
            Found(
                ids=[d.id for d in group],
                title=" ".join([anchor, *phrases]).strip(),
                key_phrases=phrases,
                place=anchor,
                start=start,
                end=end,
                case_count=len(group),
                people=people,
                support=support,
                heat=round(heat_of(len(group), people, support, age, growth, p), 2),
                growth=round(growth, 3),
                trend=trend,
                warning=warning,
                fingerprint=f"{anchor}|{'|'.join(sorted(phrases[:2]))}",
            )
        )
    found.sort(key=lambda f: (-f.heat, f.start))
    return found
