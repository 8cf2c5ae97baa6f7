"""Errors a domain rule raises; the API layer maps each class to one status code."""


class DomainError(Exception):
    """A rule refused the request; `detail` is for humans, `field` names the input at fault."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class RuleViolation(DomainError):
    """The input breaks a rule of DOMAIN.md (422)."""


class Conflict(DomainError):
    """The request does not fit the current state (409)."""


class NotAllowed(DomainError):
    """The caller's role may not do this (403)."""


class NotFound(DomainError):
    """The request names something the caller has no such thing as (404)."""


class TooLarge(DomainError):
    """The request carries more than a rule allows (413)."""
