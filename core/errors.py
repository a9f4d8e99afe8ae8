"""Domain errors: each carries a message meant for the person who acted.

The portal shows them as messages; the API maps them to status codes with
``{"detail": ...}`` (or field errors for ``InvalidInput``).
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The input is wrong (400); ``errors`` maps field names to messages."""

    status_code = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class NotAllowed(DomainError):
    """The user may see this but not do this (403)."""

    status_code = 403


class NotFound(DomainError):
    """Not visible to this user, or missing (404): the two are never told apart (T-6)."""

    status_code = 404


class Conflict(DomainError):
    """Not allowed from the current state, or a concurrent change won (409)."""

    status_code = 409
