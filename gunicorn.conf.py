"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Sync workers (one request each: a slow client ties up only its own worker),
as many as the CPUs allow, recycled now and then; every value can be
overridden from the environment.

Beside gunicorn, run the job queue's workers as processes of their own, with
the same environment: `flask --app wsgi jobs worker` (niced; see
deploy/scalpcourse-worker.service and docs/operations.md).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Photo uploads from phones on slow networks take a while.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 2
# Recycle workers so a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The longest request line gunicorn takes (its maximum, and nginx's default buffer): a
# longer one gunicorn answers 414 itself, before the app sees it.
limit_request_line = 8190
# The app writes its own JSON request lines; gunicorn's access log would repeat them.
accesslog = None
errorlog = "-"
# Only the local reverse proxy may set X-Forwarded-* (see PROXY_COUNT for the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Refuse to start what the app would refuse in production, and rate limits that
    several workers would each count on their own (`api.config.production_problems`)."""
    from api.config import production_problems, settings

    problems = production_problems(settings(), workers=server.cfg.workers)
    if problems:
        raise SystemExit("refusing to start in production: " + "; ".join(problems))


def post_worker_init(worker):
    """Move everything the worker holds once the app is loaded out of the garbage
    collector's sight. Those objects (the app, its models and schemas: some 130,000)
    live as long as the worker, yet every full collection walked them all: about
    100 ms during which the worker answers no one. Frozen, a full collection sees only
    what requests allocated."""
    gc.freeze()
