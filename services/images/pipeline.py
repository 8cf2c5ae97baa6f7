"""The photo pipeline: recognise, fully decode, orient, strip, derive, rate.

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

Pillow parses and decodes, except JPEG pixels: those are decoded by
libjpeg-turbo through simplejpeg in strict mode, which refuses any corrupt
data libjpeg would otherwise paper over (Pillow's decoder accepts a scan cut
short or made of zeros as long as an end-of-image marker follows, and shows
grey where the data is missing). The decode must produce exactly the frame
the header announces, so the stored width and height are the decoded ones.
Pillow's `ImageFile.LOAD_TRUNCATED_IMAGES` stays False for the other formats.

Originals keep their pixels bit for bit: JPEG, PNG and WebP are rewritten at
the container level (segments or chunks), never re-encoded. Only what a
decoder needs to show the picture right is kept. JPEG: SOI, the frame
headers (SOF0-3, 5-7, 9-11, 13-15), the Huffman, arithmetic-coding and
quantisation tables, the restart interval, the scans, EOI, the JFIF density
(without its thumbnail) and the Adobe colour transform; every other marker
segment (APPn, comments, DNL, reserved markers) is dropped. PNG: the critical
chunks and the colour chunks. WebP: the image chunks. In all three, and in a
HEIF transcode, the ICC profile is kept only if it parses as one (LittleCMS),
describes the image's colour space, and is at most MAX_ICC_PROFILE_BYTES; it
is written afresh (one profile, cut to the size its header declares), never
copied segment for segment. EXIF (GPS, serial numbers, maker notes, the
embedded thumbnail), XMP, IPTC, comments, unknown chunks and anything after
the end of the image are dropped. A lossless rewrite is the only way to keep
full fidelity at the speed asked for (re-encoding 12 MP at quality 95 would
cost more than the whole ingest budget and still lose a generation). Because
the pixels are untouched, an original taken sideways keeps its orientation as
a fresh EXIF block holding the Orientation tag and nothing else; every viewer
in use (browsers, iOS, Android, Pillow's `exif_transpose`) shows it upright.
Previews and thumbnails are rotated for real and carry no EXIF at all, and no
ICC profile: they are sRGB. When the original has a valid RGB profile that is
not sRGB (Display P3 from an iPhone, Adobe RGB), the preview's pixels are
converted to sRGB with LittleCMS (one transform per image, applied to the
preview, from which the thumbnail is made). A grey or CMYK profile is not
applied (CMYK is converted to RGB as Pillow does), a junk one is ignored.

HEIC/HEIF originals are transcoded to JPEG at quality 95 with full-resolution
chroma (4:4:4), upright, a valid ICC profile kept: browsers and older Android
phones cannot show HEIC, and HEIF metadata lives in item properties no
container rewrite could strip reliably.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import warnings
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import simplejpeg
from PIL import (
    ExifTags,
    Image,
    ImageChops,
    ImageCms,
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

# The largest ICC profile kept. Cameras and phones write a few hundred bytes
# to a few KB (sRGB 3 KB, Display P3 0.5 KB), print (CMYK) profiles with
# lookup tables a few hundred KB. A JPEG can carry 255 segments of 64 KB of
# "profile" (16 MB) and a PNG or WebP more: anything larger than this is not a
# colour description but a payload, and is dropped with the rest.
MAX_ICC_PROFILE_BYTES = 1024 * 1024

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
    # The ICC profile, if it is a valid one of the image's colour space (`_valid_icc`).
    icc_profile: bytes | None = None


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
    return Source(data, image, media_type, orientation, width, height, _captured_at(exif),
                  _valid_icc(image))


def strip(source: Source) -> Rendition | None:
    """The original to store: the same pixels in a container with no private metadata.

    None for HEIF, whose original is transcoded by `develop`.
    """
    if source.media_type == HEIF:
        return None
    clean = {JPEG: _clean_jpeg, PNG: _clean_png, WEBP: _clean_webp}[source.media_type]
    return Rendition(clean(source.data, source.orientation, source.icc_profile),
                     source.media_type)


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

    With a `helper`, the colour transform (if the profile needs one) is built
    there while this thread decodes, half of the preview is shrunk there, the
    preview is rated there while this thread turns it upright, and encoded
    there while this thread makes the thumbnail.
    """
    preview_size = _fit(source.image.size, PREVIEW_LONG_SIDE)
    to_srgb = (helper.submit(_srgb_transform, source.icc_profile)
               if helper is not None and source.icc_profile is not None else None)
    image = _decode(source, preview_size)
    to_srgb = to_srgb.result() if to_srgb is not None else _srgb_transform(source.icc_profile)
    transcoded = _transcode(image, source.icc_profile) if source.media_type == HEIF else None
    # (A JPEG comes as RGBX, shrunk as it is: converting it whole would copy it.)
    preview = _shrink(image if image.mode == "RGBX" else displayable(image), preview_size, helper)
    del image  # a decoded JPEG is the largest thing in memory: let it go now
    preview = displayable(preview)
    if to_srgb is not None and preview.mode == "RGB":
        to_srgb.apply(preview, preview)  # in place: the preview is a new image
    # The rating is the same any way up (a symmetric kernel and histograms), so
    # it starts before the preview is turned upright.
    rated = helper.submit(quality_warnings, preview) if helper is not None else None
    if source.orientation != 1:
        preview = preview.transpose(_UPRIGHT[source.orientation])
    # The derivatives are sRGB: they carry no profile (an untagged image is sRGB).
    if helper is None:
        encoded, rating = jpeg(preview, DERIVATIVE_QUALITY, None), quality_warnings(preview)
    else:
        encoding = helper.submit(jpeg, preview, DERIVATIVE_QUALITY, None)
    thumbnail = _shrink(preview, _fit(preview.size, THUMBNAIL_LONG_SIDE), None)
    thumbnail_data = jpeg(thumbnail, DERIVATIVE_QUALITY, None)
    if helper is not None:
        encoded, rating = encoding.result(), rated.result()
    return Developed(
        preview=Rendition(encoded, JPEG),
        thumbnail=Rendition(thumbnail_data, JPEG),
        quality_warnings=rating,
        transcoded=transcoded,
    )


