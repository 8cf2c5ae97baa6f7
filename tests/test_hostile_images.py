"""Hostile images: corrupt JPEGs that end with an end-of-image marker, and bytes the rewrite drops.

Each case twice: through the pipeline, and through `POST /photos` (a refusal is a 422
problem, no row and no file; an accepted photo is served without the hostile bytes).
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy
import pytest
import simplejpeg
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat

from services.images import ingest as intake
from services.images import pipeline as images
from storage.blobs import LocalBlobStore
from tests import photo_samples as samples
from tests.test_conventions import assert_problem, table_counts
from tests.test_photos import photo_files, send

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


# -- hostile files --------------------------------------------------------------------------------

def _segments(data: bytes):
    """(marker, start, end) of each marker segment of a JPEG up to and including the first SOS."""
    pos = 2
    while True:
        marker, length = data[pos + 1], int.from_bytes(data[pos + 2:pos + 4], "big")
        yield marker, pos, pos + 2 + length
        if marker == 0xDA:
            return
        pos += 2 + length


def _start_of(data: bytes, marker: int) -> int:
    return next(start for kind, start, _ in _segments(data) if kind == marker)


def _scan_start(data: bytes) -> int:
    return next(end for kind, _, end in _segments(data) if kind == 0xDA)


def first_half_with_eoi() -> bytes:
    """(a) The first half of a valid JPEG, and an end-of-image marker."""
    good = samples.jpeg(samples.scalp((640, 480)))
    return good[:len(good) // 2] + b"\xff\xd9"


def zeroed_scan() -> bytes:
    """(b) A JPEG whose entropy-coded data is all zeros, then an end-of-image marker."""
    good = samples.jpeg(samples.scalp((640, 480)))
    scan = _scan_start(good)
    return good[:scan] + bytes(len(good) - 2 - scan) + b"\xff\xd9"


def resized_header(width: int, height: int, picture_size=(64, 64)) -> bytes:
    """(c) A small JPEG whose frame header (SOF0) claims another size than its scan covers."""
    data = samples.jpeg(samples.scalp(picture_size))
    sof = _start_of(data, 0xC0)
    return data[:sof + 5] + struct.pack(">HH", height, width) + data[sof + 9:]


def with_segment_before_scan(data: bytes, marker: int, payload: bytes) -> bytes:
    sos = _start_of(data, 0xDA)
    return data[:sos] + _segment(marker, payload) + data[sos:]


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def many_icc_segments(count: int = 10_000, size: int = 1000) -> bytes:
    """A JPEG with `count` junk ICC_PROFILE APP2 segments (10 MB by default)."""
    data = samples.jpeg(samples.scalp((96, 64)))
    junk = b"".join(_segment(0xE2, b"ICC_PROFILE\x00" + bytes((n % 255 + 1, 255))
                             + os.urandom(size)) for n in range(count))
    return data[:2] + junk + data[2:]


def png_with_iccp(profile: bytes, picture: Image.Image | None = None) -> bytes:
    """A PNG with an iCCP chunk holding `profile` (any bytes), right after IHDR."""
    data = samples.png(picture if picture is not None else samples.scalp((64, 64)))
    iccp = samples._png_chunk(b"iCCP", b"profile\x00\x00" + zlib.compress(profile))
    ihdr_end = 8 + 12 + 13
    return data[:ihdr_end] + iccp + data[ihdr_end:]


def junk_profile(size: int) -> bytes:
    """Random bytes with "RGB " where a profile names its colour space (what used to be enough)."""
    return bytes(16) + b"RGB " + os.urandom(size - 20)


# -- ICC profiles, v2 matrix/TRC, written out by hand ------------------------------------------

D50 = (0.9642, 1.0, 0.8249)
SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
# Red and green swapped: what the file calls red is sRGB's green, so the effect is plain to see.
SWAPPED_COLORANTS = (SRGB_COLORANTS[1], SRGB_COLORANTS[0], SRGB_COLORANTS[2])


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(value) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(component) for component in value)


def rgb_profile(colorants=SWAPPED_COLORANTS, gamma: float = 2.2, name: str = "test RGB") -> bytes:
    """A valid ICC v2 display profile: these primaries, one gamma curve."""
    text = name.encode() + b"\x00"
    description = (b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text
                   + bytes(8) + bytes(3) + bytes(67))
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    tags = [(b"desc", description), (b"wtpt", _xyz(D50)), (b"rXYZ", _xyz(colorants[0])),
            (b"gXYZ", _xyz(colorants[1])), (b"bXYZ", _xyz(colorants[2])),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
            (b"cprt", b"text\x00\x00\x00\x00none\x00")]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (struct.pack(">I", offset + len(body)) + b"lcms" + bytes((2, 0x10, 0, 0))
              + b"mntrRGB XYZ " + bytes(12) + b"acsp" + bytes(28)
              + b"".join(_s15(component) for component in D50) + bytes(48))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# -- pipeline fixtures and helpers --------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "photos")


def stored_files(store) -> list[str]:
    if not store.root.exists():
        return []
    return sorted(path.relative_to(store.root).as_posix()
                  for path in store.root.rglob("*") if path.is_file())


def opened(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def pixels_equal(left: Image.Image, right: Image.Image) -> bool:
    return left.size == right.size and ImageChops.difference(
        left.convert("RGB"), right.convert("RGB")).getbbox() is None


def mean_difference(left: Image.Image, right: Image.Image) -> float:
    difference = ImageChops.difference(left.convert("RGB"), right.convert("RGB"))
    return max(ImageStat.Stat(difference).mean)


# -- defect 3: a corrupt JPEG is refused, even with an end-of-image marker -----------------------

CORRUPT_JPEGS = {
    "first half, then EOI": first_half_with_eoi,
    "scan all zeros, then EOI": zeroed_scan,
    "64x64 scan, header says 10000x10000": lambda: resized_header(10000, 10000),
    "64x64 scan, header says 64x80": lambda: resized_header(64, 80),
    "64x64 scan, header says 32x32": lambda: resized_header(32, 32),
}


def test_the_reproductions_are_what_they_claim():
    for make in CORRUPT_JPEGS.values():
        data = make()
        assert images.media_type_of(data[:64]) == images.JPEG and data.endswith(b"\xff\xd9")
    bigger = resized_header(10000, 10000)
    assert len(bigger) < 4000 and Image.open(io.BytesIO(bigger)).size == (10000, 10000)


@pytest.mark.parametrize("case", CORRUPT_JPEGS, ids=list(CORRUPT_JPEGS))
def test_a_corrupt_jpeg_ending_in_eoi_is_refused_by_the_decode(store, case):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    upload = CORRUPT_JPEGS[case]()

    source = images.read(upload)  # the header alone passes
    with pytest.raises(images.UnreadableImage, match="corrupt or truncated"):
        images.develop(source)
    with pytest.raises(images.UnreadableImage, match="corrupt or truncated"):
        samples.ingested(store, upload)

    assert stored_files(store) == []
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_the_stored_size_is_the_decoded_one(store, monkeypatch):
    """Full size: the decoded frame; reduced: the header's size at that scale, nothing else."""
    decoded = []
    decode = simplejpeg.decode_jpeg

    def spy(*args, **kwargs):
        pixels = decode(*args, **kwargs)
        decoded.append(pixels.shape[:2])
        return pixels

    monkeypatch.setattr(simplejpeg, "decode_jpeg", spy)
    sizes = [(300, 200), (2000, 1500), (2600, 1950)]
    uploads = [samples.jpeg(samples.scalp(size), quality=70) for size in sizes]
    photos = [intake.ingest(store, upload) for upload in uploads]

    assert [(photo.width, photo.height) for photo in photos] == sizes
    # The upload's answer: once each, at the smallest of libjpeg-turbo's scales (M/8) that
    # covers the preview halved, where the hints are measured (150x100, 640x480, 640x480):
    # 4/8, 3/8 and 2/8.
    assert decoded == [(100, 150), (563, 750), (488, 650)]
    decoded.clear()
    for photo in photos:
        with store.open(photo.original_key) as original:
            intake.derive(store, original.read())
    # The job: once each, at the scale that covers the preview (1280x960): 8/8, 6/8 and 4/8.
    assert decoded == [(200, 300), (1125, 1500), (975, 1300)]


