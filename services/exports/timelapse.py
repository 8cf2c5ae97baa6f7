"""A time-lapse of one scalp area: its photos in date order as a looping animation (GIF or WebP).

Every frame has the same size: the photo's (upright) preview scaled to fit a
frame of FRAME_LONG_SIDE pixels whose shape the first photo sets, centred on
black, with its date and session in a strip underneath.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from services.exports.course_data import PhotoEntry
from storage.blobs import BlobStore

# The animation formats, as `?format=` names them.
GIF, WEBP = "gif", "webp"
FRAME_LONG_SIDE = 640
CAPTION_STRIP = 40
FRAME_MS = 800
# The last frame stays longer, so the outcome can be looked at before it starts over.
LAST_FRAME_MS = 2000
WEBP_QUALITY = 80


def timelapse(photos: list[PhotoEntry], store: BlobStore, image_format: str) -> bytes:
    """The animation in `image_format` ("gif" or "webp"); `photos` oldest first, at least one."""
    font = ImageFont.load_default(size=CAPTION_STRIP // 2)
    size: tuple[int, int] | None = None
    frames = []
    for photo in photos:
        picture = photo.preview(store, size or (FRAME_LONG_SIDE, FRAME_LONG_SIDE))
        size = size or _fit(picture.size)
        frames.append(_frame(picture, photo.caption, size, font))
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    out = io.BytesIO()
    if image_format == WEBP:
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, quality=WEBP_QUALITY)
    else:
        frames = [frame.quantize(colors=256, method=Image.Quantize.MEDIANCUT) for frame in frames]
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0)
    return out.getvalue()


def _fit(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width >= height:
        return FRAME_LONG_SIDE, max(1, round(FRAME_LONG_SIDE * height / width))
    return max(1, round(FRAME_LONG_SIDE * width / height)), FRAME_LONG_SIDE


def _frame(picture: Image.Image, caption: str, size: tuple[int, int],
           font: ImageFont.FreeTypeFont) -> Image.Image:
    width, height = size
    frame = Image.new("RGB", (width, height + CAPTION_STRIP), "black")
    frame.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
    ImageDraw.Draw(frame).text((width / 2, height + CAPTION_STRIP / 2), caption, fill="white",
                               font=font, anchor="mm")
    return frame
