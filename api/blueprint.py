"""The Blueprint every resource uses: flask-smorest's, with strict query strings.

webargs ignores unknown query parameters by default; here the schema decides
(`unknown = RAISE`), so `?limt=10` is a 422 instead of a silently full page.
"""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
