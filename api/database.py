"""Where a request keeps things: the database session (one per application context, removed
at teardown) and the photo store."""

from __future__ import annotations

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from storage.blobs import LocalBlobStore
from storage.db import make_engine, make_session_factory


class Database:
    """The app's engine and its app-context-scoped session registry."""

    def __init__(self, app: Flask) -> None:
        self.engine: Engine = make_engine(app.config["DATABASE_URL"])
        self.sessions: scoped_session[Session] = make_session_factory(
            self.engine, scopefunc=lambda: id(app_ctx._get_current_object())
        )
        app.extensions["database"] = self
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, _exc: BaseException | None) -> None:
        try:
            self.sessions.remove()
        except SQLAlchemyError:
            # Closing rolls back, which fails on a connection that died under the request;
            # the pool has dropped that connection, and nothing on it is left to undo.
            self.sessions.registry.clear()


def db() -> Session:
    """The session of the current application context."""
    return current_app.extensions["database"].sessions()


def photo_store() -> LocalBlobStore:
    """The store of photo files, in the configured folder."""
    return LocalBlobStore(current_app.config["PHOTO_DIR"])