def rate(source: Source) -> tuple[str, ...]:
    """Decode every byte and rate the picture, at the smallest scale the rating needs.

    What the upload's answer needs: the image proven whole and the quality
    hints. The hints are measured on the preview halved (`quality_warnings`),
    so a JPEG is decoded straight to the smallest DCT scale that covers that
    (1008x756 for a 12 MP photo, where the preview needs 1512x1134), shrunk
    to it and converted to sRGB as the preview is. The preview and thumbnail
    themselves are made later, by `develop`, from the stored original.
    """
    preview_size = _fit(source.image.size, PREVIEW_LONG_SIDE)
    rated_size = _rated_size(preview_size)
    image = _decode(source, rated_size)
    picture = _shrink(image if image.mode == "RGBX" else displayable(image), rated_size, None)
    del image
    picture = displayable(picture)
    to_srgb = _srgb_transform(source.icc_profile)
    if to_srgb is not None and picture.mode == "RGB":
        to_srgb.apply(picture, picture)
    return _rate(picture.convert("L"))


def _rated_size(preview_size: tuple[int, int]) -> tuple[int, int]:
    """The size the hints are measured at: the preview halved (as `Image.reduce(2)` does)."""
    if min(preview_size) < 64:
        return preview_size
    return -(-preview_size[0] // 2), -(-preview_size[1] // 2)


def _decode(source: Source, preview_size: tuple[int, int]) -> Image.Image:
    """The pixels, every byte decoded (a JPEG at a reduced scale); refuse a corrupt image."""
    image = source.image
    if source.media_type == JPEG:
        return _decode_jpeg(source.data, image, preview_size)
    size = image.size
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, MemoryError):
        raise UnreadableImage("The image is corrupt or truncated.") from None
    if image.size != size:
        raise UnreadableImage("The image is corrupt or truncated.")
    return image


# JPEG colour spaces, by the mode Pillow's header parse gives, as simplejpeg decodes them.
# RGBX, not RGB: it is how Pillow lays out RGB in memory, so the decoded pixels
# become an image without a copy.
_JPEG_COLOURSPACES = {"L": "GRAY", "RGB": "RGBX", "CMYK": "CMYK"}


