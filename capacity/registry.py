"""A registry of factories keyed by URL scheme (queue-depth sources, publishers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from capacity.errors import CapacityError
from capacity.redact import redact_url

T = TypeVar("T")


class SchemeRegistry(Generic[T]):
    """``register("a", "b")(factory)`` then ``build("a://...")``; unknown schemes raise ``error``."""

    def __init__(self, what: str, error: type[CapacityError]) -> None:
        self.what = what
        self.error = error
        self._factories: dict[str, Callable[[str], T]] = {}

    def register(self, *schemes: str) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
        def deco(factory: Callable[[str], T]) -> Callable[[str], T]:
            for s in schemes:
                self._factories[s] = factory
            return factory

        return deco

    def schemes(self) -> set[str]:
        return set(self._factories)

    def build(self, scheme: str, url: str) -> T:
        factory = self._factories.get(scheme)
        if factory is None:
            known = ", ".join(sorted(self._factories))
            raise self.error(f"Unknown {self.what} scheme {scheme!r} in {redact_url(url)!r}; use one of: {known}.")
        return factory(url)
