"""Keyset paging of lists, newest first: `?limit=` and the opaque `?cursor=`."""

from __future__ import annotations

from sqlalchemy import Row, Select

from api.database import db


def id_page(query: Select, id_column, args: dict) -> tuple[list[Row], list[int] | None]:
    """One page of `query` by descending `id_column`, after the cursor's id.

    The first entity the query selects is the one whose id pages; returns the
    page's rows and the next cursor (None on the last page).
    """
    if args.get("cursor"):
        query = query.where(id_column < args["cursor"][0])
    rows = db().execute(query.order_by(id_column.desc()).limit(args["limit"] + 1)).all()
    page = rows[: args["limit"]]
    return page, ([page[-1][0].id] if len(rows) > args["limit"] else None)
