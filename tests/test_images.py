"""The photo pipeline on its own: formats by bytes, orientation, privacy, fidelity, limits, hints."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
import simplejpeg
from PIL import Image, ImageChops, ImageCms, ImageOps

from services.images import ingest as intake
from services.images import pipeline as images
from storage.blobs import LocalBlobStore
from tests import photo_samples as samples


@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "photos")


def stored_files(store) -> list[str]:
    return sorted(path.relative_to(store.root).as_posix()
                  for path in store.root.rglob("*") if path.is_file()) if store.root.exists() else []


def read_back(store, key) -> Image.Image:
    return Image.open(io.BytesIO(store.path(key).read_bytes()))


def pixels_equal(left: Image.Image, right: Image.Image) -> bool:
    return left.size == right.size and ImageChops.difference(
        left.convert("RGB"), right.convert("RGB")).getbbox() is None


# -- recognised by the bytes ------------------------------------------------------------------

@pytest.mark.parametrize(("make", "media_type"), [
    (lambda: samples.jpeg(), images.JPEG),
    (lambda: samples.png(), images.PNG),
    (lambda: samples.webp(), images.WEBP),
    (lambda: samples.heic(), images.HEIF),
    (lambda: samples.encoded(samples.scalp(), "GIF"), None),
    (lambda: samples.encoded(samples.scalp(), "TIFF"), None),
    (lambda: samples.encoded(samples.scalp(), "BMP"), None),
    (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
    (lambda: b"%PDF-1.7\n", None),
    (lambda: b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", None),
], ids=["jpeg", "png", "webp", "heic", "gif", "tiff", "bmp", "svg", "pdf", "avif"])
def test_formats_are_recognised_by_their_first_bytes(make, media_type):
    assert images.media_type_of(make()[:64]) == media_type


# -- orientation ------------------------------------------------------------------------------

def looks_upright(picture: Image.Image) -> bool:
    """The marker's red quarter is top left, and only there."""
    picture = picture.convert("RGB")
    width, height = picture.size
    red = lambda xy: picture.getpixel(xy)[0] > 150 and picture.getpixel(xy)[2] < 100  # noqa: E731
    return (red((width // 4, height // 4)) and not red((3 * width // 4, height // 4))
            and not red((width // 4, 3 * height // 4)))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(store, orientation):
    photo = samples.ingested(store, samples.oriented_jpeg(orientation))

    assert (photo.width, photo.height) == (96, 64)
    for key in (photo.preview_key, photo.thumbnail_key):
        derivative = read_back(store, key)
        assert derivative.size == (96, 64)
        assert looks_upright(derivative)
        assert dict(derivative.getexif()) == {}
    # The original keeps its pixels as taken; its only tag turns it upright.
    original = read_back(store, photo.original_key)
    assert looks_upright(ImageOps.exif_transpose(original))
    assert dict(original.getexif()) == ({} if orientation == 1 else {0x0112: orientation})


# -- privacy and fidelity ---------------------------------------------------------------------

PRIVATE_BYTES = (samples.SERIAL.encode(), samples.MAKER_SECRET, samples.XMP_SECRET,
                 samples.COMMENT_SECRET, b"IPTC-PRIVATE-CITY", b"PhoneMaker", b"Phone 12 Pro")


def test_gps_and_every_private_tag_are_gone_from_every_stored_file(store):
    upload = samples.phone_jpeg(orientation=6)
    before = Image.open(io.BytesIO(upload))
    assert before.getexif().get_ifd(samples.GPS_IFD), "the sample has GPS to begin with"
    assert all(secret in upload for secret in PRIVATE_BYTES)

    photo = samples.ingested(store, upload)

    for key in (photo.original_key, photo.preview_key, photo.thumbnail_key):
        data = store.path(key).read_bytes()
        stored = Image.open(io.BytesIO(data))
        exif = stored.getexif()
        assert set(exif) <= {0x0112}
        assert exif.get_ifd(samples.GPS_IFD) == {}
        assert exif.get_ifd(samples.EXIF_IFD) == {}
        assert not {"comment", "xmp", "photoshop"} & set(stored.info)
        assert not [secret for secret in PRIVATE_BYTES if secret in data]


def test_the_original_keeps_every_pixel_and_the_icc_profile(store):
    # A real profile: one that does not parse as ICC is dropped (tests/test_hostile_images.py).
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = samples.jpeg(samples.scalp((320, 240)), samples.exif_block(gps=True),
                          icc_profile=profile)

    photo = samples.ingested(store, upload)

    original = read_back(store, photo.original_key)
    assert pixels_equal(original, Image.open(io.BytesIO(upload)))
    assert original.info["icc_profile"] == profile
    assert photo.byte_size < len(upload)


def test_a_zip_or_html_appended_to_a_jpeg_is_cut_off(store):
    upload = samples.jpeg() + samples.zip_archive() + b"<html><script>alert(1)</script></html>"
    assert zipfile.is_zipfile(io.BytesIO(upload))

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert data.endswith(b"\xff\xd9")
    assert not zipfile.is_zipfile(io.BytesIO(data))
    assert b"<script>" not in data and b"PK\x03\x04" not in data


def test_a_jpeg_with_a_second_picture_keeps_only_the_first(store):
    out = io.BytesIO()
    samples.scalp().save(out, "MPO", save_all=True, append_images=[samples.upright_marker()])
    assert out.getvalue().count(b"\xff\xd8") == 2

    photo = samples.ingested(store, out.getvalue())

    data = store.path(photo.original_key).read_bytes()
    assert data.count(b"\xff\xd8") == 1 and b"MPF\x00" not in data
    assert pixels_equal(Image.open(io.BytesIO(data)), Image.open(out))


def test_png_metadata_is_stripped_and_the_pixels_kept(store):
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "PNG-PRIVATE-TEXT")
    text.add_itxt("XML:com.adobe.xmp", "PNG-PRIVATE-XMP")
    upload = samples.png(samples.scalp(), samples.exif_block(gps=True, orientation=8),
                         pnginfo=text)

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert b"PNG-PRIVATE" not in data
    original = Image.open(io.BytesIO(data))
    assert dict(original.getexif()) == {0x0112: 8}
    assert pixels_equal(original, Image.open(io.BytesIO(upload)))
    assert (photo.width, photo.height) == (64, 96)


def test_webp_metadata_is_stripped_and_the_pixels_kept(store):
    upload = samples.webp(samples.scalp(), samples.exif_block(gps=True, private=True),
                          xmp=b"<x:xmpmeta>WEBP-PRIVATE-XMP</x:xmpmeta>")

    photo = samples.ingested(store, upload)

    data = store.path(photo.original_key).read_bytes()
    assert b"WEBP-PRIVATE" not in data and samples.SERIAL.encode() not in data
    original = Image.open(io.BytesIO(data))
    assert dict(original.getexif()) == {}
    assert pixels_equal(original, Image.open(io.BytesIO(upload)))


def test_a_heic_original_becomes_an_upright_high_quality_jpeg_without_metadata(store):
    upload = samples.heic(samples.upright_marker().transpose(Image.Transpose.ROTATE_90),
                          samples.exif_block(orientation=6, gps=True, private=True),
                          xmp=b"<x:xmpmeta>HEIC-PRIVATE-XMP</x:xmpmeta>")

    photo = samples.ingested(store, upload)

    assert photo.media_type == "image/jpeg"
    original = read_back(store, photo.original_key)
    assert original.format == "JPEG" and original.size == (96, 64)
    assert looks_upright(original)
    assert set(original.getexif()) == set()
    data = store.path(photo.original_key).read_bytes()
    assert samples.SERIAL.encode() not in data and b"HEIC-PRIVATE" not in data


def test_a_cmyk_jpeg_is_accepted_and_previewed_in_rgb(store):
    upload = samples.jpeg(samples.scalp().convert("CMYK"))

    photo = samples.ingested(store, upload)

    assert read_back(store, photo.original_key).mode == "CMYK"
    assert read_back(store, photo.preview_key).mode == "RGB"


def test_a_16_bit_png_is_accepted_and_keeps_its_depth(store):
    grey16 = Image.linear_gradient("L").resize((96, 64)).convert("I").point(lambda v: v * 257)
    upload = samples.png(grey16.convert("I;16"))

    photo = samples.ingested(store, upload)

    assert read_back(store, photo.original_key).mode.startswith("I")
    preview = read_back(store, photo.preview_key).convert("L")
    low, high = preview.getextrema()
    assert low < 20 and high > 230, "scaled to 8 bits, not clipped to white"


# -- derivatives ------------------------------------------------------------------------------

def test_derivatives_have_their_long_sides_and_a_jpeg_is_decoded_at_a_reduced_scale(
        store, monkeypatch):
    upload = samples.jpeg(samples.scalp((2600, 1950)), quality=70)
    source = images.read(upload)
    decoded = []
    decode = simplejpeg.decode_jpeg
    monkeypatch.setattr(simplejpeg, "decode_jpeg", lambda *args, **kwargs: decoded.append(
        decode(*args, **kwargs)) or decoded[-1])

    developed = images.develop(source)

    # DCT scaling: the decoder produced half the size, never the full 5 MP.
    assert [pixels.shape[:2] for pixels in decoded] == [(975, 1300)]
    assert Image.open(io.BytesIO(developed.preview.data)).size == (1280, 960)
    assert Image.open(io.BytesIO(developed.thumbnail.data)).size == (320, 240)


def test_a_photo_smaller_than_the_preview_is_not_enlarged(store):
    photo = samples.ingested(store, samples.jpeg(samples.scalp((200, 150))))

    assert read_back(store, photo.preview_key).size == (200, 150)
    assert read_back(store, photo.thumbnail_key).size == (200, 150)


@pytest.mark.parametrize("size", [(1, 1), (1, 300), (2, 2), (3000, 1)])
def test_a_photo_of_a_pixel_or_a_line_still_goes_through(store, size):
    for upload in (samples.png(Image.new("RGB", size, "gray")),
                   samples.jpeg(Image.new("RGB", size, "gray"))):
        photo = samples.ingested(store, upload)
        assert (photo.width, photo.height) == size


# -- quality hints ----------------------------------------------------------------------------

@pytest.mark.parametrize(("picture", "expected"), [
    (samples.scalp((800, 600)), ()),
    (samples.scalp((800, 600), brightness=35), ("too_dark",)),
    (Image.new("RGB", (800, 600), (252, 252, 252)), ("overexposed", "blurry")),
    (samples.scalp((800, 600), blur=3), ("blurry",)),
    (samples.scalp((800, 600), brightness=40, blur=3), ("too_dark", "blurry")),
], ids=["good", "dark", "blown-out", "out-of-focus", "dark-and-blurred"])
def test_quality_hints_on_generated_photos(picture, expected):
    developed = images.develop(images.read(samples.jpeg(picture, quality=90)))

    assert developed.quality_warnings == expected


def test_the_thresholds_sit_where_documented():
    dark = Image.new("RGB", (200, 200), (images.TOO_DARK_MEAN_LUMA - 2,) * 3)
    light = Image.new("RGB", (200, 200), (images.TOO_DARK_MEAN_LUMA + 2,) * 3)
    assert "too_dark" in images.quality_warnings(dark)
    assert "too_dark" not in images.quality_warnings(light)
    blown = Image.new("RGB", (200, 200), (120, 120, 120))
    blown.paste((255, 255, 255), (0, 0, 200, int(200 * images.OVEREXPOSED_SHARE) + 2))
    assert "overexposed" in images.quality_warnings(blown)
    blown.paste((120, 120, 120), (0, 0, 200, 200))
    blown.paste((255, 255, 255), (0, 0, 200, int(200 * images.OVEREXPOSED_SHARE) - 4))
    assert "overexposed" not in images.quality_warnings(blown)


# -- capture time -----------------------------------------------------------------------------

def test_the_capture_time_comes_from_exif_with_its_offset():
    with_offset = images.read(samples.jpeg(exif=samples.exif_block(
        taken="2026:11:02 09:15:00", offset="+05:30")))
    without = images.read(samples.jpeg(exif=samples.exif_block(taken="2026:11:02 09:15:00")))
    nothing = images.read(samples.jpeg())

    assert with_offset.captured_at == datetime(2026, 11, 2, 9, 15,
                                               tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert without.captured_at == datetime(2026, 11, 2, 9, 15)
    assert nothing.captured_at is None


# -- refusals ---------------------------------------------------------------------------------

@pytest.fixture
def pixel_limit():
    images.set_pixel_limit(1000 * 1000)
    yield 1000 * 1000
    images.set_pixel_limit(images.DEFAULT_MAX_PIXELS)


def test_exactly_the_pixel_limit_is_accepted_and_one_more_is_not(store, pixel_limit):
    assert samples.ingested(store, samples.png_of_size(1000, 1000)).width == 1000
    with pytest.raises(images.UnreadableImage, match="pixels"):
        images.read(samples.png_of_size(101, 9901))  # 1,000,001 pixels


def test_a_decompression_bomb_is_refused_from_its_header(store):
    bomb = samples.png_of_size(20000, 20000, rows=10)
    assert len(bomb) < 10_000

    with pytest.raises(images.UnreadableImage, match="pixels"):
        samples.ingested(store, bomb)
    assert stored_files(store) == []


@pytest.mark.parametrize(("make", "refusal"), [
    (lambda: b"", images.UnreadableImage),
    (lambda: samples.jpeg()[:-200], images.UnreadableImage),
    (lambda: samples.jpeg()[:400], images.UnreadableImage),
    (lambda: samples.png()[:-30], images.UnreadableImage),
    (lambda: samples.webp()[:-40], images.UnreadableImage),
    (lambda: samples.heic()[:-100], images.UnreadableImage),
    (lambda: samples.encoded(samples.scalp(), "GIF"), images.UnsupportedImage),
    (lambda: samples.encoded(samples.scalp(), "WEBP", save_all=True,
                             append_images=[samples.upright_marker()]), images.UnreadableImage),
], ids=["empty", "jpeg-cut-short", "jpeg-header-only", "png-cut-short", "webp-cut-short",
        "heic-cut-short", "gif", "animated-webp"])
def test_refused_uploads_leave_no_file_behind(store, make, refusal):
    with pytest.raises(refusal):
        samples.ingested(store, make())
    assert stored_files(store) == []


def test_a_failure_after_the_original_was_written_leaves_no_temp_file(store, monkeypatch):
    def broken(source):
        deadline = time.monotonic() + 5
        while not list(store.root.glob("tmp/*")) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert list(store.root.glob("tmp/*")), "the original is being written meanwhile"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(images, "rate", broken)
    with pytest.raises(RuntimeError):
        intake.ingest(store, samples.jpeg())
    assert stored_files(store) == []


def test_a_file_only_the_container_rewrite_refuses_leaves_no_file_behind(store, monkeypatch):
    def refuse(source):
        raise images.UnreadableImage("The JPEG is corrupt or truncated.")

    monkeypatch.setattr(images, "strip", refuse)
    with pytest.raises(images.UnreadableImage):
        samples.ingested(store, samples.jpeg(samples.scalp((800, 600))))
    assert stored_files(store) == []


def test_the_same_photo_twice_is_stored_once(store):
    upload = samples.jpeg(samples.scalp((800, 600)))
    first = samples.ingested(store, upload)
    second = samples.ingested(store, upload)

    assert first == second
    assert len([path for path in store.root.rglob("*.jpg")]) == 3
