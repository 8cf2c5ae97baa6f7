"""Ingest one uploaded photo: the image pipeline and the blob store, overlapped.

While this thread decodes the image and makes the preview and thumbnail, a
helper rewrites the original's container, hashes it and writes it to a temp
file (fsync included); helpers also shrink half of the preview, encode it and
rate it. Once the decode has proven the image whole, this thread publishes
the original while the helpers write and publish the preview and thumbnail,
so the fsyncs overlap. A refused upload leaves the store exactly as it was.

The API, the benchmark and the CLI all call `ingest`.
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
    """An accepted photo, its three files published in the store."""

    original_key: str
    preview_key: str
    thumbnail_key: str
    media_type: str
    byte_size: int
    width: int
    height: int
    quality_warnings: tuple[str, ...]
    captured_at: datetime | None


def ingest(store: BlobStore, data: bytes) -> IngestedPhoto:
    """Validate, orient, strip, derive, hash and durably write an upload; raise if refused."""
    source = images.read(data)
    with Batch(store) as batch, ThreadPoolExecutor(max_workers=2) as helpers:
        pending = helpers.submit(_strip_and_stage, batch, source)
        developed = images.develop(source, helper=helpers)
        # The container rewrite may refuse the file too: know that before publishing anything.
        original, staged = pending.result()
        derived = [helpers.submit(_put, batch, rendition)
                   for rendition in (developed.preview, developed.thumbnail)]
        if original is None:
            original = developed.transcoded
            original_key = _put(batch, original)
        else:
            original_key = batch.publish(staged)
        preview_key, thumbnail_key = (future.result() for future in derived)
    return IngestedPhoto(
        original_key=original_key,
        preview_key=preview_key,
        thumbnail_key=thumbnail_key,
        media_type=original.media_type,
        byte_size=len(original.data),
        width=source.width,
        height=source.height,
        quality_warnings=developed.quality_warnings,
        captured_at=source.captured_at,
    )


def _strip_and_stage(batch: Batch, source: images.Source) -> tuple[images.Rendition | None,
                                                                    StagedBlob | None]:
    original = images.strip(source)
    return original, None if original is None else _stage(batch, original)


def _stage(batch: Batch, rendition: images.Rendition) -> StagedBlob:
    sha256 = hashlib.sha256(rendition.data).hexdigest()
    return batch.stage(rendition.data, sha256, rendition.extension)


def _put(batch: Batch, rendition: images.Rendition) -> str:
    return batch.publish(_stage(batch, rendition))
