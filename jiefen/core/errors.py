"""Domain errors raised by services; views and endpoints turn them into clear messages."""

from __future__ import annotations


class DomainError(Exception):
    """A request that the rules of the domain refuse. ``message`` is shown to the user as it is."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalMove(DomainError):
    code = "illegal_move"
    http_status = 409


class Conflict(DomainError):
    """Someone else changed the same record first; the caller should reload and try again."""

    code = "conflict"
    http_status = 409


class NotAllowed(DomainError):
    code = "not_allowed"
    http_status = 403


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 400
