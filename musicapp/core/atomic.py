"""File reading and atomic writing shared by MIDI files and project files.

Owns the bounded read (``read_limited``: only regular files, opened without blocking, and
never more than the limit read whatever stat says: a FIFO, /dev/zero or a /proc file cannot
hang or exhaust memory) and the one safe way to put a file on disk, used by every writer of
the app (projects, MIDI, WAV, checkpoints, training logs and plots, corpus shards, model
cards): write a temporary file with a unique name in the target's folder, flush and fsync it,
optionally keep a ``.bak`` copy of the file being replaced, then rename over the target. Any
``OSError`` (disk full, permission, missing folder) removes the temporary file, leaves the old
file untouched and becomes the caller's one-line ``MusicappError`` subclass (or stays an
``OSError`` where no class is given).

``atomic_write_bytes`` / ``atomic_write_text`` take the data; ``atomic_path`` is for writers
that insist on writing a file themselves (``np.savez``, ``savefig``): it yields the temporary
path (ending in the target's suffix, so format sniffing still works) and commits it when the
block ends without an error.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from musicapp.core.errors import MusicappError

T = TypeVar("T")


def read_limited(path: str | os.PathLike, limit: int, error_cls: type[MusicappError]) -> bytes:
    """The bytes of ``path`` if it is a regular file holding at most ``limit`` bytes; else
    ``error_cls`` with one line.

    The file is opened non-blocking (a FIFO without a writer would block ``open``) and
    refused unless it is a regular file; then at most ``limit + 1`` bytes are read, so a file
    whose size stat gets wrong (/proc, a growing file) is bounded too.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise error_cls(f"cannot read {p}: {_reason(err)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise error_cls(f"cannot read {p}: {what}")
        if info.st_size > limit:
            raise error_cls(_too_large(p, info.st_size, limit))
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise error_cls(_too_large(p, got, limit, more=True))
        return b"".join(chunks)
    except OSError as err:
        raise error_cls(f"cannot read {p}: {_reason(err)}") from None
    finally:
        os.close(fd)


def _too_large(p: Path, size: int, limit: int, more: bool = False) -> str:
    return (f"{p.name}: file is too large ({'over ' if more else ''}{size / 1e6:.1f} MB, "
            f"limit {limit / 1e6:.1f} MB)")


def parse_file(path: str | os.PathLike, limit: int, error_cls: type[MusicappError],
               parse: Callable[[bytes], T]) -> T:
    """``parse(read_limited(path))``, with ``error_cls`` messages prefixed by the file name."""
    p = Path(path)
    data = read_limited(p, limit, error_cls)
    try:
        return parse(data)
    except error_cls as err:
        raise error_cls(f"{p.name}: {err}") from None


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous version of ``path`` is kept (``song.musicapp.bak``)."""
    p = Path(path)
    return p.with_name(p.name + ".bak")


def atomic_write_bytes(
    path: str | os.PathLike,
    data: bytes,
    error_cls: type[MusicappError],
    *,
    keep_backup: bool = False,
) -> None:
    """Write ``data`` to ``path`` atomically; on failure raise ``error_cls`` (one line).

    With ``keep_backup`` the file being replaced (if any) is first copied to
    ``backup_path(path)`` (itself written atomically).
    """
    target = Path(path)
    if target.is_dir():
        raise error_cls(f"cannot write {target}: it is a folder")
    try:
        tmp = _write_temp(target, data)
    except OSError as err:
        raise error_cls(f"cannot write {target}: {_reason(err)}") from None
    try:
        if keep_backup and target.exists():
            bak = backup_path(target)
            bak_tmp = _write_temp(bak, b"")
            try:
                shutil.copyfile(target, bak_tmp)
                os.replace(bak_tmp, bak)
            except OSError:
                _remove_quietly(bak_tmp)
                raise
        os.replace(tmp, target)
    except OSError as err:
        _remove_quietly(tmp)
        raise error_cls(f"cannot write {target}: {_reason(err)}") from None


def atomic_write_text(path: str | os.PathLike, text: str,
                      error_cls: type[MusicappError] | None = None, *,
                      keep_backup: bool = False) -> None:
    """``text`` as UTF-8 to ``path`` atomically (see ``atomic_write_bytes``); without
    ``error_cls`` a failure stays an ``OSError``."""
    data = text.encode("utf-8")
    if error_cls is None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return
    atomic_write_bytes(path, data, error_cls, keep_backup=keep_backup)


@contextmanager
def atomic_path(path: str | os.PathLike,
                error_cls: type[MusicappError] | None = None) -> Iterator[Path]:
    """Yield a unique temporary path beside ``path`` for a writer to fill; when the block ends
    without an error the file is fsynced and renamed over ``path``, else it is removed.

    The temporary name ends in ``path``'s suffix (``.npz``, ``.png``), so writers that add or
    sniff a suffix keep working. OSErrors become ``error_cls`` when one is given.
    """
    target = Path(path)
    tmp = _temp_name(target)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as err:
        _remove_quietly(tmp)
        if error_cls is not None and isinstance(err, OSError):
            raise error_cls(f"cannot write {target}: {_reason(err)}") from None
        raise


def _temp_name(target: Path) -> Path:
    """``.NAME.RANDOM.tmpSUFFIX`` beside ``target``: unique per writer, hidden, same suffix."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp{target.suffix}")


def _write_temp(target: Path, data: bytes) -> Path:
    """A fsynced temporary file holding ``data`` beside ``target``; removed on failure."""
    tmp = _temp_name(target)
    # 0o666 so the umask decides the final permissions, as for any newly created file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        _remove_quietly(tmp)
        raise
    return tmp


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _reason(err: OSError) -> str:
    """The OS's short reason ("No space left on device"), never a traceback."""
    return err.strerror or str(err) or type(err).__name__
