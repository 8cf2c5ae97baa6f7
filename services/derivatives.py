"""A photo's preview and thumbnail, made by a job after its upload was answered."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services import jobs
from services.images import ingest as intake
from services.images import pipeline as images
from storage.blobs import BlobStore
from storage.models import Job, Photo

KIND = "derivatives"


def request(session: Session, photo: Photo) -> None:
    """Have the photo's derivatives made, unless it has them."""
    if photo.derivatives != "ready":
        jobs.submit(session, KIND, photo.id, requested_by_id=photo.patient_id)


def make(session: Session, store: BlobStore, job: Job) -> None:
    """The job: make and store the photo's preview and thumbnail (nothing if it has them,
    or is gone). Files are named by their content, so a second run writes the same ones."""
    photo = session.get(Photo, job.subject_id)
    if photo is None or photo.derivatives == "ready":
        return
    with store.open(photo.original_key) as original:
        made = intake.derive(store, original.read())
    photo.preview_key, photo.thumbnail_key = made.preview_key, made.thumbnail_key


def preview_bytes(store: BlobStore, photo: Photo) -> bytes:
    """The photo's preview; made from the original here (not stored) while its job has not
    run yet, so an export or a comparison asked for seconds after an upload still shows it."""
    if photo.preview_key is not None:
        with store.open(photo.preview_key) as stored:
            return stored.read()
    with store.open(photo.original_key) as original:
        return images.develop(images.read(original.read())).preview.data
