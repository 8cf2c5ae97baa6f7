"""The photo pipeline, Pillow only: recognise, fully decode, orient, strip, derive, rate.

No Flask and no database here, so the API, the CLI and the benchmark run the
very same code. Three steps, so a caller can write the original on another
thread while the pixels decode (`services.images.ingest`):

- `read(data)` recognises the format by its first bytes (never by name or
  Content-Type), parses the header only and refuses what is not one still
  photo within the pixel limit;
- `strip(source)` rewrites the container without private metadata;
- `develop(source)` decodes every byte of the image (a truncated or corrupt one
  is refused here), and makes the upright preview and thumbnail and the
  quality hints.

Originals keep their pixels bit for bit: JPEG, PNG and WebP are rewritten at
the container level (segments or chunks), never re-encoded. Only what a
decoder needs to show the picture right is kept: the coding tables and image
data, the ICC profile, JFIF density (without its thumbnail), the Adobe colour
transform, PNG colour chunks; EXIF (GPS, serial numbers, maker notes, the
embedded thumbnail), XMP, IPTC, comments, unknown chunks and anything after
the end of the image are dropped. A lossless rewrite is the only way to keep
full fidelity at the speed asked for (re-encoding 12 MP at quality 95 would
cost more than the whole ingest budget and still lose a generation). Because
the pixels are untouched, an original taken sideways keeps its orientation as
a fresh EXIF block holding the Orientation tag and nothing else; every viewer
in use (browsers, iOS, Android, Pillow's `exif_transpose`) shows it upright.
Previews and thumbnails are rotated for real and carry no EXIF at all.

HEIC/HEIF originals are transcoded to JPEG at quality 95 with full-resolution
chroma (4:4:4), upright, ICC profile kept: browsers and older Android phones
cannot show HEIC, and HEIF metadata lives in item properties no container
rewrite could strip reliably.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import (
    ExifTags,
    Image,
    ImageFilter,
    UnidentifiedImageError,
)

# The largest camera we support: 100 MP (a 12-50 MP phone fits with room).
DEFAULT_MAX_PIXELS = 100_000_000

JPEG, PNG, WEBP, HEIF = "image/jpeg", "image/png", "image/webp", "image/heif"
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", HEIF: "HEIF"}
EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp"}

PREVIEW_LONG_SIDE = 1280
THUMBNAIL_LONG_SIDE = 320
DERIVATIVE_QUALITY = 85
HEIF_ORIGINAL_QUALITY = 95

# Quality hints, computed from the preview's luma (ITU-R 601, 0-255).
# too_dark: the mean luma is below this (a scalp in a dim bathroom).
TOO_DARK_MEAN_LUMA = 45
# overexposed: at least this share of the pixels is blown out (luma >= 250).
BLOWN_OUT_LUMA = 250
OVEREXPOSED_SHARE = 0.20
# blurry: the variance of the Laplacian of the preview, halved to 640 px, is
# below this. Hair is fine detail: a sharp scalp photo scores in the
# hundreds, a shaken or out-of-focus one in the tens.
BLURRY_LAPLACIAN_VARIANCE = 60
TOO_DARK, OVEREXPOSED, BLURRY = "too_dark", "overexposed", "blurry"

_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the transpose that makes the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_LAPLACIAN = ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)


class UnsupportedImage(Exception):
    """Not one of the accepted formats, judged by the bytes (HTTP 415)."""


class UnreadableImage(Exception):
    """An accepted format, but empty, truncated, corrupt, animated or too large (HTTP 422)."""


@dataclass(frozen=True)
class Rendition:
    """The bytes of one stored file and what they are."""

    data: bytes
    media_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]


@dataclass(frozen=True)
class Source:
    """An upload after `read`: recognised, header parsed, pixels not decoded yet."""

    data: bytes
    image: Image.Image
    media_type: str
    orientation: int
    # The size shown upright (the stored size turned by the orientation).
    width: int
    height: int
    # EXIF DateTimeOriginal: aware with OffsetTimeOriginal, naive without.
    captured_at: datetime | None


@dataclass(frozen=True)
class Developed:
    """What `develop` makes of a source; `transcoded` is the original of a HEIF upload."""

    preview: Rendition
    thumbnail: Rendition
    quality_warnings: tuple[str, ...]
    transcoded: Rendition | None


def set_pixel_limit(max_pixels: int) -> None:
    """Refuse images over `max_pixels` before decoding them (Pillow's bomb check)."""
    Image.MAX_IMAGE_PIXELS = max_pixels


set_pixel_limit(DEFAULT_MAX_PIXELS)


def register_heif() -> None:
    """Teach Pillow HEIF, the first time one comes (libheif costs 10 MB of memory)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def media_type_of(head: bytes) -> str | None:
    """The accepted format these first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        box = head[8:min(size, len(head))]
        brands = {box[i:i + 4] for i in range(0, len(box), 4)}
        if brands & _HEVC_BRANDS:
            return HEIF
    return None


def read(data: bytes) -> Source:
    """Recognise and check an upload without decoding its pixels."""
    if not data:
        raise UnreadableImage("The file is empty.")
    media_type = media_type_of(data[:64])
    if media_type is None:
        raise UnsupportedImage("Send a JPEG, PNG, WebP or HEIC photo.")
    image = _open(data, media_type)
    # (A JPEG with a second picture in it, MPF, is not an animation: its first one counts.)
    if media_type in (PNG, WEBP) and getattr(image, "is_animated", False):
        raise UnreadableImage("Animated images are not photos; send a single frame.")
    exif = _exif(image)
    orientation = exif.get(_EXIF_ORIENTATION, 1)
    if orientation not in _UPRIGHT:
        orientation = 1
    width, height = image.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Source(data, image, media_type, orientation, width, height, _captured_at(exif))


def strip(source: Source) -> Rendition | None:
    """The original to store: the same pixels in a container with no private metadata.

    None for HEIF, whose original is transcoded by `develop`.
    """
    if source.media_type == HEIF:
        return None
    clean = {JPEG: _clean_jpeg, PNG: _clean_png, WEBP: _clean_webp}[source.media_type]
    return Rendition(clean(source.data, source.orientation), source.media_type)


def _open(data: bytes, media_type: str) -> Image.Image:
    """Parse the header only; refuse an image over the pixel limit before decoding it."""
    if media_type == HEIF:
        register_heif()
    try:
        # Pillow warns above MAX_IMAGE_PIXELS (and refuses above twice that):
        # here the warning is already a refusal. (catch_warnings is per
        # process: the app runs in sync workers, one request per process.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[media_type]])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UnreadableImage(
            f"The image has more than {Image.MAX_IMAGE_PIXELS:,} pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        raise UnreadableImage("The image is corrupt or truncated.") from None


def develop(source: Source, helper: Executor | None = None) -> Developed:
    """Decode every byte, then make the upright preview and thumbnail and rate the preview.

    With a `helper`, half of the preview is shrunk there, the preview is rated
    there while this thread turns it upright, and encoded there while this
    thread makes the thumbnail.
    """
    image = source.image
    preview_size = _fit(image.size, PREVIEW_LONG_SIDE)
    if source.media_type == JPEG:
        # DCT scaling: decode straight to the smallest 1/2^n size that still
        # covers the preview. Every byte of the scan is still decoded.
        image.draft("RGB" if image.mode == "RGB" else None, preview_size)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, MemoryError):
        raise UnreadableImage("The image is corrupt or truncated.") from None
    transcoded = _transcode(image) if source.media_type == HEIF else None
    preview = _shrink(displayable(image), preview_size, helper)
    # The rating is the same any way up (a symmetric kernel and histograms), so
    # it starts before the preview is turned upright.
    rated = helper.submit(quality_warnings, preview) if helper is not None else None
    if source.orientation != 1:
        preview = preview.transpose(_UPRIGHT[source.orientation])
    icc = _display_icc(image)
    if helper is None:
        encoded, rating = jpeg(preview, DERIVATIVE_QUALITY, icc), quality_warnings(preview)
    else:
        encoding = helper.submit(jpeg, preview, DERIVATIVE_QUALITY, icc)
    thumbnail = _shrink(preview, _fit(preview.size, THUMBNAIL_LONG_SIDE), None)
    thumbnail_data = jpeg(thumbnail, DERIVATIVE_QUALITY, icc)
    if helper is not None:
        encoded, rating = encoding.result(), rated.result()
    return Developed(
        preview=Rendition(encoded, JPEG),
        thumbnail=Rendition(thumbnail_data, JPEG),
        quality_warnings=rating,
        transcoded=transcoded,
    )


