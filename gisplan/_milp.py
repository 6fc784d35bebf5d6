"""Shared wording of scipy's HiGHS results (plan, siting, bundles)."""

from __future__ import annotations

from typing import Any

__all__ = ["SOLVER_STATUS", "solver_status"]

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
