"""Benchmark `ingest`: an upload's synchronous part against the decode floor and naive Pillow.

One generated 12 MP (4032x3024) photo-like JPEG of 3-5 MB with EXIF
Orientation 6 and GPS, four ways, each in a fresh interpreter (so one's peak
RSS never shows in another's), in the same run on the same machine:

- `ingest`: what `POST /photos` does to the bytes before it answers: the
  SHA-256 of the upload (the dedupe key), then `services.images.ingest.ingest`:
  decode at the smallest DCT scale the quality hints need (which proves the
  image whole), rate, strip, hash and write the original durably (temp file,
  fsync, rename, directory fsync) into a blob store;
- `derive`: what the derivatives job does after the answer,
  `services.images.ingest.derive` on the stored original: the preview and the
  thumbnail, written the same way (shown for information, no goal);
- `naive`: a full decode, `ImageOps.exif_transpose`, LANCZOS to 1280 and to 320 px;
- `floor`: decoding the JPEG at 1/2 scale with `draft`, nothing else.

The variants run interleaved, a short batch of each in turn, so a machine
shared with other work loads all of them alike; the median time per photo
counts, with its interquartile range.

Goals: ingest at most 1.5x the floor, at least 3x faster than naive, peak
RSS of the ingesting process under 80 MB.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BenchError

ROOT = Path(__file__).resolve().parent.parent
SIZE = (4032, 3024)
PREVIEW, THUMBNAIL = (1280, 960), (320, 240)
GOAL_FLOOR_RATIO = 1.5
GOAL_NAIVE_SPEEDUP = 3.0
GOAL_PEAK_RSS_MB = 80
WARMUP_RUNS = 2
MIN_RUNS = 5
BATCH_S = 0.5
MIB = 1024 * 1024
VARIANTS = ("floor", "ingest", "derive", "naive")


def run(duration_s: int) -> bool:
    """Generate the photo, measure the four variants, print the table and the goal checks."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        photo = Path(tmp) / "photo.jpg"
        _run_child(["generate", str(photo)])
        megabytes = photo.stat().st_size / 1e6
        print(f"photo: {SIZE[0]}x{SIZE[1]} JPEG, {megabytes:.1f} MB, EXIF Orientation 6 and GPS",
              flush=True)
        if not 3 <= megabytes <= 5:
            raise BenchError(f"the generated photo is {megabytes:.1f} MB, not 3-5 MB")
        print(f"measuring {', '.join(VARIANTS)}, interleaved, {duration_s} s each", flush=True)
        results = _interleaved(photo, duration_s, Path(tmp))
    return _report(results)


def phone_photo() -> bytes:
    """A 12 MP JPEG that compresses like a photo (smooth light, fine texture), taken sideways."""
    from PIL import Image

    width, height = SIZE
    light = Image.radial_gradient("L").resize(SIZE)
    blobs = Image.effect_noise((width // 16, height // 16), 80).resize(SIZE,
                                                                       Image.Resampling.BICUBIC)
    grain = Image.effect_noise(SIZE, 20)
    picture = Image.merge("RGB", (Image.blend(light, blobs, 0.5), blobs, light))
    picture = Image.blend(picture, Image.merge("RGB", (grain, grain, grain)), 0.25)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "PhoneMaker", "Phone 12"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 14.0), 3: "E", 4: (13.0, 24.0, 33.0)}
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