@pytest.mark.parametrize("mode", ["L", "CMYK", "YCCK"])
def test_grey_cmyk_and_ycck_jpegs_preview_as_pillow_shows_them(store, mode):
    picture = samples.upright_marker((400, 300))
    if mode == "YCCK":  # libjpeg-turbo writes CMYK as YCCK (Adobe transform 2)
        upload = simplejpeg.encode_jpeg(numpy.asarray(picture.convert("CMYK")), quality=92,
                                        colorspace="CMYK", colorsubsampling="444")
        assert b"Adobe" in upload
    else:
        upload = samples.jpeg(picture.convert(mode))
    expected = Image.open(io.BytesIO(upload)).convert("RGB")

    photo = samples.ingested(store, upload)

    preview = opened(store.path(photo.preview_key).read_bytes())
    assert preview.size == (400, 300)
    assert mean_difference(preview, expected) < 4, "inverted or garbled ink"
    original = opened(store.path(photo.original_key).read_bytes())
    assert pixels_equal(original, Image.open(io.BytesIO(upload)))


# -- defect 4: what the rewrite drops ------------------------------------------------------------

def test_html_in_a_dnl_segment_is_dropped_from_the_original(store):
    good = samples.jpeg(samples.scalp((96, 64)))
    upload = with_segment_before_scan(good, 0xDC, HTML)
    assert HTML in upload

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert b"<script>" not in data and b"\xff\xdc" not in data
    assert pixels_equal(opened(data), opened(good))


