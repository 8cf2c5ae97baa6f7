"""The photo blob store: content-addressed files, written so a crash never leaves half a file.

`BlobStore` is the interface the rest of the code uses; `LocalBlobStore`,
files under one root folder (`PHOTO_DIR`), is the default implementation.

A blob's key is `ab/cd/<sha256>.<ext>`: the SHA-256 of the stored bytes and
the extension of their media type. Nothing the client sends (file name,
Content-Type) is part of a path.

Writing is two steps, so a caller can write while it still validates and
publish only once everything is known to be good: `stage` writes a temp file
and fsyncs it; `publish` renames it into place and fsyncs the directory.
`Batch` stages several blobs and removes whatever was not published, so a
failed request leaves no temp file behind.

Resumable uploads keep their bytes so far in part files (`uploads/<name>.part`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

# Photos (jpg, png, webp) and the files of export jobs (zip, pdf).
KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})\.(jpg|png|webp|zip|pdf)$")
PART_NAME = re.compile(r"^[0-9a-f]{32}$")
TEMP_DIR, PARTS_DIR = "tmp", "uploads"


def key_for(sha256: str, extension: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def sha256_of(key: str) -> str:
    """The SHA-256 a key names (its files' strong ETag)."""
    match = KEY.match(key)
    if match is None:
        raise ValueError(f"not a blob key: {key!r}")
    return match[1]


@dataclass(frozen=True)
class StagedBlob:
    """A blob written and fsynced under a temporary name, not visible yet."""

    key: str
    temp_path: Path


@dataclass(frozen=True)
class StoredFile:
    """A file found in the store: a blob (`key`), a part file (`part`), or neither (a stray)."""

    relative_path: str
    modified_at: float
    key: str | None = None
    part: str | None = None


class BlobStore(Protocol):
    """What the API, the CLI and the benchmark need from a place to keep photo files."""

    def stage(self, data: bytes, sha256: str, extension: str) -> StagedBlob: ...

    def stage_chunks(self, chunks: Iterable[bytes], extension: str) -> StagedBlob: ...

    def publish(self, staged: StagedBlob) -> str: ...

    def discard(self, staged: StagedBlob) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def files(self) -> Iterator[StoredFile]: ...

    def stat(self, relative_path: str) -> StoredFile | None: ...

    def delete_file(self, relative_path: str) -> None: ...

    def create_part(self, name: str) -> None: ...

    def write_part(self, name: str, offset: int, data: bytes) -> None: ...

    def read_part(self, name: str) -> bytes: ...

    def delete_part(self, name: str) -> None: ...


class LocalBlobStore:
    """Blobs as files under `root`: temp file, fsync, rename, fsync the directory."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        sha256_of(key)
        return self.root / key

    def stage(self, data: bytes, sha256: str, extension: str) -> StagedBlob:
        return self._stage([data], extension, sha256)

    def stage_chunks(self, chunks: Iterable[bytes], extension: str) -> StagedBlob:
        """Like `stage`, for bytes too many to hold at once (an export): hashed as written."""
        return self._stage(chunks, extension, None)

    def _stage(self, chunks: Iterable[bytes], extension: str, sha256: str | None) -> StagedBlob:
        """Write to a temp file and fsync it; hash on the way unless the SHA-256 is known."""
        temp_dir = self.root / TEMP_DIR
        temp_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=temp_dir, prefix="blob-", suffix=".tmp")
        digest = hashlib.sha256() if sha256 is None else None
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks:
                    if digest is not None:
                        digest.update(chunk)
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return StagedBlob(key_for(sha256 or digest.hexdigest(), extension), Path(name))

    def publish(self, staged: StagedBlob) -> str:
        target = self.path(staged.key)
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync_directory(target.parent.parent)
            _fsync_directory(target.parent.parent.parent)
        os.replace(staged.temp_path, target)
        _fsync_directory(target.parent)
        return staged.key

    def discard(self, staged: StagedBlob) -> None:
        staged.temp_path.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            _fsync_directory(path.parent)

    def files(self) -> Iterator[StoredFile]:
        """Every file under the root, each told apart by where it is and its name."""
        if not self.root.is_dir():
            return
        for folder, _, names in os.walk(self.root):
            for name in names:
                found = self.stat(Path(folder, name).relative_to(self.root).as_posix())
                if found is not None:
                    yield found

    def stat(self, relative_path: str) -> StoredFile | None:
        """The file at this path under the root, or None if there is none (any more)."""
        try:
            modified_at = self._inside(relative_path).stat().st_mtime
        except FileNotFoundError:
            return None
        name = relative_path.rsplit("/", 1)[-1]
        stem = name.removesuffix(".part")
        is_part = relative_path == f"{PARTS_DIR}/{name}" and name != stem and PART_NAME.match(stem)
        return StoredFile(relative_path, modified_at,
                          key=relative_path if KEY.match(relative_path) else None,
                          part=stem if is_part else None)

    def delete_file(self, relative_path: str) -> None:
        self._inside(relative_path).unlink(missing_ok=True)

    def _inside(self, relative_path: str) -> Path:
        path = (self.root / relative_path).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"outside the store: {relative_path!r}")
        return path

    def _part_path(self, name: str) -> Path:
        if not PART_NAME.match(name):
            raise ValueError(f"not a part name: {name!r}")
        return self.root / PARTS_DIR / f"{name}.part"

    def create_part(self, name: str) -> None:
        path = self._part_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb"):
            pass

    def write_part(self, name: str, offset: int, data: bytes) -> None:
        """Write `data` at `offset`, cut anything after it (a retried chunk), fsync."""
        with self._part_path(name).open("r+b") as file:
            file.seek(offset)
            file.write(data)
            file.truncate()
            file.flush()
            os.fsync(file.fileno())

    def read_part(self, name: str) -> bytes:
        return self._part_path(name).read_bytes()

    def delete_part(self, name: str) -> None:
        self._part_path(name).unlink(missing_ok=True)


class Batch:
    """Blobs staged for one purpose; whatever was not published is removed at the end.

    `with Batch(store) as batch: staged = batch.stage(...); ...; key = batch.publish(staged)`.
    Safe to use from several threads.
    """

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.staged: set[StagedBlob] = set()

    def stage(self, data: bytes, sha256: str, extension: str) -> StagedBlob:
        staged = self.store.stage(data, sha256, extension)
        self.staged.add(staged)
        return staged

    def stage_chunks(self, chunks: Iterable[bytes], extension: str) -> StagedBlob:
        staged = self.store.stage_chunks(chunks, extension)
        self.staged.add(staged)
        return staged

    def publish(self, staged: StagedBlob) -> str:
        key = self.store.publish(staged)
        self.staged.discard(staged)
        return key

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc_info) -> None:
        for staged in list(self.staged):
            self.store.discard(staged)
        self.staged.clear()


def _fsync_directory(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
