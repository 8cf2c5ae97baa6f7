"""Flask-Limiter: the rate limits of the API (login attempts per account, invite codes).

Every limit is a decorator on its view (`limiter.limit`), and a decorated view
checks its own limits when it is called. Flask-Limiter's before_request hook
checks the other kinds, application-wide and default limits, of which this API
has none; since every request paid for that hook (about a tenth of a course
status), `init_app` leaves it out while there are none. Flask-Limiter 4.1 has
no supported way to do so (its `init_app` always registers the hook), hence
the removal of `_check_request_limit` by name: a version that renames it fails
at start, in every test.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits:
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)


def login_account_key() -> str:
    """Count login attempts per account (the email in the body), else per address."""
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        return "login:" + body["email"].strip().lower()
    return "login-ip:" + get_remote_address()