def test_only_the_segments_a_decoder_needs_survive(store):
    good = samples.jpeg(samples.scalp((96, 64)))
    upload = good
    for marker in (0xDC, 0xE3, 0xEF, 0xFE, 0xE0):  # DNL, APP3, APP15, COM, a second APP0
        upload = with_segment_before_scan(upload, marker, HTML)
    upload = upload[:2] + b"\xff\xd0" + upload[2:]  # RST0 out of a scan: a marker without a length

    data = images.strip(images.read(upload)).data

    kept = [marker for marker, _, _ in _segments(data)]
    assert set(kept) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
    assert kept.count(0xE0) == 1 and HTML not in data
    assert pixels_equal(opened(data), opened(good))


def test_ten_thousand_junk_icc_segments_are_dropped(store):
    upload = many_icc_segments()
    assert len(upload) > 10_000_000

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert photo.byte_size == len(data) < 10_000
    assert b"ICC_PROFILE" not in data
    assert "icc_profile" not in opened(data).info


def test_a_valid_jpeg_profile_is_written_afresh_in_chunks_and_cut_to_its_size(store):
    # Over 64 KB, so it takes two APP2 segments; junk after the declared end rides along.
    profile = rgb_profile(name="x" * 100_000)
    assert ImageCms.ImageCmsProfile(io.BytesIO(profile)).profile.xcolor_space == "RGB "
    upload = samples.jpeg(samples.scalp((96, 64)), icc_profile=profile + HTML)

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert opened(data).info["icc_profile"] == profile
    assert data.count(b"ICC_PROFILE\x00") == 2 and HTML not in data


def test_a_profile_over_the_size_limit_or_of_another_colour_space_is_dropped(store, monkeypatch):
    grey = samples.jpeg(samples.scalp((96, 64)).convert("L"), icc_profile=rgb_profile())
    assert "icc_profile" not in opened(images.strip(images.read(grey)).data).info

    monkeypatch.setattr(images, "MAX_ICC_PROFILE_BYTES", len(rgb_profile()) - 1)
    too_big = samples.jpeg(samples.scalp((96, 64)), icc_profile=rgb_profile())
    assert "icc_profile" not in opened(images.strip(images.read(too_big)).data).info


def test_a_junk_png_profile_is_dropped_and_never_reaches_the_derivatives(store):
    upload = png_with_iccp(junk_profile(900_000))
    assert len(upload) > 900_000
    assert len(Image.open(io.BytesIO(upload)).info["icc_profile"]) == 900_000

    photo = samples.ingested(store, upload)

    original = store.path(photo.original_key).read_bytes()
    assert b"iCCP" not in original and len(original) < 50_000
    assert pixels_equal(opened(original), opened(upload))
    for key in (photo.preview_key, photo.thumbnail_key):
        data = store.path(key).read_bytes()
        assert len(data) < 20_000 and "icc_profile" not in opened(data).info


def test_a_valid_png_profile_is_kept_in_the_original(store):
    profile = rgb_profile()
    upload = png_with_iccp(profile)

    data = images.strip(images.read(upload)).data

    assert data.count(b"iCCP") == 1 and opened(data).info["icc_profile"] == profile
    assert pixels_equal(opened(data), opened(upload))


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "junk"])
def test_a_webp_keeps_only_a_valid_profile_and_its_flag_says_so(store, valid):
    profile = rgb_profile() if valid else junk_profile(5000)
    upload = samples.webp(samples.scalp((96, 64)), icc_profile=profile)
    assert Image.open(io.BytesIO(upload)).info["icc_profile"] == profile

    data = images.strip(images.read(upload)).data

    vp8x = data.index(b"VP8X")
    assert bool(data[vp8x + 8] & 0x20) is valid
    assert (b"ICCP" in data) is valid
    assert opened(data).info.get("icc_profile") == (profile if valid else None)
    assert pixels_equal(opened(data), opened(upload))


