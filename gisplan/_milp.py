"""Shared use of scipy's HiGHS (plan, siting, bundles): a quiet call and the status in words.

HiGHS writes a few lines with C ``printf`` (e.g. ``HighsMipSolverData::
transformNewIntegerFeasibleSolution tmpSolver.run();``) whatever its ``output_flag``/``disp``
option says; they go straight to the process's standard output, past Python's ``sys.stdout``.
:func:`quiet_milp` runs :func:`scipy.optimize.milp` with file descriptor 1 pointed at a
temporary file and logs whatever HiGHS wrote there at DEBUG, so ``gisplan run`` prints only
its own lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from scipy.optimize import milp

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["SOLVER_STATUS", "quiet_milp", "solver_status"]

logger = logging.getLogger("gisplan")

#: ``scipy.optimize.milp`` status codes in the words our tables use.
SOLVER_STATUS: dict[int, str] = {
    0: "optimal",
    1: "limit reached (not proven optimal)",
    2: "infeasible",
    3: "unbounded",
    4: "solver error",
}


def solver_status(res: Any) -> str:  # noqa: ANN401 - scipy's OptimizeResult
    """Return the status of a ``milp`` result in words (``"optimal"``, ``"limit reached …"``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> solver_status(SimpleNamespace(status=1))
    'limit reached (not proven optimal)'
    """
    return SOLVER_STATUS.get(int(res.status), "solver error")


@contextlib.contextmanager
def _stdout_captured() -> Iterator[None]:
    """Point file descriptor 1 at a temporary file while the block runs; log what it got.

    Whatever any thread writes to fd 1 meanwhile is captured too (and logged at DEBUG);
    where fd 1 cannot be redirected (no standard output), the block runs as it is.
    """
    # Python's buffered lines go out first, not into the capture (none without a sys.stdout)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace").strip()
            if text:
                logger.debug("HiGHS wrote to standard output: %s", text)


def quiet_milp(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - scipy's milp signature
    """Call :func:`scipy.optimize.milp` with HiGHS's own printing kept off standard output.

    Takes and returns exactly what :func:`scipy.optimize.milp` does.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import Bounds
    >>> res = quiet_milp(np.array([-1.0]), integrality=np.array([1]), bounds=Bounds(0, 2.5))
    >>> float(res.x[0])
    2.0
    """
    with _stdout_captured():
        return milp(*args, **kwargs)
