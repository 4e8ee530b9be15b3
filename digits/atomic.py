"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary file keeps ``path``'s suffix (Keras insists on ``.keras``).
    If the block raises, or the process is killed, ``path`` is untouched and
    the temporary file is removed (or, after SIGKILL, left as a dot-file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private (0600); give it the usual umask-based mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())  # the bytes are on disk before the rename
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def reserve(folder: Path, size: int) -> None:
    """Check now that ``folder`` can take ``size`` more bytes, by writing and removing them.

    Raises
    ------
    OSError
        When the folder cannot be created or written, or the disk is full:
        better found before a long job than after it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".space-check-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for start in range(0, size, 1 << 20):
                f.write(bytes(min(1 << 20, size - start)))
            f.flush()
            os.fsync(f.fileno())
    finally:
        os.unlink(name)


def storage_advice(error: BaseException) -> str | None:
    """What to do about a failed write, in words, or None when it is not a storage fault.

    Understands ``OSError`` numbers and SQLite's messages ("database or disk is
    full", "attempt to write a readonly database", "unable to open database file").
    """
    code = getattr(error, "errno", None)
    text = str(error).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space" in text:
        return "the disk is full: free some space, then try again"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text \
            or "unable to open database file" in text:
        return "the folder is not writable: make it writable, or point the app at one that is"
    return None
