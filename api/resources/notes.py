"""Clinical notes on a course: linked clinicians write, the patient reads, only the author changes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from api.access import course_or_404, visible_patient
from api.auth import current_user
from api.blueprint import Blueprint
from api.database import db
from api.paging import id_page
from domain.roles import CLINICIAN
from schemas.common import PageArgsSchema
from schemas.observations import (
    NoteCreateSchema,
    NotePageSchema,
    NoteSchema,
    NoteUpdateSchema,
)
from services.notes import write_note
from storage.models import Note

blp = Blueprint("notes", __name__, url_prefix="/api/v1",
                description="Clinical notes on a course.")


def own_note_or_404(note_id: int) -> Note:
    """A note the caller wrote, on a patient still linked to them."""
    note = db().scalar(select(Note).options(joinedload(Note.author))
                       .where(Note.id == note_id, Note.author_id == current_user().id,
                              visible_patient(Note.patient_id)))
    if note is None:
        abort(404, message="No such note.")
    return note


@blp.route("/courses/<int:course_id>/notes")
class NoteViews(MethodView):
    @blp.login_required(CLINICIAN)
    @blp.idempotent_create
    @blp.arguments(NoteCreateSchema)
    @blp.response(201, NoteSchema)
    def post(self, data, course_id):
        """Write a note on a linked patient's course"""
        return write_note(db(), course_or_404(course_id), current_user(), data["text"])

    @blp.login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, NotePageSchema)
    def get(self, args, course_id):
        """The course's notes, newest first"""
        course = course_or_404(course_id, reading="notes")
        return id_page(select(Note).options(joinedload(Note.author))
                       .where(Note.course_id == course.id), Note.id, args)


@blp.route("/notes/<int:note_id>")
class NoteByIdViews(MethodView):
    @blp.login_required(CLINICIAN)
    @blp.arguments(NoteUpdateSchema)
    @blp.response(200, NoteSchema)
    def patch(self, data, note_id):
        """Edit one of my notes"""
        note = own_note_or_404(note_id)
        note.text = data["text"]
        db().commit()
        return note

    @blp.login_required(CLINICIAN)
    @blp.response(204)
    def delete(self, note_id):
        """Delete one of my notes"""
        db().delete(own_note_or_404(note_id))
        db().commit()
