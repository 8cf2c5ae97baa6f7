"""The course as a FHIR R4 Bundle (`collection`), for import into health records.

- Patient; a Practitioner per linked clinician and the Consent behind each link
  (permit while linked; inactive, with its period closed, once revoked);
- a CarePlan with one activity per phase of the regimen, paced by its Timing;
- a Procedure per done session (device, needle length and cocktail in the note);
- a Device per device used, a Media per photo (linked to its bytes);
- an Observation per measurement, with UCUM units (`/cm2`, `um`, `/d`); a withdrawn one
  is `entered-in-error`, with the reason in its note;
- an Observation per 24 h check-in, part of its session's Procedure, an answer per
  component; a Flag per `consult_doctor` flag (`active` while open, `inactive` with its
  period closed once lowered).

Resources are written with the R4B models of `fhir.resources` (the R4 edition
the library ships; R4B's changes are in resources not used here) and validated
by that library before anything is sent. Entries are named by `urn:uuid:` URLs
derived from the row ids, so the same course exports the same identities.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fhir.resources.R4B.bundle import Bundle

from domain.course import ACTIVE, CANCELLED, COMPLETED, ENDED, ON_HOLD, PAUSED
from domain.outcomes import (
    GLOBAL_ASSESSMENT,
    HAIR_COUNT,
    HAIR_THICKNESS,
    LUDWIG,
    NORWOOD,
    SHEDDING,
)
from domain.regimen import (
    HOME,
    HOME_FIRST_INTERVAL,
    HOME_FIRST_INTERVALS_LAST_SESSION,
    Phase,
)
from services.courses import regimen_of
from services.exports.course_data import CourseExport
from services.sessions import SessionRecord
from storage.models import Observation

UCUM = "http://unitsofmeasure.org"
# Measures with a unit: the UCUM code and how it reads.
QUANTITIES = {HAIR_COUNT: "/cm2", HAIR_THICKNESS: "um", SHEDDING: "/d"}
MEASURE_NAMES = {
    HAIR_COUNT: "Hair count per cm2 (trichoscopy)",
    HAIR_THICKNESS: "Hair shaft thickness",
    SHEDDING: "Daily hair shedding count",
    NORWOOD: "Norwood-Hamilton stage",
    LUDWIG: "Ludwig stage",
    GLOBAL_ASSESSMENT: "Global photographic assessment (-3 to +3)",
}
PATIENT_REPORTED = (SHEDDING,)
CARE_PLAN_STATUS = {ON_HOLD: "on-hold", ACTIVE: "active", PAUSED: "on-hold",
                    COMPLETED: "completed", ENDED: "completed", CANCELLED: "revoked"}
PROCEDURE_NAME = "Scalp microneedling"
_NAMESPACE = uuid.UUID("6f1c2b0e-8a4e-4c55-9a53-2f7f1f0d6a10")


def _url(kind: str, row_id: int | str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{row_id}')}"


def _ref(kind: str, row_id: int) -> dict:
    return {"reference": _url(kind, row_id)}


def _entry(kind: str, row_id: int | str, fields: dict) -> dict:
    resource = {"resourceType": kind, "id": f"{kind.lower()}-{row_id}", **fields}
    return {"fullUrl": _url(kind, row_id), "resource": resource}


def _text(value: str) -> dict:
    return {"text": value}


def _coded(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _words(code: str) -> str:
    return code.replace("_", " ")


def course_bundle(export: CourseExport, photo_url: Callable[[int], str]) -> dict:
    """The bundle as FHIR JSON; `photo_url(photo_id)` is where a photo's original can be fetched."""
    entries = [
        _patient(export),
        *(_practitioner(link.clinician) for link in
          {link.clinician.id: link for link in export.links}.values()),
        *(_device(export, device) for device in export.devices.values()),
        _care_plan(export),
        *(_procedure(export, record) for record in export.sessions),
        *(_media(export, photo, photo_url) for photo in export.photos),
        *(_observation(export, entry) for entry in export.observations),
        *(_check_in(export, record) for record in export.sessions
          if record.check_in is not None),
        *(_flag(export, flag) for record in export.sessions for flag in record.flags),
        *(_consent(export, link) for link in export.links),
    ]
    bundle = Bundle.model_validate({
        "resourceType": "Bundle",
        "id": f"course-{export.course.id}",
        "type": "collection",
        "timestamp": export.exported_at.isoformat(),
        "entry": entries,
    })
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)


def _patient(export: CourseExport) -> dict:
    return _entry("Patient", export.patient.id, {"name": [_text(export.patient.display_name)]})


def _practitioner(clinician) -> dict:
    return _entry("Practitioner", clinician.id, {"name": [_text(clinician.display_name)]})


