"""The clinician's side: redeem an invite, the triage list, one linked patient."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from api.access import patient_or_404
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.limits import limiter
from api.paging import page_of
from domain.roles import CLINICIAN
from domain.schedule import state_on
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
        # than the query itself, so they are rendered here, in the JSON types the
        # schema would hand over (times as ISO 8601 strings); TriagePageSchema
        # documents the shape and the tests hold responses to the served document.
        today = {zone: now.astimezone(_zone(zone)).date()
                 for zone in {row.timezone for row in page.items}}
        body = {"items": [_triage_item(row, now, today) for row in page.items],
                "next_cursor": Cursor().serialize("next_cursor", {"next_cursor": page.next_cursor})}
        return current_app.json.response(body)


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


def _triage_item(row, now: datetime, today: dict[str, date]) -> dict:
    """One patient of the page; `today` is the date in each of the page's time zones."""
    if row.course_id is None:
        return {"patient_id": row.patient_id, "display_name": row.display_name,
                "linked_at": row.linked_at.isoformat(), "course_id": None,
                "course_status": None, "phase": None, "sessions_done": 0,
                "sessions_planned": None, "next_session": None, "days_overdue": 0, "flags": [],
                "open_flags": [], "hold_reasons": [], "device_warnings": [], "photos_due": [],
                "last_activity_at": None, "hair_count_change_percent": None, "urgency": []}
    next_session = None
    days_overdue = 0
    if row.next_number is not None:
        state, days_overdue = state_on(row.next_earliest, row.next_latest, today[row.timezone])
        # NextSessionSchema's fields, in its order.
        next_session = {"number": row.next_number, "phase": row.phase,
                        "earliest": row.next_earliest.isoformat(),
                        "due": row.next_due.isoformat(), "latest": row.next_latest.isoformat(),
                        "state": state, "days_overdue": days_overdue}
    device_warnings = row.device_warnings
    if row.device_expired_from is not None and row.device_expired_from <= now:
        device_warnings = [*device_warnings, "device_expired"]
    consult_doctor = row.consult_doctor
    on_hold = row.course_status == "on_hold"
    urgency = [reason for reason, present in (
        ("consult_doctor", consult_doctor), ("on_hold", on_hold), ("overdue", days_overdue > 0),
        ("device", device_warnings), ("photos_due", row.photos_missing > 0)) if present]
    last_activity_at = row.last_activity_at
    return {"patient_id": row.patient_id, "display_name": row.display_name,
            "linked_at": row.linked_at.isoformat(), "course_id": row.course_id,
            "course_status": row.course_status, "phase": row.phase,
            "sessions_done": row.sessions_done, "sessions_planned": row.sessions_planned,
            "next_session": next_session, "days_overdue": days_overdue,
            "flags": ["consult_doctor"] if consult_doctor else [],
            "open_flags": row.open_flags or [], "hold_reasons": row.hold_reasons,
            "device_warnings": device_warnings, "photos_due": row.photos_due,
            "last_activity_at": (last_activity_at.isoformat() if last_activity_at is not None
                                 else None),
            "hair_count_change_percent": row.hair_count_change, "urgency": urgency}


@blp.route("/clinician/patients/<int:patient_id>")
class LinkedPatientByIdViews(MethodView):
    @blp.login_required(CLINICIAN)
    @blp.etag
    @blp.response(200, PatientSummarySchema)
    def get(self, patient_id):
        """A linked patient with their courses"""
        return linked_patient(db(), current_user(), patient_or_404(patient_id))
