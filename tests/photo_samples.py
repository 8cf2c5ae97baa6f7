"""Photos the tests upload, generated: phone-like JPEGs with EXIF, PNG, WebP, HEIC, and bad files.

Small by default (a few KB), so hundreds of uploads keep the suite fast;
the pixel content is chosen so what a test checks (orientation, exposure,
sharpness) survives JPEG compression.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image, ImageDraw, ImageFilter

from services.images import pipeline as images

images.register_heif()  # to write HEIC samples

GPS_IFD, EXIF_IFD = 0x8825, 0x8769
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
BODY_SERIAL_NUMBER, MAKER_NOTE = 0xA431, 0x927C
SERIAL = "SN-PRIVATE-4711"
MAKER_SECRET = b"MAKERNOTE-PRIVATE-0815"
XMP_SECRET = b"XMP-PRIVATE-LOCATION"
COMMENT_SECRET = b"COMMENT-PRIVATE-9"
# Where the Berlin TV tower stands.
GPS = {1: "N", 2: (52.0, 31.0, 14.0), 3: "E", 4: (13.0, 24.0, 33.0)}

# EXIF orientation -> the transform that made the stored pixels from an upright picture
# (the inverse of what a viewer applies).
STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright_marker(size=(96, 64)) -> Image.Image:
    """A picture whose top-left quarter is red and the rest blue: any turn or flip shows."""
    width, height = size
    picture = Image.new("RGB", size, (30, 60, 200))
    ImageDraw.Draw(picture).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=(220, 30, 30))
    return picture


def scalp(size=(96, 64), brightness=150, blur=0.0) -> Image.Image:
    """Skin with dark hair strands: fine detail, like a scalp close-up."""
    width, height = size
    picture = Image.new("RGB", size, (brightness, int(brightness * 0.8), int(brightness * 0.7)))
    draw = ImageDraw.Draw(picture)
    for x in range(-height, width, 5):
        draw.line((x, 0, x + height, height), fill=(brightness // 5,) * 3, width=1)
        draw.line((x + 2, height, x + height // 2, 0), fill=(brightness // 4,) * 3, width=1)
    return picture.filter(ImageFilter.GaussianBlur(blur)) if blur else picture


def exif_block(orientation: int | None = None, gps: bool = False, taken: str | None = None,
               offset: str | None = None, private: bool = False) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = dict(GPS)
    if private:
        exif[MAKE], exif[MODEL] = "PhoneMaker", "Phone 12 Pro"
    details = {}
    if taken:
        details[DATE_TIME_ORIGINAL] = taken
    if offset:
        details[OFFSET_TIME_ORIGINAL] = offset
    if private:
        details[BODY_SERIAL_NUMBER] = SERIAL
        details[MAKER_NOTE] = MAKER_SECRET
    if details:
        exif[EXIF_IFD] = details
    return exif


def jpeg(picture: Image.Image | None = None, exif: Image.Exif | None = None,
         quality: int = 92, **options) -> bytes:
    picture = picture if picture is not None else scalp()
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, **_with(exif), **options)
    return out.getvalue()


def _with(exif: Image.Exif | None) -> dict:
    return {"exif": exif.tobytes()} if exif else {}


def jpeg_file(picture: Image.Image | None = None, **options) -> io.BytesIO:
    """A JPEG as a file object, for a multipart upload with the test client."""
    return io.BytesIO(jpeg(picture, **options))


def oriented_jpeg(orientation: int, size=(96, 64)) -> bytes:
    """A JPEG whose stored pixels are turned so that EXIF `orientation` makes them upright."""
    picture = upright_marker(size)
    if STORED_FROM_UPRIGHT[orientation] is not None:
        picture = picture.transpose(STORED_FROM_UPRIGHT[orientation])
    return jpeg(picture, exif_block(orientation=orientation))


def phone_jpeg(size=(96, 64), orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS, serial and maker note, XMP, a comment."""
    data = jpeg(scalp(size), exif_block(orientation=orientation, gps=True, private=True,
                                        taken="2026:11:02 09:15:00", offset="+01:00"),
                comment=COMMENT_SECRET)
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + XMP_SECRET + b"</x:xmpmeta>"
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10" + b"IPTC-PRIVATE-CITY"
    extra = _jpeg_segment(0xE1, xmp) + _jpeg_segment(0xED, iptc)
    return data[:2] + extra + data[2:]


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def png(picture: Image.Image | None = None, exif: Image.Exif | None = None, **options) -> bytes:
    picture = picture if picture is not None else scalp()
    out = io.BytesIO()
    picture.save(out, "PNG", **_with(exif), **options)
    return out.getvalue()


def webp(picture: Image.Image | None = None, exif: Image.Exif | None = None, **options) -> bytes:
    picture = picture if picture is not None else scalp()
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=90, **_with(exif), **options)
    return out.getvalue()


def heic(picture: Image.Image | None = None, exif: Image.Exif | None = None,
         **options) -> bytes:
    picture = picture if picture is not None else scalp()
    out = io.BytesIO()
    picture.save(out, "HEIF", quality=90, **_with(exif), **options)
    return out.getvalue()


def encoded(picture: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, format, **options)
    return out.getvalue()


def png_of_size(width: int, height: int, rows: int | None = None) -> bytes:
    """A black greyscale PNG of any size; with `rows`, only that many rows of image data."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height if rows is None else rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", data + compressor.flush()) + _png_chunk(b"IEND", b""))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload))


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert('polyglot')</script>")
    return out.getvalue()


def ingested(store, data: bytes):
    """What an upload ends with once its job has run: `ingest` (the request's part), then
    `derive` (the job's), as one `IngestedPhoto` with every key."""
    import dataclasses

    from services.images import ingest as intake

    photo = intake.ingest(store, data)
    if photo.preview_key is not None:
        return photo
    with store.open(photo.original_key) as original:
        made = intake.derive(store, original.read())
    return dataclasses.replace(photo, preview_key=made.preview_key,
                               thumbnail_key=made.thumbnail_key)
