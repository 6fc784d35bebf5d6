"""Internals of :mod:`gisplan.finance`: the commitments table and one community's money.

Amounts are whole fen (0.01 元) throughout; a community's need is split by item into four
purses — ``utility`` (what the utility companies bear of their networks), ``residents`` (谁受益、
谁出资), ``social`` (items run by an investor) and ``public`` (the rest) — and every source
takes from the purses it may pay, item by item, so that no fen is paid twice and a channel
restricted to some items (central money, department funds, the provident fund) never pays for
another.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gisplan._text import is_blank, is_number
from gisplan.errors import LayerError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    import pandas as pd

__all__: list[str] = []

#: The purses of a community's need, in the order a row lists them.
PURSES: tuple[str, ...] = ("utility", "residents", "social", "public")
_EPS = 1e-6
_LIST_SPLIT = re.compile(r"[、,，;；\s]+")
_MAX_LISTED = 10


def fen(value: float) -> int:
    """Whole fen of a non-negative amount in 元, rounded down (tolerant of float noise)."""
    return math.floor(value * 100 + _EPS)


def wan(amount_fen: int) -> float:
    """万元 with two decimals of an amount in fen."""
    return round(amount_fen / 1e6, 2)


def listed(problems: Sequence[str]) -> str:
    """Return the first problems, one per line, and how many more."""
    more = len(problems) - _MAX_LISTED
    shown = [*problems[:_MAX_LISTED], *([f"... and {more} more"] if more > 0 else [])]
    return "\n  ".join(shown)


def item_list(value: object) -> tuple[int, ...]:
    """Read a list of catalogue items: tuple/list of numbers or text such as ``"1、3"``."""
    if is_blank(value):
        return ()
    if isinstance(value, str):
        parts = [p for p in _LIST_SPLIT.split(value.strip()) if p]
        return tuple(int(float(p)) for p in parts)
    if is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if number != int(number):
            raise ValueError(value)
        return (int(number),)
    return tuple(int(v) for v in value)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- commitments


@dataclass(frozen=True, slots=True)
class Commitment:
    """One row of the commitments table, checked (amount in fen)."""

    commitment_id: str
    source: str
    payer_name: str
    amount_fen: int
    year: int
    reference: str
    community_id: str | None
    project_id: str | None
    items: tuple[int, ...]


def _cell(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return None if is_blank(value) else str(value).strip()


def read_commitments(  # noqa: C901, PLR0912 - one check per column, listed together
    table: pd.DataFrame,
    *,
    sources: Collection[str],
    communities: Collection[str],
    projects: Collection[str],
    years: tuple[int, int] | None,
) -> list[Commitment]:
    """Check the commitments table against the run; return its rows.

    Every problem is collected and raised once as a :class:`LayerError` naming the
    commitment, the column and the fix: an unknown source, a community or project that is
    not in the run, an amount that is not a number >= 0, a year outside ``years`` (the plan
    period, first and last year), a commitment for both a community and a project.
    """
    problems: list[str] = []
    out: list[Commitment] = []
    missing = [
        c
        for c in ("commitment_id", "source", "payer_name", "amount_wan_yuan", "year", "reference")
        if c not in table.columns
    ]
    if missing:
        raise LayerError(
            f"commitments: column(s) {', '.join(missing)} missing; every commitment names its "
            "source, payer, amount (万元), year and reference (文号/协议编号)"
        )
    seen: set[str] = set()
    for pos in range(len(table)):
        row: dict[str, Any] = {str(k): v for k, v in table.iloc[pos].to_dict().items()}
        cid = _cell(row, "commitment_id") or f"row {pos + 1}"
        where = f"commitments · {cid}"
        if cid in seen:
            problems.append(f"{where}: commitment_id repeats; give each commitment its own id")
        seen.add(cid)
        source = _cell(row, "source") or ""
        if source not in sources:
            problems.append(
                f"{where}: source {source!r} is not a funding source; use {', '.join(sources)}"
            )
        community, project = _cell(row, "community_id"), _cell(row, "project_id")
        if community is not None and community not in communities:
            problems.append(
                f"{where}: community {community} is not in the communities layer (or has no "
                "scheme); correct community_id or leave it blank for county-wide money"
            )
        if project is not None and project not in projects:
            problems.append(f"{where}: project {project} is not in the projects layer")
        if community is not None and project is not None:
            problems.append(f"{where}: names both a community and a project; keep one")
        amount: Any = row.get("amount_wan_yuan")
        ok_amount = is_number(amount) and math.isfinite(float(amount)) and float(amount) >= 0
        if not ok_amount:
            problems.append(f"{where}: amount_wan_yuan {amount!r} is not an amount >= 0 (万元)")
        year: Any = row.get("year")
        ok_year = is_number(year) and float(year) == int(float(year))
        if not ok_year:
            problems.append(f"{where}: year {year!r} is not a year")
        elif years is not None and not years[0] <= int(float(year)) <= years[1]:
            problems.append(
                f"{where}: year {int(float(year))} is outside the plan period "
                f"{years[0]}–{years[1]}; money of other years does not fund this plan"
            )
        reference = _cell(row, "reference")
        if reference is None:
            problems.append(
                f"{where}: no reference; a commitment names its document or agreement "
                "(文号、协议编号或会议纪要)"
            )
        payer = _cell(row, "payer_name")
        if payer is None:
            problems.append(f"{where}: no payer_name; name who commits the money")
        try:
            items = item_list(row.get("items"))
        except (TypeError, ValueError):
            problems.append(f"{where}: items {row.get('items')!r}; write numbers such as 1、2")
            items = ()
        if ok_amount and ok_year:
            out.append(
                Commitment(
                    commitment_id=cid,
                    source=source,
                    payer_name=payer or "",
                    amount_fen=fen(float(amount) * 1e4),
                    year=int(float(year)),
                    reference=reference or "",
                    community_id=community,
                    project_id=project,
                    items=items,
                )
            )
    if problems:
        raise LayerError("commitments: bad rows:\n  " + listed(problems))
    return out


# --------------------------------------------------------------------------- purses


@dataclass(slots=True)
class Purse:
    """What one community still needs, by purse and item (fen)."""

    left: dict[str, dict[int, int]] = field(default_factory=lambda: {p: {} for p in PURSES})

    def add(self, purse: str, item: int, amount: int) -> None:
        """Add ``amount`` fen of ``item`` to ``purse``."""
        self.left[purse][item] = self.left[purse].get(item, 0) + amount

    def move(self, source: str, target: str, item: int, amount: int) -> int:
        """Move up to ``amount`` fen of ``item`` between purses; return what moved."""
        amount = min(amount, self.left[source].get(item, 0))
        self.left[source][item] -= amount
        self.add(target, item, amount)
        return amount

    def total(self, purses: Iterable[str] = PURSES, items: Collection[int] | None = None) -> int:
        """Fen still needed in ``purses`` (only ``items`` when given)."""
        return sum(
            amount
            for p in purses
            for item, amount in self.left[p].items()
            if items is None or item in items
        )

    def take(
        self, purses: Sequence[str], amount: int, items: Collection[int] | None = None
    ) -> dict[int, int]:
        """Take up to ``amount`` fen from ``purses`` in order, items in ascending order.

        Returns what was taken per item (empty when nothing).
        """
        taken: dict[int, int] = {}
        for purse in purses:
            for item in sorted(self.left[purse]):
                if amount <= 0:
                    return taken
                if items is not None and item not in items:
                    continue
                take = min(amount, self.left[purse][item])
                if take:
                    self.left[purse][item] -= take
                    taken[item] = taken.get(item, 0) + take
                    amount -= take
        return taken


def parts(
    items: pd.DataFrame,
    *,
    utility_share: float,
    utility_item_shares: Mapping[int, float],
    reward_share: float,
    network_owned: bool | None,
    resident_shares: Mapping[int, float],
) -> Purse:
    """Split a community's scheme items into the four purses (fen).

    ``utility`` items: ``utility_share`` (``utility_item_shares`` for the items it names) of
    the cost is the utility companies', the rest public; where the networks are not the
    utilities' (``network_owned`` False) the government pays ``reward_share`` of their part
    as 以奖代补. ``residents`` and
    ``social_capital`` items are theirs. ``resident_shares`` moves that share of an item's
    public part to the residents (谁受益、谁出资).
    """
    purse = Purse()
    for item, cost, payer in zip(
        items["item"].astype(int), items["cost_yuan"].astype(float), items["payer"], strict=True
    ):
        amount = fen(float(cost))
        if payer == "utility":
            share = float(utility_item_shares.get(int(item), utility_share))
            theirs = math.floor(amount * share + _EPS)
            if network_owned is False and reward_share > 0:
                theirs -= math.floor(theirs * reward_share + _EPS)
            purse.add("utility", int(item), theirs)
            purse.add("public", int(item), amount - theirs)
        elif payer == "residents":
            purse.add("residents", int(item), amount)
        elif payer == "social_capital":
            purse.add("social", int(item), amount)
        else:
            purse.add("public", int(item), amount)
    for item, share in resident_shares.items():
        public = purse.left["public"].get(int(item), 0)
        if public:
            purse.move("public", "residents", int(item), math.floor(public * share + _EPS))
    return purse