def _decode_jpeg(data: bytes, header: Image.Image, preview_size: tuple[int, int]) -> Image.Image:
    """A JPEG decoded by libjpeg-turbo in strict mode, at the preview's scale: L, RGBX or CMYK.

    DCT scaling: libjpeg-turbo decodes straight to the smallest of its scales
    (1/8, 2/8 ... 8/8) that still covers the preview, 1512x1134 for a 12 MP
    photo; every byte of the scan is still decoded. Strict mode turns what
    libjpeg only warns about (a scan that ends before the frame is covered,
    bytes after the scan that are not a marker, a bad Huffman code) into a
    refusal, and the decoded size must be the header's size at that scale, so
    the stored size (the header's) is what was decoded.
    """
    colourspace = _JPEG_COLOURSPACES.get(header.mode)
    if colourspace is None:
        raise UnreadableImage("The image is corrupt or truncated.")
    try:
        try:
            pixels = _strict_decode(data, colourspace, header.size, preview_size)
        except ValueError as error:
            # TurboJPEG reads the ICC profile along with the header and takes
            # badly chunked ICC segments for corrupt data ("bad ICC marker").
            # They are no part of the picture, and the original drops them (a
            # profile that does not assemble is ignored): decode without them.
            if "ICC" not in str(error):
                raise
            pixels = _strict_decode(_without_icc_segments(data), colourspace, header.size,
                                    preview_size)
    except (ValueError, MemoryError):
        raise UnreadableImage("The image is corrupt or truncated.") from None
    size = pixels.shape[1], pixels.shape[0]
    if colourspace == "CMYK":
        # libjpeg-turbo converts YCCK to CMYK but not CMYK to RGB. Pillow
        # assumes Adobe's convention (inverted ink values) for every CMYK JPEG;
        # so does this, so previews look as they did with Pillow's decoder.
        return Image.frombuffer("CMYK", size, pixels, "raw", "CMYK;I", 0, 1)
    mode = "L" if colourspace == "GRAY" else colourspace
    return Image.frombuffer(mode, size, pixels, "raw", mode, 0, 1)  # no copy


