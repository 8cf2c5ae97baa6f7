"""Before and after: two photos of one scalp area side by side, dated and numbered.

By default the area's first photo in the course (the baseline) and its latest;
each is captioned with the day it was taken and its place in the course.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from domain.photos import place_in_course
from services import derivatives
from services.images.pipeline import displayable, jpeg
from storage import photo_records, records
from storage.blobs import BlobStore
from storage.models import Course, Photo

COMPARE_HEIGHT = 960


@dataclass(frozen=True)
class Comparison:
    """Two photos of an area to show side by side, their captions, and an ETag for the picture."""

    before: Photo
    after: Photo
    captions: tuple[str, str]
    tag: str


def comparison(session: Session, course: Course, area: str, before_id: int | None,
               after_id: int | None) -> Comparison:
    """By default the area's first photo in the course (the baseline) and its latest."""
    photos = photo_records.course_area_photos(session, course.id, area)
    by_id = {photo.id: photo for photo in photos}
    for name, photo_id in (("before", before_id), ("after", after_id)):
        if photo_id is not None and photo_id not in by_id:
            raise RuleViolation(f"No photo {photo_id} of this area in this course.", name)
    before = by_id[before_id] if before_id is not None else photos[0] if photos else None
    after = by_id[after_id] if after_id is not None else photos[-1] if photos else None
    if before is None or after is None or before.id == after.id:
        raise RuleViolation("Comparing needs two photos of this area in the course.", "area")
    done = records.course_sessions(session, course.id)
    performed = [row.performed_at for row in done]
    numbers = {row.id: number for number, row in enumerate(done, start=1)}
    captions = tuple(
        place_in_course(photo.taken_at, numbers.get(photo.session_id), performed)
        .caption(photo.local_taken_at.date()) for photo in (before, after))
    tag = hashlib.sha256(repr((before.preview_key, after.preview_key, captions)).encode())
    return Comparison(before, after, captions, tag.hexdigest())


def render(store: BlobStore, shown: Comparison) -> bytes:
    """The comparison as one JPEG, made from the two previews."""
    return side_by_side(derivatives.preview_bytes(store, shown.before),
                        derivatives.preview_bytes(store, shown.after), shown.captions,
                        COMPARE_HEIGHT)


def side_by_side(left: bytes, right: bytes, captions: tuple[str, str], height: int) -> bytes:
    """One JPEG: two pictures at the same height, each with its caption underneath."""
    pictures = []
    for data in (left, right):
        picture = Image.open(io.BytesIO(data))
        picture.draft("RGB", (picture.width * height // picture.height, height))
        picture = displayable(picture)
        scale = height / picture.height
        pictures.append(picture.resize((max(1, round(picture.width * scale)), height),
                                       Image.Resampling.LANCZOS))
    gap, strip = 16, max(32, height // 12)
    font = ImageFont.load_default(size=strip * 3 // 5)
    canvas = Image.new("RGB", (sum(p.width for p in pictures) + 3 * gap, height + strip + 2 * gap),
                       "white")
    draw = ImageDraw.Draw(canvas)
    x = gap
    for picture, caption in zip(pictures, captions):
        canvas.paste(picture, (x, gap))
        draw.text((x + picture.width / 2, gap + height + strip / 2), caption, fill="black",
                  font=font, anchor="mm")
        x += picture.width + gap
    return jpeg(canvas, 90, None)
