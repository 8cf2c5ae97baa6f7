"""Structured logs: one JSON object per line, every line of a request with its request id.

A request line carries the method, the route *pattern* (never the query
string), the status, the duration and the user id: no tokens, passwords or
health data ever reach a log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("api.requests")
# The project's own loggers; each gets the JSON handler once.
PROJECT_LOGGERS = ("api", "services", "storage")


def request_id() -> str:
    """This request's id: the client's X-Request-ID when sane, else a new one."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id


class JsonFormatter(logging.Formatter):
    """Log records as JSON lines, tagged with the request id when there is a request."""

    FIELDS = ("method", "route", "status", "duration_ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in ("request_id", *self.FIELDS):
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line)


_plain_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    """Every record made while serving a request carries that request's id."""
    record = _plain_record(*args, **kwargs)
    if has_request_context():
        record.request_id = request_id()
    return record


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    log.info("request", extra={
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else "<unmatched>",
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        "user_id": g.get("user_id"),
    })
    return response


def register(app: Flask) -> None:
    logging.setLogRecordFactory(_record_with_request_id)
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(app.config["LOG_LEVEL"])
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
    app.before_request(_start_timer)
    app.after_request(_log_request)
