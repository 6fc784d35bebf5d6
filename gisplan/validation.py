"""Validation reports: every problem in a scenario and its layers, collected at once.

Validators never stop at the first problem. They append :class:`Issue` records to a
:class:`ValidationReport`; the caller decides whether to raise
(:meth:`ValidationReport.raise_if_fatal`) or to show the list (``gisplan validate``).

Steps that share data meet the same oddity more than once (the same far facility is snapped
for distances, catchments and siting): inside :func:`warnings_once` (a run), each distinct
gisplan warning is logged the first time only.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pandas as pd

from gisplan.errors import ValidationError
from gisplan.vocabulary import labels

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = ["Issue", "Severity", "ValidationReport", "warnings_once"]

Severity = Literal["error", "warning"]

#: Chinese labels used when a report is shown to planners.
SEVERITY_ZH: Mapping[str, str] = labels("severity")


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    """One problem found in a layer or a scenario.

    Parameters
    ----------
    layer
        Layer kind or file the problem is in (``"communities"``, ``"scenario"`` ...).
    problem
        What is wrong, in one sentence.
    fix
        How the user fixes it, in one sentence.
    severity
        ``"error"`` (fatal: the run cannot go on) or ``"warning"`` (reported, not fatal).
    row
        Row identifier (the id column's value, else ``row N`` counting from 1), if any.
    column
        Column name or scenario key path, if any.
    """

    layer: str
    problem: str
    fix: str
    severity: Severity = "error"
    row: str | None = None
    column: str | None = None

    def format(self) -> str:
        """Return the issue as one line: ``[error] layer · row · column: problem → fix``."""
        where = " · ".join(p for p in (self.layer, self.row, self.column) if p)
        return f"[{self.severity}] {where}: {self.problem} → {self.fix}"


@dataclass(kw_only=True, slots=True)
class ValidationReport:
    """All issues found while checking one or more layers or a scenario.

    Examples
    --------
    >>> report = ValidationReport()
    >>> report.add("communities", "built_year 2099 is in the future", "correct the year",
    ...            row="C001", column="built_year")
    >>> report.ok, len(report.errors)
    (False, 1)
    """

    issues: list[Issue] = field(default_factory=list)

    def add(
        self,
        layer: str,
        problem: str,
        fix: str,
        *,
        severity: Severity = "error",
        row: object = None,
        column: str | None = None,
    ) -> None:
        """Record one issue (``row`` is converted to text)."""
        self.issues.append(
            Issue(
                layer=layer,
                problem=problem,
                fix=fix,
                severity=severity,
                row=None if row is None else str(row),
                column=column,
            )
        )

    def extend(self, other: ValidationReport | Iterable[Issue]) -> None:
        """Append the issues of another report (or any iterable of issues)."""
        self.issues.extend(other.issues if isinstance(other, ValidationReport) else other)

    def __iter__(self) -> Iterator[Issue]:
        """Iterate over the issues in the order they were found."""
        return iter(self.issues)

    def __len__(self) -> int:
        """Return the number of issues."""
        return len(self.issues)

    @property
    def errors(self) -> list[Issue]:
        """Fatal issues."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Non-fatal issues."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """``True`` when there is no fatal issue (warnings allowed)."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """Return the issues as a table with columns layer, row, column, severity, problem, fix."""
        cols = ["layer", "row", "column", "severity", "problem", "fix"]
        rows = [[getattr(i, c) for c in cols] for i in self.issues]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
        return frame

    def format(self, *, fatal_only: bool = False) -> str:
        """Return a readable multi-line summary, one issue per line."""
        shown = self.errors if fatal_only else self.issues
        head = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join([head, *(f"  {i.format()}" for i in shown)])

    def __str__(self) -> str:
        """Return :meth:`format`."""
        return self.format()

    def raise_if_fatal(self) -> None:
        """Raise :class:`~gisplan.errors.ValidationError` listing every fatal issue, if any."""
        if not self.ok:
            raise ValidationError(self)


class _Once(logging.Filter):
    """Let each distinct WARNING-or-worse record (logger, level, text) through once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@contextlib.contextmanager
def warnings_once(prefix: str = "gisplan") -> Iterator[None]:
    """Log each distinct warning of the ``prefix`` loggers once while the block runs.

    A filter on the ``prefix`` logger and each of its existing children (a logger filter sees
    only its own records), removed again at the end: the next run warns afresh.

    Examples
    --------
    >>> import logging
    >>> log = logging.getLogger("gisplan.example")
    >>> with warnings_once():
    ...     for _ in range(3):
    ...         log.warning("facility F1 is far from the network")
    """
    once = _Once()
    manager = logging.Logger.manager
    loggers = [logging.getLogger(prefix)] + [
        logger
        for name, logger in sorted(manager.loggerDict.items())
        if name.startswith(f"{prefix}.") and isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        logger.addFilter(once)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(once)
