"""Clinical notes on a course: linked clinicians write, the patient reads, only the author changes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from api.access import course_or_404, visible_patient
from api.auth import CLINICIAN, current_user, login_required
from api.blueprint import Blueprint
from api.database import db
from api.idempotency import idempotent_create
from api.paging import id_page
from schemas.common import PageArgsSchema
from schemas.observations import NoteCreateSchema, NotePageSchema, NoteSchema, NoteUpdateSchema
from storage.models import Note, User

blp = Blueprint("notes", __name__, url_prefix="/api/v1",
                description="Clinical notes on a course.")


def note_body(note: Note, author: User) -> dict:
    return {"id": note.id, "course_id": note.course_id, "text": note.text,
            "author": {"id": author.id, "display_name": author.display_name},
            "created_at": note.created_at, "updated_at": note.updated_at}


def own_note_or_404(note_id: int) -> Note:
    """A note the caller wrote, on a patient still linked to them."""
    note = db().scalar(select(Note).where(Note.id == note_id,
                                          Note.author_id == current_user().id,
                                          visible_patient(Note.patient_id)))
    if note is None:
        abort(404, message="No such note.")
    return note


@blp.route("/courses/<int:course_id>/notes")
class NoteViews(MethodView):
    @login_required(CLINICIAN)
    @idempotent_create
    @blp.arguments(NoteCreateSchema)
    @blp.response(201, NoteSchema)
    def post(self, data, course_id):
        """Write a note on a linked patient's course"""
        course = course_or_404(course_id)
        note = Note(course_id=course.id, patient_id=course.patient_id,
                    author_id=current_user().id, text=data["text"])
        db().add(note)
        db().flush()
        return note_body(note, current_user())

    @login_required()
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, NotePageSchema)
    def get(self, args, course_id):
        """The course's notes, newest first"""
        course = course_or_404(course_id, reading="notes")
        rows, next_cursor = id_page(
            select(Note, User).join(User, User.id == Note.author_id)
            .where(Note.course_id == course.id), Note.id, args)
        return {"items": [note_body(note, author) for note, author in rows],
                "next_cursor": next_cursor}


@blp.route("/notes/<int:note_id>")
class NoteByIdViews(MethodView):
    @login_required(CLINICIAN)
    @blp.arguments(NoteUpdateSchema)
    @blp.response(200, NoteSchema)
    def patch(self, data, note_id):
        """Edit one of my notes"""
        note = own_note_or_404(note_id)
        note.text = data["text"]
        db().commit()
        return note_body(note, current_user())

    @login_required(CLINICIAN)
    @blp.response(204)
    def delete(self, note_id):
        """Delete one of my notes"""
        db().delete(own_note_or_404(note_id))
        db().commit()
