"""Ground truth for photo analysis: generated scalp photos whose answers are known.

Two kinds, both drawn from a `numpy.random.Generator` so a seed gives the same
images on every machine (OpenCV's drawing and warping are deterministic):

- scalp photos for alignment (`alignment_pair`, `unrelated_pair`), at the
  preview's size: a skin-tone base with mottling and grain, pores and
  follicle dots, hair strands drawn as curves, photographed twice: the
  second time through a known similarity or perspective transform, with a
  fifth of the strands lying differently, under other light (brightness, a
  gradient, the vignette), with its own sensor noise, both re-encoded as JPEG;
- trichoscopy images for hair counts (`trichoscopy_image`, `trichoscopy_pair`,
  `one_hair_image`), 1920 x 1080: a magnified field of skin with empty
  follicle openings, black dots and fine vessels, and hairs in follicular
  units drawn as curves of known widths from a terminal and a vellus
  population, crossing each other and the border; rendered in linear light
  (each pixel passes the light its hair-free share lets through), under
  uneven light, slightly blurred, encoded as sRGB, with sensor noise.

Images are RGB `uint8` arrays (height x width x 3), as `numpy.asarray` gives
for a Pillow image. Nothing here is used to analyse a photo; the tests and the
benchmark use it to judge the analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from domain.analysis import MIN_COUNTED_HAIR_LENGTH_UM, VELLUS_MAX_DIAMETER_UM

# The alignment photos are generated at the preview's size (PREVIEW_LONG_SIDE, 4:3).
PHOTO_SIZE = (1280, 960)

# The transforms between two photos of one area (the brief): rotation up to
# 10 degrees, scale +-8 %, shifts up to 5 % of the width, brightness +-20 %.
MAX_ROTATION_DEG = 10.0
MAX_SCALE_CHANGE = 0.08
MAX_SHIFT_SHARE = 0.05
MAX_BRIGHTNESS_CHANGE = 0.20
# Between two sessions some hairs lie differently: this share of the strands
# is drawn afresh for each photo.
MOVED_HAIR_SHARE = 0.2
# Perspective: the far edge of the photo up to 4 % smaller than the near one
# (the phone tilted by a few degrees).
MAX_KEYSTONE = 0.04


@dataclass(frozen=True)
class AlignmentPair:
    """Two photos of one area and the transform from the later's pixels to the earlier's.

    `truth` is None for two unrelated photos.
    """

    earlier: np.ndarray
    later: np.ndarray
    truth: np.ndarray | None


def alignment_pair(rng: np.random.Generator, perspective: bool = False,
                   second_exposure: bool = False) -> AlignmentPair:
    """One area photographed twice, the second time through a random known transform.

    Between the two, a share of the hairs lies differently (MOVED_HAIR_SHARE)
    and the focus may differ. `perspective` adds a keystone to the
    similarity; `second_exposure` gives the later photo stronger sensor noise
    of its own (a dimmer room, a higher ISO).
    """
    width, height = PHOTO_SIZE
    margin = _margin(width, height)
    size = (width + 2 * margin, height + 2 * margin)
    skin, hair = _scalp_skin(rng, size), _HairStyle.random(rng)
    strands = _strand_count(size)
    _draw_strands(rng, skin, hair, round(strands * (1 - MOVED_HAIR_SHARE)))
    truth = _random_transform(rng, width, height, perspective)
    into_scene = _translation(margin, margin)
    photos = []
    for photo_to_scene, noise in ((into_scene, 2.0),
                                  (into_scene @ truth,
                                   rng.uniform(5.0, 8.0) if second_exposure else 2.0)):
        scene = skin.copy()
        _draw_strands(rng, scene, hair, round(strands * MOVED_HAIR_SHARE))
        photos.append(_photograph(rng, scene, photo_to_scene, noise))
    return AlignmentPair(photos[0], photos[1], truth)


def unrelated_pair(rng: np.random.Generator) -> AlignmentPair:
    """Two photos of one person's scalp with nothing in common: other areas, same skin and hair."""
    width, height = PHOTO_SIZE
    margin = _margin(width, height)
    size = (width + 2 * margin, height + 2 * margin)
    tone, hair = _skin_tone(rng), _HairStyle.random(rng)
    photos = []
    for _ in range(2):
        scene = _skin(rng, *size, tone, pores=_pore_count(size))
        _draw_strands(rng, scene, hair, _strand_count(size))
        into_scene = _translation(margin, margin) @ _random_transform(rng, width, height, False)
        photos.append(_photograph(rng, scene, into_scene, noise_sigma=2.0))
    return AlignmentPair(photos[0], photos[1], None)