class _Child:
    """One variant in its own interpreter, running batches of photos when told to."""

    def __init__(self, variant: str, photo: Path, store_root: Path):
        self.variant = variant
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.ingest", "serve", variant, str(photo), str(store_root)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.times: list[float] = []

    def ask(self, command: str):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise BenchError(f"{self.variant} failed: {self.process.stderr.read()[-2000:]}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _interleaved(photo: Path, duration_s: int, workdir: Path) -> dict[str, dict]:
    children = [_Child(variant, photo, workdir / f"store-{variant}")
                for variant in VARIANTS]
    try:
        for child in children:
            child.ask(f"run {WARMUP_RUNS}")
        spent = dict.fromkeys((child.variant for child in children), 0.0)
        while min(spent.values()) < duration_s or min(len(c.times) for c in children) < MIN_RUNS:
            for child in children:
                # About half a second per turn, whatever the variant's speed.
                batch = max(1, round(BATCH_S / (statistics.median(child.times) if child.times
                                                 else BATCH_S)))
                times = child.ask(f"run {batch}")
                child.times.extend(times)
                spent[child.variant] += sum(times)
        return {child.variant: {**_summary(child.times), **child.ask("rss")}
                for child in children}
    finally:
        for child in children:
            child.close()


def _summary(times: list[float]) -> dict:
    quartiles = statistics.quantiles(times, n=4)
    return {"ms": statistics.median(times) * 1000, "q1_ms": quartiles[0] * 1000,
            "q3_ms": quartiles[2] * 1000, "runs": len(times)}


def _run_child(arguments: list[str]) -> None:
    completed = subprocess.run([sys.executable, "-m", "bench.ingest", *arguments], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    if completed.returncode != 0:
        raise BenchError(f"{arguments[0]} failed: {completed.stderr.strip()[-2000:]}")


def _variant(name: str, data: bytes, store_root: Path):
    """The work of one photo in this variant, as a function of no arguments."""
    from PIL import Image, ImageOps

    if name == "floor":
        def work():
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", PREVIEW)
            image.load()
    elif name == "naive":
        def work():
            image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
            image.resize(_fit(image.size, PREVIEW[0]), Image.Resampling.LANCZOS)
            image.resize(_fit(image.size, THUMBNAIL[0]), Image.Resampling.LANCZOS)
    else:
        from services.images import ingest as intake
        from storage.blobs import LocalBlobStore

        store = LocalBlobStore(store_root)
        if name == "derive":
            # The job reads the original the upload stored, not the bytes uploaded.
            with store.open(intake.ingest(store, data).original_key) as stored:
                original = stored.read()

            def work():
                intake.derive(store, original)
        else:
            def work():
                hashlib.sha256(data).hexdigest()
                intake.ingest(store, data)
    return work


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = long_side / max(size)
    return round(size[0] * scale), round(size[1] * scale)


def _serve(variant: str, photo: str, store_root: str) -> None:
    """In a fresh interpreter: run batches of one variant as the parent asks, answer in JSON."""
    data = Path(photo).read_bytes()
    rss_before = _peak_rss_mb()
    work = _variant(variant, data, Path(store_root))
    for command in sys.stdin:
        if command.startswith("run "):
            times = []
            for _ in range(int(command.split()[1])):
                started = time.perf_counter()
                work()
                times.append(time.perf_counter() - started)
            answer = times
        else:
            answer = {"peak_rss_mb": _peak_rss_mb(), "rss_before_mb": rss_before}
        print(json.dumps(answer), flush=True)


def _peak_rss_mb() -> float:
    """This process's peak RSS since it started its interpreter.

    On Linux `ru_maxrss` also counts the parent's peak (it survives fork and
    exec), so there the new image's own high-water mark, VmHWM, is read.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def _report(results: dict[str, dict]) -> bool:
    floor, ingest, derive, naive = (results[variant] for variant in VARIANTS)
    print()
    print(f"{'variant':<8} {'ms/photo':>9} {'(q1-q3)':>15} {'peak RSS MB':>12} "
          f"{'RSS at start MB':>16} {'runs':>6}")
    for label, result in results.items():
        spread = f"{result['q1_ms']:.0f}-{result['q3_ms']:.0f}"
        print(f"{label:<8} {result['ms']:>9.1f} {spread:>15} {result['peak_rss_mb']:>12.1f} "
              f"{result['rss_before_mb']:>16.1f} {result['runs']:>6}")
    print()
    checks = (
        (ingest["ms"] / floor["ms"] <= GOAL_FLOOR_RATIO,
         f"ingest / floor = {ingest['ms'] / floor['ms']:.2f}x (goal <= {GOAL_FLOOR_RATIO}x)"),
        (naive["ms"] / ingest["ms"] >= GOAL_NAIVE_SPEEDUP,
         f"naive / ingest = {naive['ms'] / ingest['ms']:.2f}x (goal >= {GOAL_NAIVE_SPEEDUP:.0f}x)"),
        (ingest["peak_rss_mb"] < GOAL_PEAK_RSS_MB,
         f"ingest peak RSS = {ingest['peak_rss_mb']:.0f} MB (goal < {GOAL_PEAK_RSS_MB} MB)"),
    )
    for met, line in checks:
        print(f"{line:<56} {'ok' if met else 'MISSED'}")
    derived = (f"derive / floor = {derive['ms'] / floor['ms']:.2f}x "
               f"({derive['ms']:.0f} ms/photo, the job)")
    print(f"{derived:<56} info")
    return all(met for met, _ in checks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The children of the ingest benchmark.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write the 12 MP photo")
    generate.add_argument("photo")
    serve = commands.add_parser("serve", help="run one variant in batches, as asked on stdin")
    serve.add_argument("variant", choices=VARIANTS)
    serve.add_argument("photo")
    serve.add_argument("store_root")
    arguments = parser.parse_args()
    if arguments.command == "generate":
        Path(arguments.photo).write_bytes(phone_photo())
    else:
        _serve(arguments.variant, arguments.photo, arguments.store_root)