def _device(export: CourseExport, device) -> dict:
    resource = {
        "type": _text(f"microneedling {device.kind}"),
        "patient": _ref("Patient", export.patient.id),
        "property": [{"type": _text("needle length"),
                      "valueQuantity": [{"value": device.needle_length_mm, "unit": "mm",
                                         "system": UCUM, "code": "mm"}]}],
    }
    if device.label:
        resource["deviceName"] = [{"name": device.label, "type": "user-friendly-name"}]
    return _entry("Device", device.id, resource)


def _care_plan(export: CourseExport) -> dict:
    course = export.course
    plan = {
        "status": CARE_PLAN_STATUS[course.status], "intent": "plan",
        "title": f"Scalp microneedling course ({course.regimen} regimen, {course.setting})",
        "subject": _ref("Patient", export.patient.id),
        "period": {"start": course.start_date.isoformat()},
        "created": course.created_at.isoformat(),
        "activity": [_phase_activity(export, phase)
                     for phase in regimen_of(export.course).phases],
    }
    if course.concurrent_therapies:
        plan["note"] = [_text("Concurrent therapies: " + ", ".join(course.concurrent_therapies))]
    return _entry("CarePlan", course.id, plan)


def _phase_activity(export: CourseExport, phase: Phase) -> dict:
    first, last, interval = phase.first, phase.last, phase.interval
    done = [record for record in export.sessions
            if record.number >= first and (last is None or record.number <= last)]
    repeat = {"frequency": 1, "period": interval.target, "periodUnit": "d"}
    if last is not None:
        repeat["count"] = last - first + 1
    starts = [record.row.performed_at.astimezone(export.zone).date() for record in done
              if record.number == first]
    starts += [window.due for window in export.projected if window.number == first]
    if starts:
        repeat["boundsPeriod"] = {"start": starts[0].isoformat()}
    if last is not None and len(done) == last - first + 1:
        state = "completed"
    elif export.course.status in (CANCELLED, ENDED):
        state = "stopped" if done else "cancelled"
    else:
        state = "in-progress" if done else "not-started"
    sessions = f"sessions {first}-{last}" if last is not None else f"sessions from {first} on"
    description = (f"{_words(phase.name).capitalize()} phase, {sessions}: one every "
                   f"{interval.target} days, on time {interval.window_start}-"
                   f"{interval.window_end} days after the previous one.")
    if export.course.setting == HOME and first == 1:
        home = HOME_FIRST_INTERVAL
        description += (f" At home the first {HOME_FIRST_INTERVALS_LAST_SESSION - 1} intervals "
                        f"are {home.target} days (on time {home.window_start}-"
                        f"{home.window_end}).")
    return {"detail": {"kind": "Procedure",
                       "code": _text(f"{PROCEDURE_NAME}, {_words(phase.name)} phase"),
                       "status": state, "scheduledTiming": {"repeat": repeat},
                       "description": description}}


def _procedure(export: CourseExport, record: SessionRecord) -> dict:
    row = record.row
    cocktail = row.cocktail or {}
    note = [f"Session {record.number} ({_words(record.phase)} phase), "
            f"{_words(record.timing)}.", f"Needle length {row.needle_length_mm:g} mm."]
    if cocktail:
        ingredients = ", ".join(cocktail.get("ingredients") or [])
        note.append(f"Cocktail: {cocktail.get('name')}"
                    + (f" ({ingredients})." if ingredients else "."))
    if row.duration_minutes is not None:
        note.append(f"Duration {row.duration_minutes} min.")
    if row.pain_score is not None:
        note.append(f"Pain {row.pain_score}/10.")
    if row.notes:
        note.append(f"Notes: {row.notes}")
    resource = {
        "status": "completed",
        "code": _text(PROCEDURE_NAME),
        "subject": _ref("Patient", export.patient.id),
        "basedOn": [_ref("CarePlan", export.course.id)],
        "performedDateTime": row.performed_at.astimezone(export.zone).isoformat(),
        "note": [_text(" ".join(note))],
    }
    if row.areas:
        resource["bodySite"] = [_text(f"scalp, {_words(area)}") for area in row.areas]
    if row.side_effects:
        resource["complication"] = [_text(_words(code)) for code in row.side_effects]
    device = export.devices.get(row.device_id)
    kind = device.kind if device else "device"
    resource["usedCode"] = [_text(f"microneedling {kind}, {row.needle_length_mm:g} mm needles")]
    if device is not None:
        resource["usedReference"] = [_ref("Device", device.id)]
    return _entry("Procedure", row.id, resource)


def _media(export: CourseExport, photo, photo_url: Callable[[int], str]) -> dict:
    row = photo.row
    resource = {
        "status": "completed",
        "type": _coded("http://terminology.hl7.org/CodeSystem/media-type", "image", "Image"),
        "subject": _ref("Patient", export.patient.id),
        "createdDateTime": photo.taken_at.isoformat(),
        "bodySite": _text(f"scalp, {_words(row.area)}"),
        "width": row.width, "height": row.height,
        "content": {"contentType": row.media_type, "url": photo_url(row.id),
                    "size": row.byte_size, "title": photo.file_name.replace("/", "_"),
                    "creation": photo.taken_at.isoformat()},
    }
    if row.session_id is not None:
        resource["partOf"] = [_ref("Procedure", row.session_id)]
    if row.note:
        resource["note"] = [_text(row.note)]
    return _entry("Media", row.id, resource)