def _shrink(picture: Image.Image, size: tuple[int, int], helper: Executor | None) -> Image.Image:
    """`picture` at `size` by area averaging (BOX), whole-factor reductions first.

    With a helper thread, it makes the top half while this thread makes the
    bottom one (Pillow lets go of the GIL while resampling).
    """
    if helper is None or size[1] < 2 or size == picture.size:
        return picture.resize(size, Image.Resampling.BOX, reducing_gap=1.0)
    width, height = size
    middle = height // 2
    split = picture.height * middle / height
    top = helper.submit(picture.resize, (width, middle), Image.Resampling.BOX,
                        (0, 0, picture.width, split), 1.0)
    bottom = picture.resize((width, height - middle), Image.Resampling.BOX,
                            (0, split, picture.width, picture.height), 1.0)
    whole = Image.new(picture.mode, size)
    whole.paste(top.result(), (0, 0))
    whole.paste(bottom, (0, middle))
    return whole


def quality_warnings(preview: Image.Image) -> tuple[str, ...]:
    """`too_dark`, `overexposed`, `blurry`: what should make the app ask for a retake.

    Measured on the preview halved (640 px on the long side): exposure is the
    same at any size, and the blur threshold is calibrated at that size.
    """
    luma = (preview.reduce(2) if min(preview.size) >= 64 else preview).convert("L")
    histogram = luma.histogram()
    pixels = luma.width * luma.height
    found = []
    if _mean(histogram) < TOO_DARK_MEAN_LUMA:
        found.append(TOO_DARK)
    if sum(histogram[BLOWN_OUT_LUMA:]) / pixels >= OVEREXPOSED_SHARE:
        found.append(OVEREXPOSED)
    if min(luma.size) < 3:
        return tuple(found)  # too few pixels to tell sharp from blurred
    # Pillow leaves the outermost pixels unfiltered: they are not edges.
    edges = luma.filter(_LAPLACIAN).crop((1, 1, luma.width - 1, luma.height - 1)).histogram()
    mean = _mean(edges)
    variance = sum(n * (value - mean) ** 2 for value, n in enumerate(edges)) / sum(edges)
    if variance < BLURRY_LAPLACIAN_VARIANCE:
        found.append(BLURRY)
    return tuple(found)


