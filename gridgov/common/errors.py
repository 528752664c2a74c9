"""Domain errors. Services raise these; the API and views turn them into 4xx answers.

A service never lets a bad input reach the database: it raises one of these first, inside the
transaction, so nothing is half-written.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a refusal with a human message and optional field-level details."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.rule = rule
        self.errors: dict[str, list[str]] = dict(errors or {})
        if field:
            self.errors.setdefault(field, []).append(self.message)

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"detail": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        if self.rule:
            body["rule"] = self.rule
        return body


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class PermissionRefused(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Someone else changed the record first (optimistic concurrency) or a uniqueness clash."""

    status = 409
    code = "conflict"
