"""Keyset paging of lists: `?limit=` and the opaque `?cursor=` (the sort key of the last row shown).

Every list reads one row more than it shows: that row says whether there is a
next page, and the cursor is the key of the last row shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from api.database import db


@dataclass(frozen=True)
class Page:
    """A page of a list, as a page schema (`schemas.common.PageSchema`) dumps it."""

    items: Sequence[Any]
    next_cursor: list | None


def page_of(rows: Sequence[Any], limit: int, key: Callable[[Any], list]) -> Page:
    """The first `limit` of `rows` (read `limit + 1`), with the cursor after the last one shown."""
    items = rows[:limit]
    return Page(items, key(items[-1]) if len(rows) > limit else None)


def id_page(query: Select, id_column, args: dict) -> Page:
    """One page of the rows `query` selects, by descending `id_column`, after the cursor's id."""
    if args.get("cursor"):
        query = query.where(id_column < args["cursor"][0])
    rows = db().scalars(query.order_by(id_column.desc()).limit(args["limit"] + 1)).all()
    return page_of(rows, args["limit"], lambda row: [row.id])