def _mean(histogram: list[int]) -> float:
    return sum(value * count for value, count in enumerate(histogram)) / sum(histogram)


def _exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except (OSError, SyntaxError, ValueError, struct.error, EOFError):
        return Image.Exif()


def _captured_at(exif: Image.Exif) -> datetime | None:
    """EXIF DateTimeOriginal, with OffsetTimeOriginal when the camera wrote it."""
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, KeyError):
        return None
    stamp = details.get(ExifTags.Base.DateTimeOriginal)
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.strptime(stamp.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(ExifTags.Base.OffsetTimeOriginal)
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", offset.strip("\x00 ")) if isinstance(
        offset, str) else None
    if match is None:
        return moment
    sign = 1 if match[1] == "+" else -1
    minutes = sign * (int(match[2]) * 60 + int(match[3]))
    if abs(minutes) > 18 * 60:
        return moment
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """`size` scaled down so its long side is `long_side` (never scaled up)."""
    width, height = size
    scale = long_side / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def displayable(image: Image.Image) -> Image.Image:
    """The image in a mode a JPEG can hold: RGB, or L for greyscale."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: keep the top 8 bits (convert("L") would clip).
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _display_icc(image: Image.Image) -> bytes | None:
    """The ICC profile, if it describes what the derivatives hold (not a CMYK one)."""
    icc = image.info.get("icc_profile")
    if isinstance(icc, bytes) and len(icc) >= 20 and icc[16:20] in (b"RGB ", b"GRAY"):
        return icc
    return None


def jpeg(image: Image.Image, quality: int, icc: bytes | None, **options) -> bytes:
    # Pillow writes a comment or XMP it finds in `info`, which resize and
    # transpose carry over from the upload: start from nothing.
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, icc_profile=icc, **options)
    return out.getvalue()


def _transcode(image: Image.Image) -> Rendition:
    """A HEIF original as a JPEG at quality 95, full-resolution chroma, upright."""
    picture = displayable(image)
    return Rendition(jpeg(picture, HEIF_ORIGINAL_QUALITY, _display_icc(image), subsampling=0),
                     JPEG)


def _orientation_tiff(orientation: int) -> bytes:
    """A TIFF header and one IFD holding only the Orientation tag (big-endian)."""
    return (b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
            + struct.pack(">HHIHH", _EXIF_ORIENTATION, 3, 1, orientation, 0)
            + struct.pack(">I", 0))


# -- JPEG: keep the coding segments and the scan, drop every private segment --

_APP0, _APP1, _APP2, _APP14, _COM, _SOS, _EOI = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE, 0xDA, 0xD9
# A marker inside entropy-coded data: 0xFF not followed by a stuffed 0x00, a
# restart marker (D0-D7) or another 0xFF fill byte.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _clean_jpeg(data: bytes, orientation: int) -> bytes:
    """SOI, JFIF (no thumbnail), Orientation, ICC, Adobe, tables, frames and scans, EOI."""
    head: list[bytes] = [b"\xff\xd8"]
    body: list[bytes | memoryview] = []
    view = memoryview(data)
    pos, size = 2, len(data)
    while True:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > size or data[pos] != 0xFF:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        marker = data[pos + 1]
        if marker == _EOI:
            if not any(bytes(part[:2]) == b"\xff\xda" for part in body):
                raise UnreadableImage("The JPEG has no image data.")
            body.append(b"\xff\xd9")
            break
        if pos + 4 > size:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        payload = data[pos + 4:end]
        if marker == _APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            head.append(_segment(_APP0, payload[:12] + b"\x00\x00"))
        elif marker == _APP2 and payload.startswith(b"ICC_PROFILE\x00"):
            body.append(view[pos:end])
        elif marker == _APP14 and payload.startswith(b"Adobe") and len(payload) >= 12:
            body.append(_segment(_APP14, payload[:12]))
        elif 0xE0 <= marker <= 0xEF or marker == _COM:
            pass
        else:
            body.append(view[pos:end])
        pos = end
        if marker == _SOS:
            found = _SCAN_END.search(data, pos)
            if found is None:
                raise UnreadableImage("The JPEG is truncated.")
            body.append(view[pos:found.start()])
            pos = found.start()
    if orientation != 1:
        head.append(_segment(_APP1, b"Exif\x00\x00" + _orientation_tiff(orientation)))
    return b"".join([*head, *body])


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


# -- PNG: critical chunks and colour chunks, CRCs checked --------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP",
             b"sBIT", b"sRGB", b"cICP", b"mDCv", b"cLLi", b"pHYs", b"bKGD"}


def _clean_png(data: bytes, orientation: int) -> bytes:
    out: list[bytes | memoryview] = [_PNG_SIGNATURE]
    view = memoryview(data)
    pos, size = len(_PNG_SIGNATURE), len(data)
    while True:
        if pos + 12 > size:
            raise UnreadableImage("The PNG is truncated.")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > size:
            raise UnreadableImage("The PNG is truncated.")
        if zlib.crc32(view[pos + 4:end - 4]) != int.from_bytes(data[end - 4:end], "big"):
            raise UnreadableImage("The PNG is corrupt (a chunk fails its checksum).")
        if kind in _PNG_KEPT:
            out.append(view[pos:end])
        if kind == b"IHDR" and orientation != 1:
            out.append(_png_chunk(b"eXIf", _orientation_tiff(orientation)))
        pos = end
        if kind == b"IEND":
            return b"".join(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


# -- WebP: the image chunks and ICC, EXIF and XMP flags cleared ---------------

_WEBP_KEPT = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP"}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _clean_webp(data: bytes, orientation: int) -> bytes:
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data) or end < 12:
        raise UnreadableImage("The WebP is truncated.")
    chunks: list[bytes] = []
    extended = False
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise UnreadableImage("The WebP is corrupt.")
        kind = data[pos:pos + 4]
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        stop = pos + 8 + length + (length & 1)
        if stop > end:
            raise UnreadableImage("The WebP is truncated.")
        if kind == b"VP8X":
            extended = True
            flags = data[pos + 8] & ~(_VP8X_EXIF | _VP8X_XMP)
            if orientation != 1:
                flags |= _VP8X_EXIF
            chunks.append(data[pos:pos + 8] + bytes((flags,)) + data[pos + 9:stop])
        elif kind in _WEBP_KEPT:
            chunks.append(data[pos:stop])
        pos = stop
    if orientation != 1 and extended:
        tiff = _orientation_tiff(orientation)
        chunks.append(b"EXIF" + struct.pack("<I", len(tiff)) + tiff + b"\x00" * (len(tiff) & 1))
    body = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body

