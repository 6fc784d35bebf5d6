"""Output folders that appear whole or not at all (runs and consultation sites)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gisplan.errors import OutputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["atomic_dir", "check_replaceable", "file_sha256"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield an empty sibling folder of ``target``; it becomes ``target`` when the block ends.

    The folder is made beside ``target`` (same file system, so the rename is atomic) with the
    permissions of a normal new folder (``mkdtemp`` would make it private: outputs are meant
    to be shared). If the block raises, the folder is deleted and ``target`` is untouched.
    Callers decide beforehand whether an existing ``target`` may be replaced.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(target) as tmp:
    ...     _ = (tmp / "a.txt").write_text("x")
    >>> sorted(p.name for p in target.iterdir())
    ['a.txt']
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_replaceable(
    target: Path,
    *,
    overwrite: bool,
    ours: Callable[[Path], bool],
    kind: str,
    flag: str,
    mark: str,
) -> None:
    """Refuse a ``target`` folder that exists, unless ``overwrite`` and gisplan wrote it.

    ``kind`` names the folder in messages (``output``, ``site``), ``flag`` the option that
    chooses another (``--out``), ``mark`` what shows gisplan wrote it; ``ours(target)`` says
    whether it did.

    Raises
    ------
    OutputError
        ``target`` is a file, exists without ``overwrite``, or was not written by gisplan.
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


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
