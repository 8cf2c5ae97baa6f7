"""Benchmark `exports`: a course of 100 photos with 12 MP originals, taken out as a ZIP and a PDF.

Photo-like 12 MP JPEGs (skin, hair strands, sensor noise; about 2.6 MB each)
are made once per run and ingested through the project's own pipeline
(`services.images.ingest.ingest`: stripped originals, previews, thumbnails in the blob
store) into two courses of a migrated SQLite database: 25 photos and 100.

Each measurement runs in a fresh Python process of its own, so its peak RSS
is its own (VmHWM): the app answers `GET /courses/{id}/export.zip` (or
`export.pdf`) through its WSGI interface and the bytes are written to a file
as they come; the baseline writes the same original files into a ZIP with
`zipfile.ZipFile.write`, in the same run, on the same warm page cache. The
two alternate, ROUNDS times each, and the fastest of each counts.

Goals: the ZIP export within 1.2x of the baseline's time; its peak RSS under
100 MB and not growing with the photo count (25 vs 100 photos: under 10 MB
apart); the PDF of 100 photos in under 10 s and under 20 MB.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time as clock, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import BenchError

ROOT = Path(__file__).resolve().parent.parent
PHOTO_COUNTS = (25, 100)
AREAS = ("frontal", "mid_scalp", "vertex", "left_temple", "occipital")
WIDTH, HEIGHT = 4000, 3000
JPEG_QUALITY = 92
ROUNDS = 3
GOAL_ZIP_RATIO = 1.2
GOAL_RSS_MB = 100.0
GOAL_RSS_GROWTH_MB = 10.0
GOAL_PDF_S = 10.0
GOAL_PDF_MB = 20.0
ZONE = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Probe:
    """What one measuring process reports."""

    seconds: float
    peak_rss_mb: float
    start_rss_mb: float
    bytes: int


def run(duration_s: int) -> bool:
    """Make the photos, seed, measure; print the table and the goal checks.

    `duration_s` is not used: each measurement is a fixed amount of work.
    """
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        workdir = Path(tmp)
        print(f"making {sum(PHOTO_COUNTS)} photo-like {WIDTH}x{HEIGHT} JPEGs", flush=True)
        camera = _camera_photos(workdir / "camera", sum(PHOTO_COUNTS))
        print("ingesting them through services.images.ingest into two courses "
              f"({' and '.join(map(str, PHOTO_COUNTS))} photos)", flush=True)
        database, photo_dir = workdir / "bench.db", workdir / "photos"
        courses = _seed(database, photo_dir, camera)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PHOTO_DIR": str(photo_dir),
               "SECRET_KEY": secrets.token_urlsafe(32), "LOG_LEVEL": "WARNING"}
        _warm(photo_dir)
        zips: dict[int, tuple[Probe, Probe]] = {}
        for count, (course_id, token, originals) in courses.items():
            listing = workdir / f"originals-{count}.json"
            listing.write_text(json.dumps(originals))
            best_export = best_baseline = None
            for round_number in range(1, ROUNDS + 1):
                print(f"  {count} photos, round {round_number}: zipfile, then export.zip",
                      flush=True)
                baseline = _probe(env, "zipfile", str(listing), str(workdir / "baseline.zip"))
                export = _probe(env, "zip", str(course_id), token, str(workdir / "export.zip"))
                _check_zip(workdir / "export.zip", len(originals))
                best_baseline = min(best_baseline or baseline, baseline, key=_seconds)
                best_export = min(best_export or export, export, key=_seconds)
            zips[count] = (best_baseline, best_export)
        course_id, token, _ = courses[max(PHOTO_COUNTS)]
        print(f"  {max(PHOTO_COUNTS)} photos: export.pdf", flush=True)
        pdf = min((_probe(env, "pdf", str(course_id), token, str(workdir / "export.pdf"))
                   for _ in range(ROUNDS)), key=_seconds)
        _check_pdf(workdir / "export.pdf")
    return _report(zips, pdf)


def _seconds(probe: Probe) -> float:
    return probe.seconds


# -- the photos --------------------------------------------------------------------------------

def _camera_photos(folder: Path, count: int) -> list[Path]:
    """Distinct 12 MP JPEGs of a scalp close-up, written to `folder`: one scene, each shot
    with other strands on top."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(7)
    skin = Image.new("RGB", (4, 3))
    for x in range(4):
        for y in range(3):
            skin.putpixel((x, y), (200 - rng.randint(0, 40), 160 - rng.randint(0, 30),
                                   140 - rng.randint(0, 30)))
    scene = skin.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    _strands(ImageDraw.Draw(scene), rng, 6000)
    scene = scene.filter(ImageFilter.GaussianBlur(1.5))
    scene = Image.blend(scene, Image.effect_noise((WIDTH, HEIGHT), 10).convert("RGB"), 0.05)
    folder.mkdir()
    photos = []
    for number in range(count):
        shot = scene.copy()
        _strands(ImageDraw.Draw(shot), rng, 40)
        photos.append(folder / f"{number:03}.jpg")
        shot.save(photos[-1], "JPEG", quality=JPEG_QUALITY)
    return photos


