"""A ZIP archive written while it is sent: members in, chunks of the archive out.

`zipfile` writes into a sink that cannot seek (each member's sizes and CRC
follow it in a data descriptor); after every chunk the generator hands on
what was written. Photo files are read from the blob store one chunk at a
time, so memory stays flat whatever the number of photos, and the first
bytes leave before the last photo is opened. JPEG, PNG and WebP are stored
as they are (they are compressed already); JSON and CSV are deflated.
ZIP64 is used where sizes or offsets need it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from services.iso8601 import iso_default
from storage.blobs import BlobStore, sha256_of

# Small enough that the allocator reuses the same few buffers (memory stays flat
# whatever the size of the archive), large enough to cost nothing in time.
CHUNK_SIZE = 64 * 1024
# The oldest time a ZIP entry can carry (MS-DOS dates start in 1980).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BytesMember:
    """A member made in memory (JSON, CSV): deflated."""

    name: str
    data: bytes
    modified: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class BlobMember:
    """A member copied from the blob store as it is; its key names its SHA-256."""

    name: str
    key: str
    modified: datetime

    @property
    def sha256(self) -> str:
        return sha256_of(self.key)


Member = BytesMember | BlobMember


def json_member(name: str, document, modified: datetime) -> BytesMember:
    """A JSON member, readable by people too (indented, UTF-8, dates as ISO 8601)."""
    data = json.dumps(document, ensure_ascii=False, indent=2, default=iso_default)
    return BytesMember(name, data.encode(), modified)


class _Sink(io.RawIOBase):
    """Where `zipfile` writes: bytes wait here until the generator takes them; it cannot seek."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pending += data
        return len(data)

    def take(self) -> bytes:
        chunk = bytes(self.pending)
        self.pending.clear()
        return chunk


def stream_zip(members: Iterable[Member], store: BlobStore) -> Iterator[bytes]:
    """The archive of `members`, in order, as chunks of at most about CHUNK_SIZE bytes."""
    return (chunk for chunk in _write(members, store) if chunk)


def _write(members: Iterable[Member], store: BlobStore) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for member in members:
            if isinstance(member, BytesMember):
                archive.writestr(_info(member, zipfile.ZIP_DEFLATED), member.data)
                yield sink.take()
            else:
                yield from _copy_blob(archive, sink, member, store)
    yield sink.take()


def _copy_blob(archive: zipfile.ZipFile, sink: _Sink, member: BlobMember,
               store: BlobStore) -> Iterator[bytes]:
    with store.open(member.key) as source:
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        info = _info(member, zipfile.ZIP_STORED)
        # Known up front, so zipfile writes ZIP64 headers when the size needs them.
        info.file_size = size
        with archive.open(info, "w") as target:
            while chunk := source.read(CHUNK_SIZE):
                target.write(chunk)
                yield sink.take()
    yield sink.take()


def _info(member: Member, compression: int) -> zipfile.ZipInfo:
    moment = member.modified.timetuple()[:6]
    info = zipfile.ZipInfo(member.name, date_time=max(moment, _ZIP_EPOCH))
    info.compress_type = compression
    # Regular files, rw-r--r--, for whoever unpacks the archive.
    info.external_attr = 0o100644 << 16
    return info
