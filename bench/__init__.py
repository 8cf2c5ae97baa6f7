"""Benchmarks of the API under gunicorn, loaded by wrk: `make bench` or `python -m bench [NAME]`.

Each benchmark lives in its own module and is listed in `bench.__main__.BENCHMARKS`.
"""


class BenchError(Exception):
    """A benchmark could not measure (server down, wrong answers, wrk failed)."""