@dataclass(frozen=True)
class _HairStyle:
    """One person's hair: its colour (RGB) and the direction it is combed in (radians)."""

    colour: tuple[int, int, int]
    flow: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> _HairStyle:
        return cls(_HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))], rng.uniform(0, math.pi))


def _strand_count(size: tuple[int, int]) -> int:
    """About one strand per 6,000 pixels: thinning hair, the skin well seen between strands."""
    return size[0] * size[1] // 6000


def _scalp_skin(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Skin of a random tone with its pores (RGB)."""
    return _skin(rng, *size, _skin_tone(rng), pores=_pore_count(size))


def _pore_count(size: tuple[int, int]) -> int:
    """About one pore or empty follicle opening per 900 pixels."""
    return size[0] * size[1] // 900


def _draw_strands(rng: np.random.Generator, canvas: np.ndarray, hair: _HairStyle,
                  count: int) -> None:
    """Strands of hair, 1-3 pixels wide, mostly along the hair's flow, some bent."""
    height, width = canvas.shape[:2]
    for _ in range(count):
        start = rng.uniform((0, 0), (width, height))
        heading = hair.flow + rng.normal(0, 0.35)
        points = _curve(rng, start, heading, rng.uniform(80, 500), bend=rng.normal(0, 0.4))
        darkness = rng.uniform(0.7, 1.3)
        shade = [min(255.0, channel * darkness) for channel in hair.colour]
        cv2.polylines(canvas, [np.round(points * 16).astype(np.int32)], False, shade,
                      int(rng.integers(1, 4)), cv2.LINE_AA, shift=4)


# Skin tones (RGB), light to dark, and hair colours: black, dark brown, brown, blond, grey.
_SKIN_TONES = ((236, 200, 180), (224, 180, 155), (200, 150, 120), (160, 110, 80), (110, 75, 55))
_HAIR_COLOURS = ((25, 20, 18), (55, 38, 28), (95, 65, 45), (180, 150, 100), (150, 150, 150))


def _skin_tone(rng: np.random.Generator) -> np.ndarray:
    tone = np.array(_SKIN_TONES[rng.integers(len(_SKIN_TONES))], dtype=np.float32)
    return tone * rng.uniform(0.93, 1.07, 3).astype(np.float32)


def _skin(rng: np.random.Generator, width: int, height: int, tone: np.ndarray,
          pores: int) -> np.ndarray:
    """The skin's base colour with blotches (a few mm across), redness, grain and pores (RGB)."""
    shade = cv2.add(_smooth_noise(rng, width, height, cell=40) * np.float32(14.0),
                    _smooth_noise(rng, width, height, cell=2) * np.float32(4.0))
    shade = cv2.subtract(shade, _dots(rng, width, height, pores))
    redness = _smooth_noise(rng, width, height, cell=90)
    # (addWeighted with an 8-bit result saturates, as np.clip would, without a float copy.)
    return cv2.merge([cv2.addWeighted(shade, 1.0, redness, weight, float(level), dtype=cv2.CV_8U)
                      for level, weight in zip(tone, _REDNESS)])


# How a reddish blotch moves each channel (RGB), per unit of blotch.
_REDNESS = (10.0, -3.0, -3.0)


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cell: int) -> np.ndarray:
    """Noise of about unit spread varying over about `cell` pixels (float32)."""
    coarse = _gaussian(rng, (height // cell + 2, width // cell + 2), 1.0)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def _dots(rng: np.random.Generator, width: int, height: int, count: int) -> np.ndarray:
    """Pores and empty follicle openings: soft dots 2-6 pixels across, 20-60 levels deep."""
    dots = np.zeros((height, width), np.float32)
    for sigma, share in ((0.8, 0.6), (1.6, 0.4)):
        layer = np.zeros_like(dots)
        number = round(count * share)
        xs, ys = rng.integers(0, width, number), rng.integers(0, height, number)
        # A blurred point keeps its sum: its peak is the depth once scaled by 2 pi sigma^2.
        layer[ys, xs] = rng.uniform(20, 60, number) * np.float32(2 * math.pi * sigma ** 2)
        dots += cv2.GaussianBlur(layer, (0, 0), sigma)
    return dots


def _curve(rng: np.random.Generator, start: np.ndarray, heading: float, length: float,
           bend: float) -> np.ndarray:
    """A smooth curve of `length` pixels from `start`, its heading turning by `bend` radians."""
    steps = max(8, int(length / 6))
    turn = np.cumsum(np.full(steps, bend / steps) + rng.normal(0, 0.02, steps))
    angles = heading + turn
    step = length / steps
    points = np.cumsum(np.stack([np.cos(angles), np.sin(angles)], axis=1) * step, axis=0)
    return np.vstack([start, start + points])


def _gaussian(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Normal noise of spread `sigma` (float32)."""
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def _margin(width: int, height: int) -> int:
    """Scene beyond the photo's edges, so a transformed photo never sees past the scene."""
    return int(0.25 * max(width, height))


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def _random_transform(rng: np.random.Generator, width: int, height: int,
                      perspective: bool) -> np.ndarray:
    """A similarity about the photo's centre (and a keystone): later pixels -> earlier pixels."""
    angle = math.radians(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    scale = 1 + rng.uniform(-MAX_SCALE_CHANGE, MAX_SCALE_CHANGE)
    shift = rng.uniform(-MAX_SHIFT_SHARE, MAX_SHIFT_SHARE, 2) * width
    cos, sin = scale * math.cos(angle), scale * math.sin(angle)
    similarity = np.array([[cos, -sin, shift[0]], [sin, cos, shift[1]], [0, 0, 1]])
    centre = _translation((width - 1) / 2, (height - 1) / 2)
    keystone = np.eye(3)
    if perspective:
        # A denominator 1 + p x + q y that changes by up to MAX_KEYSTONE from edge to edge.
        direction = rng.uniform(0, 2 * math.pi)
        strength = rng.uniform(0.5, 1.0) * MAX_KEYSTONE
        keystone[2, 0] = strength * math.cos(direction) / width
        keystone[2, 1] = strength * math.sin(direction) / height
    return centre @ similarity @ keystone @ np.linalg.inv(centre)


def _photograph(rng: np.random.Generator, scene: np.ndarray, photo_to_scene: np.ndarray,
                noise_sigma: float) -> np.ndarray:
    """The scene through a camera: framed by `photo_to_scene`, lit, noisy, JPEG re-encoded."""
    width, height = PHOTO_SIZE
    framed = cv2.warpPerspective(scene, photo_to_scene, (width, height),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REFLECT)
    light = _light(rng, width, height)
    noise = _gaussian(rng, (height, width), noise_sigma)
    channels = [cv2.add(cv2.multiply(channel, light, dtype=cv2.CV_32F), noise)
                for channel in cv2.split(framed)]
    photo = cv2.merge([cv2.convertScaleAbs(channel) for channel in channels])
    return _jpeg_round_trip(photo, int(rng.integers(70, 96)))


def _light(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Uneven light: a brightness of +-20 %, a gradient across the photo and a vignette."""
    xs = (np.arange(width, dtype=np.float32) / width - 0.5)[None, :]
    ys = (np.arange(height, dtype=np.float32) / height - 0.5)[:, None]
    brightness = 1 + rng.uniform(-MAX_BRIGHTNESS_CHANGE, MAX_BRIGHTNESS_CHANGE)
    tilt = rng.uniform(-0.25, 0.25, 2).astype(np.float32)
    vignette = 1 - np.float32(rng.uniform(0.1, 0.35) * 2) * (xs ** 2 + ys ** 2)
    return (np.float32(brightness) * (1 + tilt[0] * xs + tilt[1] * ys) * vignette)


def _jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The image as a JPEG of this quality decodes (RGB in, RGB out)."""
    _, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


# -- Trichoscopy: a magnified field of scalp, hairs of known widths ------------

# A dermatoscope camera's frame, and its scale: 5.6-6.6 um a pixel makes a
# field of 0.65 cm2 (TrichoScan's) to 0.9 cm2 (TrichoScale's), so 20-200 hairs
# are 22-310 hairs/cm2, from a bald patch to a dense scalp.
TRICHOSCOPY_SIZE = (1920, 1080)
MICRONS_PER_PIXEL = (5.6, 6.6)
HAIRS_PER_IMAGE = (20, 200)
# The two populations (um). Terminal hairs are "coarse > 0.06 mm in diameter",
# vellus(-like) hairs "< 0.03 mm" (dermatology.org, Types of Scalp Hair);
# scalp terminal hair averages 65-80 um.
TERMINAL_DIAMETER_UM = (75.0, 12.0, 50.0, 110.0)  # mean, spread, lowest, highest
VELLUS_DIAMETER_UM = (23.0, 5.0, 12.0, 34.0)
# Visible lengths (mm): the field is clipped, as for TrichoScan (hair cut to
# about 1 mm, imaged as it regrows), so terminal shafts show 0.5-1.5 mm;
# vellus hairs "rarely grow > 1-2 mm" and lie shorter.
TERMINAL_LENGTH_MM = (0.5, 1.5)
VELLUS_LENGTH_MM = (0.3, 0.8)
# The share of vellus hairs: from a healthy scalp to androgenetic alopecia.
VELLUS_SHARE = (0.15, 0.45)
# Hairs per follicular unit (1, 2, 3) and their odds; the hairs of a unit fan
# out from its opening, this far apart (radians: 15-45 degrees).
FOLLICULAR_UNIT_ODDS = (0.6, 0.3, 0.1)
UNIT_FAN_RAD = (0.26, 0.79)
# Hair is drawn four times finer than the image, then shrunk, so edges carry
# the exact share of each pixel the hair covers.
SUPERSAMPLING = 4


@dataclass(frozen=True)
class Hair:
    """One hair shaft as drawn: its centre line (pixels), width (pixels) and darkness.

    `opening_px`: the radius of the follicle opening it grows from, if that
    is in the frame (0 for the second and third hair of a follicular unit,
    which share the first one's).
    """

    points: np.ndarray
    width_px: float
    vellus: bool
    darkness: float
    opening_px: float


@dataclass(frozen=True)
class HairTruth:
    """What a trichoscopy image holds: the hairs that count, with their widths (um).

    A hair counts when at least MIN_COUNTED_HAIR_LENGTH_UM of its shaft is in
    the frame (hairs cut by the border count once). Terminal and vellus hairs
    are told apart at VELLUS_MAX_DIAMETER_UM, as the analysis does.
    """

    widths_um: tuple[float, ...]

    @property
    def hair_count(self) -> int:
        return len(self.widths_um)

    @property
    def vellus(self) -> int:
        return sum(width <= VELLUS_MAX_DIAMETER_UM for width in self.widths_um)

    @property
    def terminal(self) -> int:
        return self.hair_count - self.vellus

    @property
    def mean_diameter_um(self) -> float:
        return float(np.mean(self.widths_um)) if self.widths_um else 0.0


@dataclass(frozen=True)
class TrichoscopyImage:
    """A generated trichoscopy image (RGB), its scale and its truth."""

    image: np.ndarray
    microns_per_pixel: float
    truth: HairTruth


@dataclass(frozen=True)
class _Field:
    """A patch of scalp under the trichoscope, before any hair: its reflectance (linear R, G, B)."""

    reflectance: tuple[np.ndarray, np.ndarray, np.ndarray]
    microns_per_pixel: float
    flow: float


def trichoscopy_image(rng: np.random.Generator, hairs: int | None = None) -> TrichoscopyImage:
    """A trichoscopy image of 20-200 hairs (or `hairs`) from both populations."""
    field = _field(rng)
    count = int(rng.integers(HAIRS_PER_IMAGE[0], HAIRS_PER_IMAGE[1] + 1)) if hairs is None else hairs
    return _trichoscopy(rng, field, _hairs(rng, field, count))


def one_hair_image(rng: np.random.Generator, diameter_um: float, heading: float,
                   microns_per_pixel: float, length_um: float) -> TrichoscopyImage:
    """A single straight hair across the middle of the field: for measuring one shaft."""
    field = _field(rng, microns_per_pixel)
    width, height = TRICHOSCOPY_SIZE
    length_px = length_um / microns_per_pixel
    direction = np.array([math.cos(heading), math.sin(heading)])
    start = np.array([width / 2, height / 2]) - direction * length_px / 2
    points = start + np.linspace(0, length_px, 50)[:, None] * direction
    hair = Hair(points, diameter_um / microns_per_pixel, diameter_um <= VELLUS_MAX_DIAMETER_UM,
                darkness=1.0, opening_px=0.0)
    return _trichoscopy(rng, field, [hair])


def trichoscopy_pair(rng: np.random.Generator, hairs: tuple[int, int] = HAIRS_PER_IMAGE
                     ) -> tuple[TrichoscopyImage, TrichoscopyImage]:
    """One spot at two visits: some hairs lost, some grown, under other light and noise.

    The first visit shows `hairs` (a range) hairs. Between 0 and 20 % of them
    are gone at the second and between 0 and 30 % new ones have grown (so the
    count changes by -20 % to +30 %).
    """
    field = _field(rng)
    count = int(rng.integers(hairs[0], hairs[1] + 1))
    before = _hairs(rng, field, count)
    kept = [hair for hair in before if rng.uniform() >= rng.uniform(0.0, 0.2)]
    grown = _hairs(rng, field, round(count * rng.uniform(0.0, 0.3)))
    return _trichoscopy(rng, field, before), _trichoscopy(rng, field, kept + grown)


# Skin under the trichoscope, in linear light: the tone's reflectance varies by
# this much (relative spread) in patches of about 0.2 mm, and grain by pixel.
_PATCHES, _GRAIN, _REDNESS_SPREAD = 0.06, 0.02, 0.04
# How an empty follicle opening (yellow dot), a vessel and a black dot scale
# the skin's reflectance (linear RGB).
_YELLOW_DOT = (1.05, 1.0, 0.6)
_VESSEL = (0.95, 0.6, 0.6)
_BLACK_DOT = (0.08, 0.07, 0.07)


def _field(rng: np.random.Generator, microns_per_pixel: float | None = None) -> _Field:
    """Skin under the trichoscope: tone, patches, grain, follicle openings, fine vessels."""
    width, height = TRICHOSCOPY_SIZE
    if microns_per_pixel is None:
        microns_per_pixel = rng.uniform(*MICRONS_PER_PIXEL)
    tone = _SRGB_TO_LINEAR[np.clip(_skin_tone(rng), 0, 255).astype(np.uint8)]
    texture = cv2.add(_smooth_noise(rng, width, height, cell=40) * np.float32(_PATCHES),
                      _smooth_noise(rng, width, height, cell=2) * np.float32(_GRAIN))
    redness = _smooth_noise(rng, width, height, cell=90) * np.float32(_REDNESS_SPREAD)
    planes = [cv2.addWeighted(texture, float(tone[channel]), redness, float(sign * tone[channel]),
                              float(tone[channel]))
              for channel, sign in enumerate((1, -1, -1))]
    for kind, colour in ((_openings, _YELLOW_DOT), (_vessels, _VESSEL), (_black_dots, _BLACK_DOT)):
        _tint(planes, kind(rng, width, height, microns_per_pixel), colour)
    return _Field(tuple(planes), microns_per_pixel, rng.uniform(0, 2 * math.pi))


def _openings(rng: np.random.Generator, width: int, height: int,
              microns_per_pixel: float) -> np.ndarray:
    """Where the empty follicle openings are (yellow dots, 100-250 um): 0-1."""
    where = np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(5, 40))):
        centre = rng.uniform((0, 0), (width, height))
        radius = rng.uniform(50, 125) / microns_per_pixel
        _ellipse(where, centre, (radius, radius * rng.uniform(0.7, 1.0)), rng.uniform(0, 180),
                 1.0)
    return where


def _black_dots(rng: np.random.Generator, width: int, height: int,
                microns_per_pixel: float) -> np.ndarray:
    """Where the black dots are (hairs broken at the skin, 50-90 um): 0-1."""
    where = np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(0, 6))):
        centre = rng.uniform((0, 0), (width, height))
        radius = rng.uniform(25, 45) / microns_per_pixel
        _ellipse(where, centre, (radius, radius), 0.0, 1.0)
    return where


def _vessels(rng: np.random.Generator, width: int, height: int,
             microns_per_pixel: float) -> np.ndarray:
    """Where a few fine red vessels (10-20 um) run under the skin, which are no hair: 0-1."""
    where = np.zeros((height, width), np.float32)
    for _ in range(int(rng.integers(0, 6))):
        start = rng.uniform((0, 0), (width, height))
        points = _curve(rng, start, rng.uniform(0, 2 * math.pi), rng.uniform(100, 500),
                        bend=rng.normal(0, 1.5))
        thickness = max(1, round(rng.uniform(10, 20) / microns_per_pixel))
        cv2.polylines(where, [np.round(points * 16).astype(np.int32)], False, 1.0, thickness,
                      cv2.LINE_AA, shift=4)
    return where


def _tint(planes: list[np.ndarray], amount: np.ndarray, colour: tuple[float, float, float]) -> None:
    """Scale the reflectance's planes (R, G, B) towards `colour` by `amount` (0-1), in place."""
    for plane, scale in zip(planes, colour):
        cv2.multiply(plane, cv2.addWeighted(amount, scale - 1, amount, 0.0, 1.0), dst=plane)


def _ellipse(canvas: np.ndarray, centre: np.ndarray, axes: tuple[float, float], angle: float,
             colour) -> None:
    cv2.ellipse(canvas, (round(centre[0] * 16), round(centre[1] * 16)),
                (round(axes[0] * 16), round(axes[1] * 16)), angle, 0, 360, colour, -1,
                cv2.LINE_AA, shift=4)


def _hairs(rng: np.random.Generator, field: _Field, count: int) -> list[Hair]:
    """Hairs in follicular units of 1-3, combed roughly one way, until `count` of them count.

    Roots lie up to half a long hair's length beyond the frame, so some hairs
    enter from outside; hairs that never reach the frame are left out, and
    those that show less than the counted length are drawn but do not count.
    """
    width, height = TRICHOSCOPY_SIZE
    vellus_share = rng.uniform(*VELLUS_SHARE)
    reach = TERMINAL_LENGTH_MM[1] * 1000 / field.microns_per_pixel / 2
    hairs: list[Hair] = []
    counted = 0
    while counted < count:
        root = rng.uniform((-reach, -reach), (width + reach, height + reach))
        size = int(rng.choice(len(FOLLICULAR_UNIT_ODDS), p=FOLLICULAR_UNIT_ODDS)) + 1
        # The unit's hairs fan out from the opening, each a little apart from the next.
        heading = field.flow + rng.normal(0, 0.6)
        fan = rng.uniform(*UNIT_FAN_RAD) * (np.arange(size) - (size - 1) / 2)
        unit = [_hair(rng, field, root, heading + turn, rng.uniform() < vellus_share)
                for turn in fan]
        # The opening is a little wider than the unit's thickest shaft.
        opening = max(hair.width_px for hair in unit) * rng.uniform(0.8, 1.1)
        unit[0] = replace(unit[0], opening_px=opening)
        for hair in unit:
            visible = _visible_length(hair.points, width, height)
            if visible > 0 and counted < count:
                hairs.append(hair)
                counted += visible * field.microns_per_pixel >= MIN_COUNTED_HAIR_LENGTH_UM
    return hairs


def _hair(rng: np.random.Generator, field: _Field, root: np.ndarray, heading: float,
          vellus: bool) -> Hair:
    mean, spread, lowest, highest = VELLUS_DIAMETER_UM if vellus else TERMINAL_DIAMETER_UM
    diameter_um = float(np.clip(rng.normal(mean, spread), lowest, highest))
    length_mm = rng.uniform(*(VELLUS_LENGTH_MM if vellus else TERMINAL_LENGTH_MM))
    points = _curve(rng, root, heading, length_mm * 1000 / field.microns_per_pixel,
                    bend=rng.normal(0, 0.5))
    return Hair(points, diameter_um / field.microns_per_pixel, vellus,
                darkness=rng.uniform(0.8, 1.2), opening_px=0.0)


def _trichoscopy(rng: np.random.Generator, field: _Field, hairs: list[Hair]) -> TrichoscopyImage:
    """The field with its hairs, through the trichoscope: light, blur, noise, sRGB.

    Light, absorption and blur act on linear light; the camera then encodes
    sRGB and adds its noise.
    """
    width, height = TRICHOSCOPY_SIZE
    layers = _hair_layers(hairs, width, height)
    light = _light(rng, width, height)
    blur = rng.uniform(0.5, 1.1)
    noise = _gaussian(rng, (height, width), rng.uniform(1.5, 4.0))
    channels = []
    for channel, reflectance in enumerate(field.reflectance):
        linear = cv2.multiply(reflectance, light)
        for share, darkness, absorbance in layers:
            passed = cv2.exp(darkness * -absorbance[channel])
            cv2.multiply(linear, 1 - share * (1 - passed), dst=linear)
        encoded = _linear_to_srgb(cv2.GaussianBlur(linear, (0, 0), blur))
        channels.append(cv2.convertScaleAbs(cv2.add(encoded, noise)))
    truth = HairTruth(tuple(hair.width_px * field.microns_per_pixel for hair in hairs
                            if _visible_length(hair.points, width, height)
                            * field.microns_per_pixel >= MIN_COUNTED_HAIR_LENGTH_UM))
    return TrichoscopyImage(cv2.merge(channels), field.microns_per_pixel, truth)


def _srgb_decoding() -> np.ndarray:
    """8-bit sRGB -> linear light (0-1), IEC 61966-2-1."""
    levels = np.arange(256, dtype=np.float64) / 255
    return np.where(levels <= 0.04045, levels / 12.92,
                    ((levels + 0.055) / 1.055) ** 2.4).astype(np.float32)


_SRGB_TO_LINEAR = _srgb_decoding()
# Linear light -> sRGB (0-255), sampled finely enough that a lookup is exact to a level.
_ENCODING_STEPS = 4096
_LINEAR_TO_SRGB = np.interp(np.linspace(0, 1, _ENCODING_STEPS), _SRGB_TO_LINEAR,
                            np.arange(256, dtype=np.float32)).astype(np.float32)


def _linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light (0-1, float32) as sRGB levels (0-255, float32)."""
    steps = np.clip(linear * (_ENCODING_STEPS - 1), 0, _ENCODING_STEPS - 1).astype(np.int32)
    return _LINEAR_TO_SRGB[steps]


# Absorbance (natural log units, RGB) of a terminal and a vellus hair at darkness 1:
# dark brown, and a lighter brown that lets half the light through (the thin
# hairs of androgenetic alopecia are miniaturised terminal hairs and keep some
# pigment). Where hairs cross, it adds up.
_TERMINAL_ABSORBANCE = np.float32((1.5, 1.6, 1.6))
_VELLUS_ABSORBANCE = np.float32((0.65, 0.75, 0.85))
# A follicle opening around a hair's root: a greyish-brown shadow.
_OPENING_ABSORBANCE = np.float32((0.3, 0.35, 0.35))
# A terminal shaft's shine: a streak along its middle a third of its width, this much lighter.
_SHINE_WIDTH, _SHINE = 0.3, 0.85
# Darkness is stored in 8 bits, this many levels for a darkness of 1.
_LEVELS = 100.0


def _hair_layers(hairs: list[Hair], width: int,
                 height: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Terminal shafts, vellus shafts and follicle openings, each as how much of each pixel
    it covers (0-1), how dark it is there (1 for the population's absorbance) and that
    absorbance (RGB).

    Shafts are drawn at SUPERSAMPLING and shrunk: a pixel's edge share is then exact.
    Light goes through the covered share only, so a pixel's transmission is
    1 - cover (1 - exp(-absorbance)), not exp(-cover absorbance).
    """
    layers = []
    for vellus, absorbance in ((False, _TERMINAL_ABSORBANCE), (True, _VELLUS_ABSORBANCE)):
        size = (height * SUPERSAMPLING, width * SUPERSAMPLING)
        cover, level = np.zeros(size, np.uint8), np.zeros(size, np.uint8)
        for hair in hairs:
            if hair.vellus != vellus:
                continue
            darkness = hair.darkness * _LEVELS
            _fill_shaft(cover, hair.points, hair.width_px, 255)
            _fill_shaft(level, hair.points, hair.width_px, darkness)
            if not vellus:
                _fill_shaft(level, hair.points, hair.width_px * _SHINE_WIDTH, darkness * _SHINE)
        cover, level = (cv2.resize(fine, (width, height), interpolation=cv2.INTER_AREA)
                        .astype(np.float32) for fine in (cover, level))
        share = cover / np.float32(255)
        layers.append((share, level / np.maximum(share, 1e-3) / np.float32(_LEVELS), absorbance))
    openings = np.zeros((height, width), np.float32)
    for hair in hairs:
        if hair.opening_px > 0:
            cv2.circle(openings, (round(hair.points[0][0] * 16), round(hair.points[0][1] * 16)),
                       round(hair.opening_px * 16), 1.0, -1, cv2.LINE_AA, shift=4)
    layers.append((openings, np.ones_like(openings), _OPENING_ABSORBANCE))
    return layers


def _fill_shaft(canvas: np.ndarray, points: np.ndarray, width_px: float, level: float) -> None:
    """A shaft of exactly `width_px` around the centre line, filled on the fine canvas.

    The outline is the centre line offset by half the width either side. A
    filled polygon takes in the pixels its edge touches, a quarter pixel of
    the image once shrunk: the offset is that much less.
    """
    steps = np.diff(points, axis=0)
    tangents = np.vstack([steps[:1], steps[:-1] + steps[1:], steps[-1:]])
    normals = np.stack([-tangents[:, 1], tangents[:, 0]], axis=1)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    half = max(width_px / 2 - 0.5 / SUPERSAMPLING, 0.25 / SUPERSAMPLING)
    outline = np.vstack([points + normals * half, (points - normals * half)[::-1]])
    # Pixel centres: image x -> fine (x + 0.5) * SUPERSAMPLING - 0.5.
    fine = ((outline + 0.5) * SUPERSAMPLING - 0.5) * 16
    cv2.fillPoly(canvas, [np.round(fine).astype(np.int32)], float(level), cv2.LINE_8, shift=4)


def _visible_length(points: np.ndarray, width: int, height: int) -> float:
    """The length (pixels) of the centre line inside the frame."""
    middles = (points[1:] + points[:-1]) / 2
    inside = ((middles[:, 0] >= 0) & (middles[:, 0] <= width - 1)
              & (middles[:, 1] >= 0) & (middles[:, 1] <= height - 1))
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1)[inside].sum())
