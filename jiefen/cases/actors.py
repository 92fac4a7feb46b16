"""Who is acting: a staff user, the petitioner through the portal, or the system (sweeps, imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from jiefen.org.models import User


@dataclass(frozen=True)
class Citizen:
    """The petitioner, acting through the portal after proving the receipt number and query code."""

    label: str = "信访人"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class System:
    label: str = "系统"

    def __str__(self) -> str:
        return self.label


CITIZEN = Citizen()
SYSTEM = System()

Actor = Union["User", Citizen, System]