def _strands(draw, rng: random.Random, count: int) -> None:
    for _ in range(count):
        x, y, shade = rng.randrange(WIDTH), rng.randrange(HEIGHT), rng.randint(25, 70)
        draw.line((x, y, x + rng.randint(-60, 60), y + rng.randint(80, 260)),
                  fill=(shade, shade - 5, shade - 10), width=rng.randint(3, 6))


# -- the database ------------------------------------------------------------------------------

def _seed(database: Path, photo_dir: Path, camera: list[Path]) -> dict[int, tuple[int, str, list]]:
    """Per photo count: (course id, bearer token, [(original path, name in the ZIP)])."""
    from sqlalchemy.orm import Session

    from services.accounts import hash_password, token_digest
    from services.images import ingest as intake
    from storage import migrate
    from storage.blobs import LocalBlobStore
    from storage.db import make_engine
    from storage.models import AuthToken, Course, Photo, TreatmentSession, User, utcnow

    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    store = LocalBlobStore(photo_dir)
    password = hash_password(secrets.token_urlsafe(12))
    courses = {}
    taken = iter(camera)
    with Session(engine) as session:
        for count in PHOTO_COUNTS:
            token = secrets.token_urlsafe(32)
            patient = User(email=f"exports-{count}@bench.example", password_hash=password,
                           display_name=f"Bench Patient {count}", timezone=ZONE.key,
                           role="patient")
            session.add(patient)
            session.flush()
            session.add(AuthToken(user_id=patient.id, token_hash=token_digest(token),
                                  expires_at=utcnow() + timedelta(days=1)))
            days = count // len(AREAS)
            start = date.today() - timedelta(days=14 * days)
            course = Course(patient_id=patient.id, regimen="intensive", setting="clinic",
                            weekly_sessions=5, biweekly_sessions=5, start_date=start,
                            status="active", screening={}, hold_reasons=[],
                            concurrent_therapies=["minoxidil 5 %"])
            session.add(course)
            session.flush()
            originals = []
            for number in range(1, days + 1):
                performed = datetime.combine(start + timedelta(days=14 * (number - 1)),
                                             clock(19), ZONE)
                row = TreatmentSession(course_id=course.id, performed_at=performed,
                                       needle_length_mm=0.5, duration_minutes=15, pain_score=3,
                                       cocktail={"name": "Peptide serum", "ingredients": []},
                                       areas=list(AREAS), side_effects=[],
                                       device_disinfected=True, logged_by_id=patient.id)
                session.add(row)
                session.flush()
                for area in AREAS:
                    data = next(taken).read_bytes()
                    ingested = intake.ingest(store, data)
                    # What the queue's job then makes (the exports read the previews).
                    with store.open(ingested.original_key) as original:
                        made = intake.derive(store, original.read())
                    ingested = dataclasses.replace(ingested, preview_key=made.preview_key,
                                                   thumbnail_key=made.thumbnail_key)
                    session.add(Photo(
                        patient_id=patient.id, course_id=course.id, session_id=row.id,
                        area=area, taken_at=performed + timedelta(hours=1),
                        taken_at_offset_minutes=60, taken_at_source="client",
                        upload_sha256=hashlib.sha256(data).hexdigest(),
                        original_key=ingested.original_key, preview_key=ingested.preview_key,
                        thumbnail_key=ingested.thumbnail_key, media_type=ingested.media_type,
                        width=ingested.width, height=ingested.height,
                        byte_size=ingested.byte_size, quality_warnings=[]))
                    originals.append((str(store.path(ingested.original_key)),
                                      f"photos/{area}/{number}.jpg"))
            session.commit()
            courses[count] = (course.id, token, originals)
    engine.dispose()
    return courses


def _warm(photo_dir: Path) -> None:
    """Read every stored file once, so both sides start from the same page cache."""
    for path in photo_dir.rglob("*"):
        if path.is_file():
            path.read_bytes()


# -- the measuring processes -------------------------------------------------------------------

