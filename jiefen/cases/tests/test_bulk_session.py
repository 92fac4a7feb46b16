"""A bulk session keeps memos between batches, closes its resources and collects garbage less often, and
leaves everything as it was when it ends."""

from __future__ import annotations

import gc

import pytest

from jiefen.cases.services import enrichment
from jiefen.language.reading import BATCH_GC_THRESHOLD


def test_the_session_keeps_memos_closes_resources_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    closed: list[str] = []
    with enrichment.bulk_session():
        assert gc.get_threshold() == (BATCH_GC_THRESHOLD, *before[1:])
        enrichment.session_memo("m")["a"] = 1
        assert enrichment.session_memo("m") == {"a": 1}
        assert enrichment.session_resource("r", lambda: "open", closed.append) == "open"
        with enrichment.bulk_session():  # an inner session leaves the outer one's settings alone
            pass
        assert gc.get_threshold()[0] == BATCH_GC_THRESHOLD
    assert gc.get_threshold() == before
    assert closed == ["open"]
    assert enrichment.session_memo("m") == {}


def test_the_collector_is_restored_when_the_import_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), enrichment.bulk_session():
        raise RuntimeError("the file could not be read")
    assert gc.get_threshold() == before
