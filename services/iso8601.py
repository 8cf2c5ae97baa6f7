"""Dates and times as every response and export writes them: ISO 8601 (RFC 3339 with offsets)."""

from __future__ import annotations

from datetime import date, datetime


def iso_or_none(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def iso_default(value) -> str:
    """`json.dumps(..., default=iso_default)`: dates and times as ISO 8601, nothing else."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