def _probe(env: dict, *args: str) -> Probe:
    result = subprocess.run([sys.executable, "-m", "bench.exports", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args[:1])} failed:\n{result.stderr[-2000:]}")
    return Probe(**json.loads(result.stdout.strip().splitlines()[-1]))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """The process's high-water mark (VmHWM): unlike getrusage's ru_maxrss, it starts
    afresh at exec, so the parent's size at the fork does not count."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise BenchError("no VmHWM in /proc/self/status")


def _measure(variant: str, args: list[str]) -> dict:
    """In the measuring process: do one export, report time, RSS and size as JSON."""
    if variant == "zipfile":
        originals = json.loads(Path(args[0]).read_text())
        out = Path(args[1])
        start_rss = _rss_mb()
        started = time.perf_counter()
        with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
            for path, name in originals:
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)
        seconds = time.perf_counter() - started
    else:
        from api import create_app

        course_id, token, out = args[0], args[1], Path(args[2])
        client = create_app().test_client()
        start_rss = _rss_mb()
        path = f"/api/v1/courses/{course_id}/export.{variant}"
        started = time.perf_counter()
        response = client.get(path, headers={"Authorization": f"Bearer {token}"},
                              buffered=False)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        with out.open("wb") as target:
            for chunk in response.response:
                target.write(chunk)
        response.close()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "start_rss_mb": start_rss,
            "bytes": out.stat().st_size}


def _check_zip(path: Path, photos: int) -> None:
    with zipfile.ZipFile(path) as archive:
        names = [name for name in archive.namelist() if name.startswith("photos/")]
        if len(names) != photos or archive.testzip() is not None:
            raise BenchError(f"export.zip holds {len(names)} photos, expected {photos}")


def _check_pdf(path: Path) -> None:
    if not path.read_bytes().startswith(b"%PDF-"):
        raise BenchError("export.pdf is not a PDF")


# -- the report --------------------------------------------------------------------------------

def _report(zips: dict[int, tuple[Probe, Probe]], pdf: Probe) -> bool:
    print()
    print(f"{'what':<34} {'seconds':>8} {'MB/s':>7} {'peak RSS':>9} {'at start':>9} "
          f"{'size MB':>8}")
    for count, (baseline, export) in zips.items():
        for label, probe in ((f"zipfile.write, {count} originals", baseline),
                             (f"GET export.zip, {count} photos", export)):
            print(f"{label:<34} {probe.seconds:>8.2f} {probe.bytes / 2**20 / probe.seconds:>7.0f} "
                  f"{probe.peak_rss_mb:>6.0f} MB {probe.start_rss_mb:>6.0f} MB "
                  f"{probe.bytes / 2**20:>8.1f}")
    print(f"{f'GET export.pdf, {max(PHOTO_COUNTS)} photos':<34} {pdf.seconds:>8.2f} {'':>7} "
          f"{pdf.peak_rss_mb:>6.0f} MB {pdf.start_rss_mb:>6.0f} MB {pdf.bytes / 2**20:>8.1f}")
    print(f"(fastest of {ROUNDS} rounds each, the two ZIP writers alternating; RSS of the "
          "measuring process: 'at start' is after imports and app creation)")
    print()
    small, large = min(zips), max(zips)
    baseline, export = zips[large]
    ratio = export.seconds / baseline.seconds
    growth = zips[large][1].peak_rss_mb - zips[small][1].peak_rss_mb
    checks = (
        (ratio <= GOAL_ZIP_RATIO,
         f"export.zip / zipfile = {ratio:.2f}x at {large} photos (goal <= {GOAL_ZIP_RATIO}x)"),
        (export.peak_rss_mb < GOAL_RSS_MB,
         f"export.zip peak RSS = {export.peak_rss_mb:.0f} MB (goal < {GOAL_RSS_MB:.0f} MB)"),
        (growth < GOAL_RSS_GROWTH_MB,
         f"peak RSS {large} vs {small} photos: {growth:+.1f} MB "
         f"(goal < {GOAL_RSS_GROWTH_MB:.0f} MB)"),
        (pdf.seconds < GOAL_PDF_S, f"export.pdf = {pdf.seconds:.1f} s (goal < {GOAL_PDF_S:.0f} s)"),
        (pdf.bytes / 2**20 < GOAL_PDF_MB,
         f"export.pdf = {pdf.bytes / 2**20:.1f} MB (goal < {GOAL_PDF_MB:.0f} MB)"),
    )
    for met, line in checks:
        print(f"{line:<60} {'ok' if met else 'MISSED'}")
    return all(met for met, _ in checks)


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], sys.argv[2:])))
