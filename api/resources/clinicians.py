"""The clinician's side: redeem an invite, the triage list, one linked patient."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from api.access import patient_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.limits import limiter
from api.paging import page_of
from domain.roles import CLINICIAN
from domain.schedule import SessionWindow, window_state
from schemas.clinicians import (
    LinkSchema,
    PatientSummarySchema,
    TriageArgsSchema,
    TriagePageSchema,
)
from schemas.common import Cursor
from schemas.shares import RedeemSchema
from services import shares
from services.clinicians import linked_patient
from services.iso8601 import iso_default
from storage.models import utcnow
from storage.triage import TriageFilters, triage_page

blp = Blueprint("clinicians", __name__, url_prefix="/api/v1",
                description="For trichologists: linked patients, most urgent first.")

UNKNOWN_CODE = "This code is unknown, already used or expired."


def _redeem_key() -> str:
    return f"redeem:{current_user().id}"


@blp.route("/clinician/patients")
class LinkedPatientViews(MethodView):
    @blp.login_required(CLINICIAN)
    @limiter.limit(lambda: current_app.config["REDEEM_RATE_LIMIT"], key_func=_redeem_key)
    @blp.idempotent_create
    @blp.arguments(RedeemSchema)
    @blp.response(201, LinkSchema)
    @blp.alt_response(404, "NOT_FOUND", description="The code is unknown, used or expired")
    @blp.alt_response(409, "CONFLICT", description="Already linked to this patient")
    @blp.alt_response(429, "TOO_MANY_REQUESTS")
    def post(self, data):
        """Redeem a patient's invite code: the link to the patient (single use, 72 hours)"""
        try:
            return shares.redeem(db(), current_user(), data["code"])
        except shares.UnknownCode:
            abort(404, message=UNKNOWN_CODE)

    @blp.login_required(CLINICIAN)
    @blp.arguments(TriageArgsSchema, location="query")
    @blp.response(200, TriagePageSchema)
    def get(self, args):
        """Linked patients, most urgent first: flags, holds, days overdue, device warnings, missing photos"""
        now = utcnow()
        filters = TriageFilters(flag=args.get("flag"), overdue=args.get("overdue"),
                                on_hold=args.get("on_hold"), name=args.get("q"))
        after = _decode_cursor(args.get("cursor"))
        rows = triage_page(db(), current_user().id, now, filters, after, args["limit"] + 1)
        page = page_of(rows, args["limit"], _cursor_after)
        # The dashboard's hot path: 50 nested items cost more through marshmallow
        # than the query itself, so they are rendered here; TriagePageSchema
        # documents the shape and the tests hold responses to the served document.
        body = {"items": [_triage_item(row, now) for row in page.items],
                "next_cursor": Cursor().serialize("next_cursor", {"next_cursor": page.next_cursor})}
        return Response(json.dumps(body, default=iso_default), mimetype="application/json")


def _cursor_after(row) -> list:
    flag, hold, overdue_from, device, photos, patient_id = row[-6:]
    return [flag, hold, overdue_from.isoformat(), device, photos, patient_id]


def _decode_cursor(cursor: list | None) -> list | None:
    if cursor is None:
        return None
    flag, hold, overdue_from, device, photos, patient_id = cursor
    try:
        return [flag, hold, datetime.fromisoformat(overdue_from), device, photos, patient_id]
    except ValueError:
        abort(422, message="Invalid cursor.", errors={"cursor": ["Invalid cursor."]})


@functools.cache
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps zones only while referenced; fifty rows would re-read the files.
    return ZoneInfo(name)


def _triage_item(row, now: datetime) -> dict:
    item = {"patient_id": row.patient_id, "display_name": row.display_name,
            "linked_at": row.linked_at, "course_id": None, "course_status": None, "phase": None,
            "sessions_done": 0, "sessions_planned": None, "next_session": None,
            "days_overdue": 0, "flags": [], "open_flags": [], "hold_reasons": [], "device_warnings": [],
            "photos_due": [], "last_activity_at": None, "hair_count_change_percent": None,
            "urgency": []}
    if row.course_id is None:
        return item
    today = now.astimezone(_zone(row.timezone)).date()
    next_session = None
    days_overdue = 0
    if row.next_number is not None:
        window = window_state(SessionWindow(
            row.next_number, row.phase, row.next_earliest, row.next_due, row.next_latest), today)
        days_overdue = window.days_overdue
        # The window's fields as NextSessionSchema lists them (vars: no deep copy on this hot path).
        next_session = dict(vars(window))
    expired = row.device_expired_from is not None and row.device_expired_from <= now
    device_warnings = list(row.device_warnings) + (["device_expired"] if expired else [])
    flags = ["consult_doctor"] if row.consult_doctor else []
    urgency = [reason for reason, present in (
        ("consult_doctor", bool(flags)), ("on_hold", row.course_status == "on_hold"),
        ("overdue", days_overdue > 0), ("device", bool(device_warnings)),
        ("photos_due", row.photos_missing > 0)) if present]
    item.update(course_id=row.course_id, course_status=row.course_status, phase=row.phase,
                sessions_done=row.sessions_done, sessions_planned=row.sessions_planned,
                next_session=next_session, days_overdue=days_overdue, flags=flags,
                open_flags=row.open_flags or [],
                hold_reasons=row.hold_reasons, device_warnings=device_warnings,
                photos_due=row.photos_due, last_activity_at=row.last_activity_at,
                hair_count_change_percent=row.hair_count_change, urgency=urgency)
    return item


@blp.route("/clinician/patients/<int:patient_id>")
class LinkedPatientByIdViews(MethodView):
    @blp.login_required(CLINICIAN)
    @blp.etag
    @blp.response(200, PatientSummarySchema)
    def get(self, patient_id):
        """A linked patient with their courses"""
        return linked_patient(db(), current_user(), patient_or_404(patient_id))
