"""Reading and advancing job checkpoints."""

from __future__ import annotations

from jiefen.core.models import Checkpoint


def position(name: str) -> int:
    checkpoint, _ = Checkpoint.objects.get_or_create(name=name)
    return checkpoint.position


def advance(name: str, *, seen: int, to: int) -> bool:
    """Move ``name`` from ``seen`` to ``to``; False when another run moved it first (compare-and-set)."""
    return bool(Checkpoint.objects.filter(name=name, position=seen).update(position=to))


__all__ = ["advance", "position"]
