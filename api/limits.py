"""Flask-Limiter: the rate limits of the API (login attempts per account)."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def login_account_key() -> str:
    """Count login attempts per account (the email in the body), else per address."""
    body = request.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("email"), str):
        return "login:" + body["email"].strip().lower()
    return "login-ip:" + get_remote_address()
