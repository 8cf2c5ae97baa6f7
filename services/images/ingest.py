"""Ingest one uploaded photo: what its answer waits for, and the derivatives made after.

`ingest` is the upload's part: the original is proven whole, stripped and
durably stored, and the quality hints are known. While this thread decodes
the image at the smallest scale the hints need (`pipeline.rate`), a helper
rewrites the original's container, hashes it and writes it to a temp file
(fsync included); once the decode has proven the image whole, the original
is published. A refused upload leaves the store exactly as it was.

`derive` is the job's part (`services.derivatives`): the preview and the
thumbnail, made from the stored original and published.

A HEIF upload is transcoded to a JPEG original, which needs the full decode
anyway: `ingest` makes and stores its preview and thumbnail at once.

The API, the benchmark and the CLI all call these.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from services.images import pipeline as images
from storage.blobs import Batch, BlobStore, StagedBlob


@dataclass(frozen=True)
class IngestedPhoto:
    """An accepted photo, its original published in the store (and, from a HEIF, its
    preview and thumbnail: otherwise those keys are None, for `derive` to fill)."""

    original_key: str
    preview_key: str | None
    thumbnail_key: str | None
    media_type: str
    byte_size: int
    width: int
    height: int
    quality_warnings: tuple[str, ...]
    captured_at: datetime | None


@dataclass(frozen=True)
class Derivatives:
    preview_key: str
    thumbnail_key: str


def ingest(store: BlobStore, data: bytes) -> IngestedPhoto:
    """Validate, strip, rate, hash and durably write an upload's original; raise if refused."""
    source = images.read(data)
    if source.media_type == images.HEIF:
        return _ingest_heif(store, source)
    with Batch(store) as batch, ThreadPoolExecutor(max_workers=1) as helper:
        pending = helper.submit(_strip_and_stage, batch, source)
        warnings = images.rate(source)
        # The container rewrite may refuse the file too: know that before publishing it.
        original, staged = pending.result()
        original_key = batch.publish(staged)
    return IngestedPhoto(
        original_key=original_key, preview_key=None, thumbnail_key=None,
        media_type=original.media_type, byte_size=len(original.data),
        width=source.width, height=source.height, quality_warnings=warnings,
        captured_at=source.captured_at,
    )


def derive(store: BlobStore, original: bytes) -> Derivatives:
    """The preview and thumbnail of a stored original, published (the same bytes always
    make the same files, under the same keys)."""
    source = images.read(original)
    with Batch(store) as batch, ThreadPoolExecutor(max_workers=2) as helpers:
        developed = images.develop(source, helper=helpers)
        derived = [helpers.submit(_put, batch, rendition)
                   for rendition in (developed.preview, developed.thumbnail)]
        preview_key, thumbnail_key = (future.result() for future in derived)
    return Derivatives(preview_key, thumbnail_key)


def _ingest_heif(store: BlobStore, source: images.Source) -> IngestedPhoto:
    with Batch(store) as batch, ThreadPoolExecutor(max_workers=2) as helpers:
        developed = images.develop(source, helper=helpers)
        original = developed.transcoded
        derived = [helpers.submit(_put, batch, rendition)
                   for rendition in (developed.preview, developed.thumbnail)]
        original_key = _put(batch, original)
        preview_key, thumbnail_key = (future.result() for future in derived)
    return IngestedPhoto(
        original_key=original_key, preview_key=preview_key, thumbnail_key=thumbnail_key,
        media_type=original.media_type, byte_size=len(original.data),
        width=source.width, height=source.height, quality_warnings=developed.quality_warnings,
        captured_at=source.captured_at,
    )


def _strip_and_stage(batch: Batch, source: images.Source) -> tuple[images.Rendition,
                                                                    StagedBlob]:
    original = images.strip(source)
    return original, _stage(batch, original)


def _stage(batch: Batch, rendition: images.Rendition) -> StagedBlob:
    sha256 = hashlib.sha256(rendition.data).hexdigest()
    return batch.stage(rendition.data, sha256, rendition.extension)


def _put(batch: Batch, rendition: images.Rendition) -> str:
    return batch.publish(_stage(batch, rendition))