@pytest.mark.parametrize("valid", [True, False], ids=["valid", "junk"])
def test_a_heic_transcode_keeps_only_a_valid_profile(store, valid):
    profile = rgb_profile() if valid else junk_profile(5000)
    upload = samples.heic(samples.scalp((96, 64)), icc_profile=profile)

    photo = samples.ingested(store, upload)

    original = opened(store.path(photo.original_key).read_bytes())
    assert original.info.get("icc_profile") == (profile if valid else None)


def test_derivatives_of_a_non_srgb_photo_are_converted_to_srgb_and_carry_no_profile(store):
    picture = Image.new("RGB", (96, 64), (200, 40, 40))
    upload = samples.jpeg(picture, icc_profile=rgb_profile(SWAPPED_COLORANTS))

    photo = samples.ingested(store, upload)

    for key in (photo.preview_key, photo.thumbnail_key):
        derivative = opened(store.path(key).read_bytes())
        assert "icc_profile" not in derivative.info
        red, green, _ = derivative.getpixel((derivative.width // 2, derivative.height // 2))
        assert green > 150 and red < 100, "what the profile calls red is sRGB's green"
    original = opened(store.path(photo.original_key).read_bytes())
    assert original.info["icc_profile"] == rgb_profile(SWAPPED_COLORANTS)


@pytest.mark.parametrize("profile", [srgb_profile, lambda: junk_profile(4000)],
                         ids=["srgb", "junk"])
def test_an_srgb_or_junk_profile_leaves_the_derivatives_as_they_are(store, profile):
    picture = samples.scalp((96, 64))
    plain = images.develop(images.read(samples.jpeg(picture)))

    developed = images.develop(images.read(samples.jpeg(picture, icc_profile=profile())))

    for made, expected in ((developed.preview, plain.preview),
                           (developed.thumbnail, plain.thumbnail)):
        assert "icc_profile" not in opened(made.data).info
        assert mean_difference(opened(made.data), opened(expected.data)) < 2


def test_the_colour_transform_is_built_once_a_photo(store, monkeypatch):
    built = []
    build = ImageCms.buildTransform
    monkeypatch.setattr(ImageCms, "buildTransform",
                        lambda *args, **kwargs: built.append(1) or build(*args, **kwargs))

    photo = intake.ingest(store, samples.jpeg(samples.scalp((1600, 1200)),
                                              icc_profile=rgb_profile()))
    assert len(built) == 1, "the upload's rating"
    with store.open(photo.original_key) as original:
        intake.derive(store, original.read())
    assert len(built) == 2, "and its job's preview"


# -- over HTTP ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CORRUPT_JPEGS, ids=list(CORRUPT_JPEGS))
def test_a_corrupt_jpeg_upload_is_422_with_nothing_kept(app, patient, course, case):
    before = table_counts(app)

    response = send(patient, CORRUPT_JPEGS[case]())

    assert "corrupt or truncated" in assert_problem(response, 422)["detail"]
    assert table_counts(app) == before
    assert photo_files(app) == []


def served(caller, photo: dict, name: str) -> bytes:
    response = caller.get(f"/photos/{photo['id']}/{name}")
    assert response.status_code == 200
    return response.data


def test_html_in_a_dnl_segment_is_not_served(patient, course):
    response = send(patient, with_segment_before_scan(samples.jpeg(), 0xDC, HTML))

    assert response.status_code == 201
    for name in ("original", "preview", "thumbnail"):
        assert b"<script>" not in served(patient, response.get_json(), name)


def test_ten_thousand_junk_icc_segments_are_not_served(patient, course):
    response = send(patient, many_icc_segments())

    assert response.status_code == 201
    photo = response.get_json()
    original = served(patient, photo, "original")
    assert photo["byte_size"] == len(original) < 10_000 and b"ICC_PROFILE" not in original


def test_a_junk_png_profile_is_not_served(patient, course):
    response = send(patient, png_with_iccp(junk_profile(900_000)))

    assert response.status_code == 201
    photo = response.get_json()
    assert b"iCCP" not in served(patient, photo, "original")
    for name in ("preview", "thumbnail"):
        data = served(patient, photo, name)
        assert len(data) < 20_000 and "icc_profile" not in opened(data).info
