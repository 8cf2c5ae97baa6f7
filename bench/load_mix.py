"""The load scenario's request classes and photos, shared by `bench.load` and the locustfile.

(The locustfile imports locust, which patches the process for gevent, so
`bench.load` takes these from here, not from it.)
"""

from __future__ import annotations

import io
import random
import uuid

from PIL import Image

READ, LOG, UPLOAD = "read", "session log", "photo upload"
# What a right answer is for each class; anything else is a failed request.
EXPECTED = {READ: {200}, LOG: {201}, UPLOAD: {200, 201}}


def multipart(fields: dict[str, str], photo: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and the photo as `file`; its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="IMG_0001.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode())
    body = b"".join(parts) + photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def retaken(photo: bytes, rng: random.Random) -> bytes:
    """A camera photo as a new upload: a JPEG comment of random bytes after SOI, so its
    SHA-256 (the dedupe key) is new each time while the pixels still need a full ingest."""
    comment = rng.randbytes(16).hex().encode()
    return photo[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + photo[2:]


def phone_jpeg(rng: random.Random) -> bytes:
    """A small real JPEG of a scalp, never the same bytes twice."""
    picture = Image.new("RGB", (160, 120), tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(12):
        x, y = rng.randrange(160), rng.randrange(120)
        picture.putpixel((x, y), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()
