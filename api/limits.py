"""Flask-Limiter: the rate limits of the API (login attempts per account, invite codes).

Only the views decorated with `rate_limited` have limits; every other request
is exempt before Flask-Limiter resolves anything (its per-request lookup of
limits is a measurable part of a cheap request such as the course status).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
_RATE_LIMITED = "_rate_limited"


def rate_limited(limit: Callable[[], str], key_func: Callable[[], str]):
    """`limiter.limit`, marking the view so the filter below lets its requests through."""

    def decorator(view):
        limited = limiter.limit(limit, key_func=key_func)(view)
        # functools.wraps copies the mark onto every decorator above this one.
        setattr(limited, _RATE_LIMITED, True)
        return limited

    return decorator


@limiter.request_filter
def _has_no_limits() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    return not getattr(method, _RATE_LIMITED, False)


def login_account_key() -> str:
    """Count login attempts per account (the email in the body), else per address."""
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        return "login:" + body["email"].strip().lower()
    return "login-ip:" + get_remote_address()