def _dct_scaled(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """`size` at the smallest of libjpeg-turbo's scales M/8 (M = 1..8) that covers `target`."""
    width, height = size
    for eighths in range(1, 8):
        scaled = -(-width * eighths // 8), -(-height * eighths // 8)
        if scaled[0] >= target[0] and scaled[1] >= target[1]:
            return scaled
    return size


def _strict_decode(data: bytes, colourspace: str, size: tuple[int, int],
                   target: tuple[int, int]):
    """The pixels, decoded at the scale that covers `target`, as an array; or ValueError."""
    width, height = _dct_scaled(size, target)
    # libjpeg's own reading of the header first (cheap: no pixels): its frame
    # must be the one Pillow read and checked against the pixel limit, before
    # a buffer of that size is allocated.
    scaled_height, scaled_width, _, _ = simplejpeg.decode_jpeg_header(
        data, min_height=target[1], min_width=target[0], strict=True)
    if (scaled_width, scaled_height) != (width, height):
        raise ValueError("libjpeg reads another frame size")
    pixels = simplejpeg.decode_jpeg(data, colorspace=colourspace, strict=True,
                                    min_height=target[1], min_width=target[0])
    if pixels.shape[:2] != (height, width):
        raise ValueError("libjpeg decoded another size")
    return pixels


def _without_icc_segments(data: bytes) -> bytes:
    """The JPEG without the ICC_PROFILE segments before its first scan (for the decoder)."""
    view = memoryview(data)
    parts: list[memoryview] = []
    start, pos, size = 0, 2, len(data)
    while pos + 4 <= size and data[pos] == 0xFF and data[pos + 1] not in _NOT_A_SEGMENT:
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if data[pos + 1] == _APP2 and data.startswith(_ICC_MARK, pos + 4):
            parts.append(view[start:pos])
            start = end
        pos = end
    parts.append(view[start:])
    return b"".join(parts)


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
    return _rate((preview.reduce(2) if min(preview.size) >= 64 else preview).convert("L"))


def _rate(luma: Image.Image) -> tuple[str, ...]:
    """The hints of a greyscale picture at the size the thresholds are calibrated for."""
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


# ICC profile classes an image may carry (not device links, abstract or named-colour profiles).
_ICC_CLASSES = {"scnr", "mntr", "prtr", "spac"}
# Probe colours for telling whether a profile's transform to sRGB does anything:
# 8 levels a channel, every combination.
_PROBE_LEVELS = [round(level * 255 / 7) for level in range(8)]
# A transform to sRGB that moves no probe colour further than this is sRGB itself
# (two encodings of sRGB differ by rounding, Display P3 by up to 100 levels).
_SRGB_TOLERANCE = 2


def _icc_space(mode: str) -> str:
    """The ICC colour space an image of this Pillow mode needs."""
    if mode == "CMYK":
        return "CMYK"
    if mode in ("1", "L", "LA", "La", "I", "F") or mode.startswith("I;16"):
        return "GRAY"
    return "RGB "


def _valid_icc(image: Image.Image) -> bytes | None:
    """The image's ICC profile if it is one: parses (LittleCMS), fits, matches the colour space.

    Cut to the size its header declares (so nothing can ride after it), and
    at most MAX_ICC_PROFILE_BYTES; None for anything else (junk is ignored).
    """
    icc = image.info.get("icc_profile")
    if not isinstance(icc, bytes) or len(icc) < 132:
        return None
    declared = int.from_bytes(icc[:4], "big")
    if not 132 <= declared <= min(len(icc), MAX_ICC_PROFILE_BYTES):
        return None
    icc = icc[:declared]
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
        space, kind = profile.xcolor_space, profile.device_class
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError, UnicodeDecodeError):
        return None
    if kind not in _ICC_CLASSES or space != _icc_space(image.mode):
        return None
    return icc


@functools.cache
def _srgb() -> tuple[ImageCms.ImageCmsProfile, Image.Image]:
    """The sRGB profile, and the probe: every combination of `_PROBE_LEVELS`."""
    probe = bytes(channel for red in _PROBE_LEVELS for green in _PROBE_LEVELS
                  for blue in _PROBE_LEVELS for channel in (red, green, blue))
    return (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")),
            Image.frombytes("RGB", (len(probe) // 3, 1), probe))


def _srgb_transform(icc: bytes | None) -> ImageCms.ImageCmsTransform | None:
    """The transform from a valid RGB profile to sRGB; None without one, or if it is sRGB."""
    if icc is None or icc[16:20] != b"RGB ":
        return None
    srgb, probe = _srgb()
    try:
        transform = ImageCms.buildTransform(ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb,
                                            "RGB", "RGB")
        moved = ImageChops.difference(transform.apply(probe), probe).getextrema()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    if max(high for _, high in moved) <= _SRGB_TOLERANCE:
        return None
    return transform


def jpeg(image: Image.Image, quality: int, icc: bytes | None, **options) -> bytes:
    # Pillow writes a comment or XMP it finds in `info`, which resize and
    # transpose carry over from the upload: start from nothing.
    image.info = {}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, icc_profile=icc, **options)
    return out.getvalue()


def _transcode(image: Image.Image, icc: bytes | None) -> Rendition:
    """A HEIF original as a JPEG at quality 95, full-resolution chroma, upright."""
    picture = displayable(image)
    return Rendition(jpeg(picture, HEIF_ORIGINAL_QUALITY, icc, subsampling=0), JPEG)


def _orientation_tiff(orientation: int) -> bytes:
    """A TIFF header and one IFD holding only the Orientation tag (big-endian)."""
    return (b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
            + struct.pack(">HHIHH", _EXIF_ORIENTATION, 3, 1, orientation, 0)
            + struct.pack(">I", 0))


# -- JPEG: keep the coding segments and the scan, drop every other segment -----

_APP0, _APP1, _APP2, _APP14, _SOS, _EOI = 0xE0, 0xE1, 0xE2, 0xEE, 0xDA, 0xD9
# What a decoder needs, kept as it is: the frame headers SOF0-3, 5-7, 9-11 and
# 13-15 (C8 is reserved for extensions), DHT (C4), DAC (CC), DQT (DB), DRI (DD)
# and SOS with its scan. Everything else (APPn but the JFIF, ICC and Adobe ones
# rewritten below, COM, DNL, DHP, EXP, JPGn, reserved markers) is dropped.
_JPEG_KEPT = frozenset({*range(0xC0, 0xC4), 0xC4, *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCC,
                        *range(0xCD, 0xD0), 0xDB, 0xDD, _SOS})
# Markers without a length: TEM and, outside a scan, the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# Where a walk over the header segments stops.
_NOT_A_SEGMENT = _STANDALONE | {_SOS, _EOI, 0xFF}
# A marker inside entropy-coded data: 0xFF not followed by a stuffed 0x00, a
# restart marker (D0-D7) or another 0xFF fill byte.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_ICC_MARK = b"ICC_PROFILE\x00"
# The profile bytes one APP2 segment holds (64 KB, less the length, mark, sequence and count).
_ICC_CHUNK = 0xFFFF - 2 - len(_ICC_MARK) - 2


def _clean_jpeg(data: bytes, orientation: int, icc: bytes | None) -> bytes:
    """SOI, JFIF (no thumbnail), Orientation, ICC, Adobe, tables, frames and scans, EOI."""
    jfif = adobe = None
    body: list[bytes | memoryview] = []
    scanned = False
    view = memoryview(data)
    pos, size = 2, len(data)
    while True:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > size or data[pos] != 0xFF:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        marker = data[pos + 1]
        if marker == _EOI:
            if not scanned:
                raise UnreadableImage("The JPEG has no image data.")
            body.append(b"\xff\xd9")
            break
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise UnreadableImage("The JPEG is corrupt or truncated.")
        # (Decoders read JFIF and Adobe before the first scan only; libjpeg
        # follows the last Adobe segment.)
        if marker == _APP0 and not scanned and jfif is None and length >= 16 and data.startswith(
                b"JFIF\x00", pos + 4):
            jfif = _segment(_APP0, data[pos + 4:pos + 16] + b"\x00\x00")
        elif marker == _APP14 and not scanned and length >= 14 and data.startswith(
                b"Adobe", pos + 4):
            adobe = _segment(_APP14, data[pos + 4:pos + 16])
        elif marker in _JPEG_KEPT:
            body.append(view[pos:end])
        pos = end
        if marker == _SOS:
            scanned = True
            found = _SCAN_END.search(data, pos)
            if found is None:
                raise UnreadableImage("The JPEG is truncated.")
            body.append(view[pos:found.start()])
            pos = found.start()
    head = [b"\xff\xd8"]
    if jfif is not None:
        head.append(jfif)
    if orientation != 1:
        head.append(_segment(_APP1, b"Exif\x00\x00" + _orientation_tiff(orientation)))
    if icc is not None:
        chunks = [icc[at:at + _ICC_CHUNK] for at in range(0, len(icc), _ICC_CHUNK)]
        head.extend(_segment(_APP2, _ICC_MARK + bytes((number, len(chunks))) + chunk)
                    for number, chunk in enumerate(chunks, start=1))
    if adobe is not None:
        head.append(adobe)
    return b"".join([*head, *body])


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


# -- PNG: critical chunks and colour chunks, CRCs checked --------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (iCCP is written afresh from the validated profile, in place of the first one.)
_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA",
             b"sBIT", b"sRGB", b"cICP", b"mDCv", b"cLLi", b"pHYs", b"bKGD"}


def _clean_png(data: bytes, orientation: int, icc: bytes | None) -> bytes:
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
        if kind == b"iCCP":
            if icc is not None:
                out.append(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
                icc = None
        elif kind in _PNG_KEPT:
            out.append(view[pos:end])
        if kind == b"IHDR" and orientation != 1:
            out.append(_png_chunk(b"eXIf", _orientation_tiff(orientation)))
        pos = end
        if kind == b"IEND":
            return b"".join(out)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


# -- WebP: the image chunks and ICC, EXIF and XMP flags set right -------------

# (ICCP is written afresh from the validated profile, in place of the first one.)
_WEBP_KEPT = {b"VP8 ", b"VP8L", b"ALPH"}
_VP8X_ICC, _VP8X_EXIF, _VP8X_XMP = 0x20, 0x08, 0x04


def _clean_webp(data: bytes, orientation: int, icc: bytes | None) -> bytes:
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data) or end < 12:
        raise UnreadableImage("The WebP is truncated.")
    chunks: list[bytes] = []
    header: int | None = None  # where the VP8X chunk is in `chunks`
    profiled = False
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise UnreadableImage("The WebP is corrupt.")
        kind = data[pos:pos + 4]
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        stop = pos + 8 + length + (length & 1)
        if stop > end:
            raise UnreadableImage("The WebP is truncated.")
        if kind == b"VP8X" and header is None and length >= 10:
            header = len(chunks)
            chunks.append(data[pos:stop])
        elif kind == b"ICCP":
            if icc is not None and header is not None and not profiled:
                chunks.append(b"ICCP" + struct.pack("<I", len(icc)) + icc
                              + b"\x00" * (len(icc) & 1))
                profiled = True
        elif kind in _WEBP_KEPT:
            chunks.append(data[pos:stop])
        pos = stop
    if header is not None:
        vp8x = chunks[header]
        flags = vp8x[8] & ~(_VP8X_ICC | _VP8X_EXIF | _VP8X_XMP)
        if profiled:
            flags |= _VP8X_ICC
        if orientation != 1:
            flags |= _VP8X_EXIF
            tiff = _orientation_tiff(orientation)
            chunks.append(b"EXIF" + struct.pack("<I", len(tiff)) + tiff
                          + b"\x00" * (len(tiff) & 1))
        chunks[header] = vp8x[:8] + bytes((flags,)) + vp8x[9:]
    body = b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
