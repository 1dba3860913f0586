"""A ZIP archive a user uploads, checked and extracted without trusting it: no absolute paths, no
`..`, no symbolic links, devices or other special files, no encrypted entries, bounded entry count,
uncompressed size and compression ratio (zip bombs). The API checks an upload before any job starts;
the job checks again while it extracts (counting the bytes really written, not the sizes the
archive declares). Blocking: call it from a thread."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_CHUNK = 1024 * 1024
# Entries this small may compress well (a file of zeros): the ratio is checked above it.
_RATIO_FLOOR_BYTES = 1024 * 1024
_MAX_NAME = 1024


class ArchiveRefused(Exception):
    """The archive is not one the platform extracts; the message says why (never a path of the
    platform's own disk)."""


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_bytes: int
    max_ratio: int


@dataclass(frozen=True)
class ZipSummary:
    files: int
    bytes: int


def _safe_name(name: str) -> PurePosixPath:
    if not name or len(name) > _MAX_NAME or "\x00" in name:
        raise ArchiveRefused("an entry has an empty, overlong or invalid name")
    if "\\" in name:
        raise ArchiveRefused(f"entry {name[:200]!r} uses backslashes")
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRefused(f"entry {name[:200]!r} has an absolute path")
    if any(part == ".." for part in path.parts):
        raise ArchiveRefused(f"entry {name[:200]!r} leaves the archive's folder (..)")
    return path


def _kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    # Unix archivers put st_mode in the high bits; many write permissions alone (no file type).
    if info.create_system == 3 and stat.S_IFMT(mode):
        if stat.S_ISLNK(mode):
            return "a symbolic link"
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return "a special file (device, pipe or socket)"
    return "dir" if info.is_dir() else "file"


def inspect(path: Path, limits: ZipLimits) -> ZipSummary:
    """Checks the archive's directory; raises ArchiveRefused with the first problem found."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ArchiveRefused("the file is not a ZIP archive") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise ArchiveRefused(
                f"the archive has {len(entries)} entries; at most {limits.max_entries} are allowed"
            )
        seen: set[str] = set()
        total = files = 0
        for info in entries:
            name = _safe_name(info.filename)
            kind = _kind(info)
            if kind not in ("dir", "file"):
                raise ArchiveRefused(f"entry {info.filename[:200]!r} is {kind}")
            if info.flag_bits & 0x1:
                raise ArchiveRefused(f"entry {info.filename[:200]!r} is encrypted")
            key = str(name).casefold()
            if key in seen:
                raise ArchiveRefused(f"entry {info.filename[:200]!r} appears twice")
            seen.add(key)
            if kind == "dir":
                continue
            files += 1
            total += info.file_size
            if total > limits.max_bytes:
                raise ArchiveRefused(
                    f"the archive holds more than {limits.max_bytes} bytes uncompressed"
                )
            if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise ArchiveRefused(
                    f"entry {info.filename[:200]!r} is compressed more than {limits.max_ratio}:1 "
                    "(a zip bomb?)"
                )
        return ZipSummary(files=files, bytes=total)


def extract(path: Path, dest: Path, limits: ZipLimits) -> ZipSummary:
    """Extracts into a fresh `dest` (whatever an earlier attempt left there goes first), checking
    the archive first and counting every byte written; on any refusal `dest` is removed."""
    inspect(path, limits)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True, mode=0o755)
    written = files = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = _safe_name(info.filename)
                target = dest.joinpath(*name.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True, mode=0o755)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
                _inside(dest, target.parent)
                # O_NOFOLLOW|O_EXCL: never through a link, never over something already there.
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(target, flags, 0o644)
                with os.fdopen(fd, "wb") as out, archive.open(info) as source:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            raise ArchiveRefused(
                                f"the archive holds more than {limits.max_bytes} bytes uncompressed"
                            )
                        out.write(chunk)
                files += 1
    except ArchiveRefused:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        shutil.rmtree(dest, ignore_errors=True)
        reason = "a corrupt entry" if not isinstance(error, OSError) else "an unwritable entry"
        raise ArchiveRefused(f"the archive could not be extracted ({reason})") from None
    return ZipSummary(files=files, bytes=written)


def _inside(root: Path, path: Path) -> None:
    resolved, base = path.resolve(), root.resolve()
    if resolved != base and base not in resolved.parents:
        raise ArchiveRefused("an entry leaves the archive's folder")
