"""Output folders and files that appear whole or not at all (runs, maps, consultation sites).

Three guards, used by every writer of gisplan:

- :class:`FolderLock` — one writer per output folder at a time: a lock file
  ``.<name>.lock`` beside the folder, locked with ``flock`` (the system frees it when the
  process dies, even by ``kill -9``). A second run to the same folder gets an
  :class:`~gisplan.errors.OutputError` at once, not after its whole computation. While it is
  held, SIGTERM raises :class:`SystemExit`, so the temporary folder is cleaned up.
- :func:`atomic_dir` — the folder is built in a hidden sibling ``.<name>.tmp-*`` and renamed
  into place; whether an existing folder may be replaced is checked again just before the
  rename. Temporary folders a killed run left behind are deleted by the next writer.
- :func:`atomic_write` — one file written beside its target and renamed over it (maps).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gisplan.errors import OutputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType, TracebackType

__all__ = [
    "FolderLock",
    "atomic_dir",
    "atomic_write",
    "check_replaceable",
    "file_sha256",
    "output_error",
]

logger = logging.getLogger(__name__)

#: At most this many unexpected files are named in a message.
_LISTED = 10


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def output_error(err: OSError, *, what: str, flag: str = "--out") -> OutputError:
    """Return an :class:`OutputError` saying what failed, on which file, and how to fix it.

    ``what`` says what could not be done (``"write the output folder /x/out"``).

    Examples
    --------
    >>> import errno
    >>> err = OSError(errno.ENOSPC, "No space left on device", "/x/results.gpkg")
    >>> print(output_error(err, what="write /x"))
    cannot write /x: No space left on device (/x/results.gpkg); free some disk space ...
    """
    where = f" ({err.filename})" if err.filename else ""
    if err.errno in {errno.ENOSPC, errno.EDQUOT}:
        fix = (
            "free some disk space on that drive (or choose a folder on another drive with "
            f"{flag}) and run again; the previous output is unchanged"
        )
    elif err.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        fix = f"make the folder writable, or choose another folder with {flag}"
    elif err.errno in {errno.ENOTDIR, errno.EEXIST}:
        fix = f"a file stands where a folder is needed: choose another folder with {flag}"
    else:
        fix = f"check the folder and the drive, or choose another folder with {flag}"
    reason = err.strerror or str(err)
    return OutputError(f"cannot {what}: {reason}{where}; {fix}")


# --------------------------------------------------------------------------- the lock


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on an open file; ``False`` if another holds it."""
    if sys.platform == "win32":  # pragma: no cover - tested on POSIX only
        import msvcrt  # noqa: PLC0415

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class FolderLock:
    """The exclusive right to write one output folder (``.<name>.lock`` beside it).

    Missing parent folders are made when the lock is taken and removed again on release if
    they are still empty (a failed run leaves nothing behind). While the lock is held in the
    main thread, SIGTERM raises :class:`SystemExit` so every ``finally`` and clean-up runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with FolderLock(target):
    ...     FolderLock(target).acquire()
    Traceback (most recent call last):
    ...
    gisplan.errors.OutputError: another gisplan process is writing to ...
    """

    def __init__(self, target: Path, *, flag: str = "--out") -> None:
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self._flag = flag
        self._fd: int | None = None
        self._made: list[Path] = []
        self._previous: Any = None

    def _make_parents(self) -> None:
        missing = []
        for parent in [self.target.parent, *self.target.parent.parents]:
            if parent.exists():
                break
            missing.append(parent)
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise output_error(
                err, what=f"make the folder {self.target.parent}", flag=self._flag
            ) from err
        self._made = missing  # deepest first

    def acquire(self) -> FolderLock:
        """Take the lock; remove temporary folders of the target that crashed runs left.

        Raises
        ------
        OutputError
            Another process holds the lock, or the lock file cannot be made.
        """
        self._make_parents()
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as err:
                self._remove_parents()
                raise output_error(
                    err, what=f"lock the output folder {self.target}", flag=self._flag
                ) from err
            if not _try_lock(fd):
                os.close(fd)
                self._remove_parents()
                raise OutputError(
                    f"another gisplan process is writing to {self.target} (it holds "
                    f"{self.path}); wait for it to finish, or choose another folder with "
                    f"{self._flag}"
                )
            try:  # the holder before us may have deleted the file: lock the one on disk
                same = os.path.samestat(os.fstat(fd), self.path.stat())
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        self._catch_sigterm()
        clean_stale(self.target)
        return self

    def release(self) -> None:
        """Give the lock up: delete the lock file, and the parents the lock made if empty."""
        if self._fd is None:
            return
        self._restore_sigterm()
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None
            self._remove_parents()

    def _remove_parents(self) -> None:
        for parent in self._made:
            if not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()
        self._made = []

    def _catch_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def terminate(signum: int, frame: FrameType | None) -> None:
            del frame
            raise SystemExit(128 + signum)

        self._previous = signal.signal(signal.SIGTERM, terminate)

    def _restore_sigterm(self) -> None:
        if self._previous is None or threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self._previous)
        self._previous = None

    def __enter__(self) -> FolderLock:  # noqa: PYI034 - Self needs Python 3.11
        """Take the lock (see :meth:`acquire`)."""
        return self.acquire() if self._fd is None else self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Give the lock up."""
        self.release()


def clean_stale(target: Path) -> list[Path]:
    """Delete ``.<name>.tmp-*`` and ``.<name>.old-*`` siblings of ``target``.

    Call it only while holding ``target``'s :class:`FolderLock`: every writer of ``target``
    holds that lock, so such folders are left over from a run that was killed.

    Returns
    -------
    list of Path
        The folders deleted.
    """
    if not target.parent.is_dir():
        return []
    stale = [
        p
        for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*")
        for p in sorted(target.parent.glob(pattern))
    ]
    for path in stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        logger.info("removed %s, left by an interrupted gisplan run", path)
    return stale


# --------------------------------------------------------------------------- folders


def _replace_dir(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an existing ``target`` is moved aside first, then deleted."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(target)


@contextmanager
def atomic_dir(
    target: Path,
    *,
    lock: FolderLock | None = None,
    check: Callable[[], None] | None = None,
    flag: str = "--out",
) -> Iterator[Path]:
    """Yield an empty sibling folder of ``target``; it becomes ``target`` when the block ends.

    The folder is made beside ``target`` (same file system, so the rename is atomic) with the
    permissions of a normal new folder (``mkdtemp`` would make it private: outputs are meant
    to be shared). If the block raises, or the process gets SIGTERM, the folder is deleted
    and ``target`` is untouched.

    Parameters
    ----------
    target
        The folder to write.
    lock
        ``target``'s lock, taken by the caller when the run began; without one, the lock is
        taken here and given up when the block ends.
    check
        Called just before the rename (under the lock): raise to keep ``target`` as it is,
        e.g. when another folder appeared there meanwhile.
    flag
        The option that chooses another folder, for messages.

    Raises
    ------
    OutputError
        Another process writes ``target``, or writing fails (disk full, no permission, a
        file where a folder is needed, ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(target) as tmp:
    ...     _ = (tmp / "a.txt").write_text("x")
    >>> sorted(p.name for p in target.parent.iterdir())
    ['out']
    """
    own = lock is None
    held = FolderLock(target, flag=flag).acquire() if lock is None else lock
    try:
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        except OSError as err:
            raise output_error(err, what=f"write the folder {target}", flag=flag) from err
        try:
            tmp.chmod(0o777 & ~_umask())
            yield tmp
            if check is not None:
                check()
            _replace_dir(tmp, target)
        except OutputError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise output_error(err, what=f"write the folder {target}", flag=flag) from err
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        if own:
            held.release()


def atomic_write(path: Path, data: bytes, *, flag: str = "--out") -> None:
    """Write ``data`` to ``path`` through a hidden sibling file renamed over it.

    A reader sees the old file or the new one, never a part; the sibling is deleted if
    writing fails (then :class:`OutputError` says why).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    except OSError as err:
        raise output_error(err, what=f"write {path}", flag=flag) from err
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        tmp.chmod(0o666 & ~_umask())
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise output_error(err, what=f"write {path}", flag=flag) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- replacing


def check_replaceable(
    target: Path,
    *,
    overwrite: bool,
    ours: Callable[[Path], bool],
    kind: str,
    flag: str,
    mark: str,
    unexpected: Callable[[Path], list[str]] | None = None,
    force: bool = False,
) -> None:
    """Refuse a ``target`` folder that exists, unless ``overwrite`` and gisplan wrote it.

    ``kind`` names the folder in messages (``output``, ``site``), ``flag`` the option that
    chooses another (``--out``), ``mark`` what shows gisplan wrote it; ``ours(target)`` says
    whether it did. ``unexpected(target)`` lists the files in it that gisplan did not write
    or that changed since; with any, the folder is replaced only with ``force``.

    Raises
    ------
    OutputError
        ``target`` is a file, exists without ``overwrite``, was not written by gisplan, or
        holds unexpected files (without ``force``).
    """
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{kind} path {target} exists and is not a folder; choose another {flag}")
    if not overwrite:
        raise OutputError(
            f"{kind} folder {target} already exists; pass --overwrite (overwrite=True) to "
            f"replace it, or choose another folder with {flag}"
        )
    if not ours(target):
        raise OutputError(
            f"{kind} folder {target} is not a gisplan {kind} (it has no {mark}); gisplan "
            f"replaces only its own {kind} folders: choose a new folder with {flag}"
        )
    extra = unexpected(target) if unexpected is not None and not force else []
    if extra:
        shown = ", ".join(extra[:_LISTED]) + (
            f" and {len(extra) - _LISTED} more" if len(extra) > _LISTED else ""
        )
        raise OutputError(
            f"{kind} folder {target} holds {len(extra)} file(s) gisplan did not write or that "
            f"changed since: {shown}; --overwrite would delete them: move them out of the "
            f"folder, or pass --force (force=True) to replace it anyway"
        )


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
