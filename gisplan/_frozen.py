"""A read-only, hashable mapping for options dataclasses (frozen options stay hashable)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenMap"]

V = TypeVar("V")


class FrozenMap(Mapping[str, V]):
    """Read-only copy of a mapping with text keys; hashable when its values are.

    Examples
    --------
    >>> m = FrozenMap({"kindergarten": 300.0})
    >>> m["kindergarten"], hash(m) == hash(FrozenMap({"kindergarten": 300.0}))
    (300.0, True)
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[Any, V]) -> None:
        self._items = {str(k): v for k, v in items.items()}

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)
