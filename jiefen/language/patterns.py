"""Regular expressions that skip texts they cannot match."""

from __future__ import annotations

import re
from collections.abc import Iterator


class GatedPattern:
    """A regular expression every match of which contains one of ``needles`` (characters): a text without any
    of them is not scanned. Looking for a character is a C loop; a scan tries the pattern at every position,
    and most texts hold no match of most patterns."""

    def __init__(self, pattern: str, needles: str) -> None:
        self.pattern = re.compile(pattern)
        self.needles = needles
        self.match = self.pattern.match

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if any(needle in text for needle in self.needles):
            return self.pattern.finditer(text)
        return iter(())
