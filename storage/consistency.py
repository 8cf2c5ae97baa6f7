"""Do the photo rows and the files agree? What `flask storage check` finds and `--repair` removes.

- a row whose file is missing, or whose file's SHA-256 is not the one in its
  key (`missing`, `mismatched`): reported, never "repaired" (only a backup can);
- a file no row refers to: a blob of no photo, the bytes of an upload that is
  over, a temp file left by a crash (`orphan`). Nobody can see these; repair
  removes those older than an hour (younger ones may belong to a request
  still running), re-checking each one right before deleting it;
- a photo whose preview and thumbnail its job has not made yet (`pending`):
  reported, for the queue to finish (a job left failed shows in `flask jobs list`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from storage import photo_records
from storage.blobs import BlobStore, StoredFile, sha256_of
from storage.models import utcnow

MISSING, MISMATCHED, ORPHAN, PENDING = "missing", "mismatched", "orphan", "pending"
# A file younger than this may belong to an upload whose row is not committed yet.
ORPHAN_GRACE = timedelta(hours=1)
BATCH = 500


@dataclass(frozen=True)
class Finding:
    kind: str
    path: str
    photo_id: int | None = None
    age: timedelta = timedelta(0)


def check_rows(store: BlobStore, rows: Iterable[tuple[int, str, str, str]]) -> list[Finding]:
    """Each photo's three files (rows of `photo_records.photo_files`): there, and holding
    the bytes their key names."""
    findings = []
    for photo_id, *keys in rows:
        if None in keys:
            findings.append(Finding(PENDING, "", photo_id))
        for key in dict.fromkeys(keys):
            if key is None:
                continue
            if not store.exists(key):
                findings.append(Finding(MISSING, key, photo_id))
            elif _sha256(store, key) != sha256_of(key):
                findings.append(Finding(MISMATCHED, key, photo_id))
    return findings


def find_orphans(session: Session, files: Iterable[StoredFile]) -> list[Finding]:
    """The files (of `store.files()`) that no photo and no open upload refers to."""
    now = utcnow()
    live_parts = photo_records.live_parts(session, now)
    orphans: list[Finding] = []
    batch: list[StoredFile] = []

    def settle() -> None:
        used = photo_records.keys_in_use(session, (file.key for file in batch))
        orphans.extend(_orphan(file, now) for file in batch if file.key not in used)
        batch.clear()

    for file in files:
        if file.key is not None:
            batch.append(file)
            if len(batch) == BATCH:
                settle()
        elif file.part is None or file.part not in live_parts:
            orphans.append(_orphan(file, now))
    settle()
    return orphans


def remove_orphans(session: Session, store: BlobStore, orphans: list[Finding]) -> int:
    """Remove the orphans older than the grace period, each checked again just before."""
    removed = 0
    for orphan in orphans:
        if orphan.age < ORPHAN_GRACE:
            continue
        file = store.stat(orphan.path)
        if file is None or utcnow().timestamp() - file.modified_at < ORPHAN_GRACE.total_seconds():
            continue  # gone meanwhile, or written again
        if file.key is not None and photo_records.keys_in_use(session, [file.key]):
            continue  # a photo took it meanwhile
        if file.part is not None and file.part in photo_records.live_parts(session, utcnow()):
            continue
        store.delete_file(orphan.path)
        removed += 1
    return removed


def _orphan(file: StoredFile, now) -> Finding:
    return Finding(ORPHAN, file.relative_path,
                   age=timedelta(seconds=max(0.0, now.timestamp() - file.modified_at)))


def _sha256(store: BlobStore, key: str) -> str:
    digest = hashlib.sha256()
    with store.open(key) as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
