"""The rules of DOMAIN.md as pure functions and frozen dataclasses.

Nothing here knows about HTTP, the database or serialisation: callers pass
plain values in and get plain values or domain errors back.
"""
