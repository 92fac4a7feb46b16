"""Small shared facts: high-water marks of jobs that work through an append-only table in order."""

from __future__ import annotations

from django.db import models


class Checkpoint(models.Model):
    """How far a job got (the last id it finished), so the next run continues there and a rerun is safe."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"