def _observation(export: CourseExport, row: Observation) -> dict:
    resource = {
        "status": "final",
        "category": [_coded("http://terminology.hl7.org/CodeSystem/observation-category",
                            "survey" if row.kind in PATIENT_REPORTED else "exam")],
        "code": _text(MEASURE_NAMES[row.kind]),
        "subject": _ref("Patient", export.patient.id),
        "effectiveDateTime": row.observed_at.astimezone(export.zone).isoformat(),
    }
    if row.kind in QUANTITIES:
        unit = QUANTITIES[row.kind]
        resource["valueQuantity"] = {"value": row.number, "unit": unit, "system": UCUM,
                                     "code": unit}
    elif row.kind == GLOBAL_ASSESSMENT:
        resource["valueInteger"] = int(row.number)
    else:
        resource["valueString"] = row.stage
    if row.area:
        resource["bodySite"] = _text(f"scalp, {_words(row.area)}")
    recorder = row.recorded_by
    if recorder is not None:
        kind = "Patient" if recorder.id == export.patient.id else "Practitioner"
        resource["performer"] = [_ref(kind, recorder.id)]
    if row.withdrawn_at is not None:
        resource["status"] = "entered-in-error"
        withdrawn_at = row.withdrawn_at.astimezone(export.zone).isoformat()
        resource["note"] = [_text(f"Withdrawn {withdrawn_at}: {row.withdrawal_reason}")]
    return _entry("Observation", row.id, resource)


CHECK_IN_QUESTIONS = (("redness_persists", "Redness persists 24 h after the session"),
                      ("swelling_persists", "Swelling persists 24 h after the session"),
                      ("infection_signs", "Signs of infection"))


def _check_in(export: CourseExport, record: SessionRecord) -> dict:
    """The follow-up a day after the session, as an Observation that is part of it."""
    entry = record.check_in
    resource = {
        "status": "final",
        "category": [_coded("http://terminology.hl7.org/CodeSystem/observation-category",
                            "survey")],
        "code": _text("Follow-up 24 h after scalp microneedling"),
        "subject": _ref("Patient", export.patient.id),
        "partOf": [_ref("Procedure", record.row.id)],
        "effectiveDateTime": entry.created_at.astimezone(export.zone).isoformat(),
        "performer": [_ref("Patient", export.patient.id)],
        "component": [{"code": _text(question), "valueBoolean": bool(getattr(entry, name))}
                      for name, question in CHECK_IN_QUESTIONS],
    }
    if entry.note:
        resource["note"] = [_text(entry.note)]
    # Check-in ids are their own; keep them apart from the measurements' Observation ids.
    return _entry("Observation", f"check-in-{entry.id}", resource)


def _flag(export: CourseExport, flag) -> dict:
    """A consult_doctor flag, with why, while open and once lowered."""
    reasons = ", ".join(f"{_words(reason['source'])}: {_words(reason['code'])}"
                        for reason in flag.reasons)
    period = {"start": flag.raised_at.astimezone(export.zone).isoformat()}
    if flag.resolved_at is not None:
        period["end"] = flag.resolved_at.astimezone(export.zone).isoformat()
    resource = {
        "status": "active" if flag.is_open else "inactive",
        "category": [_coded("http://terminology.hl7.org/CodeSystem/flag-category", "clinical",
                            "Clinical")],
        "code": _text(f"Consult a doctor ({reasons})"),
        "subject": _ref("Patient", export.patient.id),
        "period": period,
    }
    # The resolving clinician, when the bundle holds them (a Practitioner per link).
    if flag.resolved_by_id in {link.clinician.id for link in export.links}:
        resource["author"] = _ref("Practitioner", flag.resolved_by_id)
    return _entry("Flag", flag.id, resource)


def _consent(export: CourseExport, link) -> dict:
    share = link.share
    period = {"start": share.linked_at.isoformat()}
    if share.revoked_at is not None:
        period["end"] = share.revoked_at.isoformat()
    return _entry("Consent", share.id, {
        "status": "active" if share.revoked_at is None else "inactive",
        "scope": _coded("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy",
                        "Privacy Consent"),
        "category": [_coded("http://loinc.org", "59284-0", "Patient Consent")],
        "patient": _ref("Patient", export.patient.id),
        "dateTime": share.linked_at.isoformat(),
        "performer": [_ref("Patient", export.patient.id)],
        "policyRule": _coded("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN",
                             "opt-in"),
        "provision": {
            "type": "permit", "period": period,
            "actor": [{"role": _coded(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PRCP",
                "primary information recipient"),
                "reference": _ref("Practitioner", link.clinician.id)}],
            "action": [_coded("http://terminology.hl7.org/CodeSystem/consentaction", "access")],
        },
    })
