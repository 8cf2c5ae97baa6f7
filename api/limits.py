"""Flask-Limiter: the rate limits of the API (password guesses per account, registrations
per address, invite codes).

Password guesses share one counter per account, whichever route makes them:
every login attempt, and each wrong password given to change the password or
to erase the account (`password_guesses`). Registrations are counted per client
address: the 409 for a known email (kept so the app can send the person to log
in) then tells at most that many emails an hour to any one address.

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

from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.auth import current_user

limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    manager = limiter.limit_manager
    if manager.application_limits or manager.default_limits:
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)


PASSWORD_GUESSES = "password-guesses"


def password_guesses(key_func: Callable[[], str], *, wrong_only: bool = False):
    """The per-account limit on password guesses (LOGIN_RATE_LIMIT), one counter per account
    across the routes that take a password. `wrong_only`: count a request only when the
    view marked its password wrong (`password_was_wrong`); a request over the limit is a
    429 either way."""
    deduct_when = (lambda response: g.get("wrong_password", False)) if wrong_only else None
    return limiter.shared_limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], PASSWORD_GUESSES,
                                key_func=key_func, deduct_when=deduct_when)


def password_was_wrong() -> None:
    """Count this request against its account's password guesses (see `password_guesses`)."""
    g.wrong_password = True


def login_account_key() -> str:
    """Count login attempts per account (the email in the body), else per address."""
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        return "account:" + body["email"].strip().lower()
    return "login-ip:" + get_remote_address()


def signed_in_account_key() -> str:
    """The caller's account, under the key a login with its email counts under."""
    return "account:" + current_user().email


def registrations():
    """REGISTER_RATE_LIMIT per client address (the proxy's X-Forwarded-For, see PROXY_COUNT)."""
    return limiter.limit(lambda: current_app.config["REGISTER_RATE_LIMIT"],
                         key_func=get_remote_address)
