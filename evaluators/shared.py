"""Analyses several evaluators read from the same item, computed once and kept while a batch is graded.

The refusal rules are the costliest of the rule evaluators and three of them ask for the same answer:
`refusal` and `over_refusal` on every response, `harmful_compliance` on replies that share a harm topic
with their request. Each is a pure function of its texts, so a result remembered by a digest of its inputs
is the very result a fresh call returns: sharing it changes no label.

The memo is bounded and first-in first-out: it holds one scoring chunk's items, which every evaluator
grades in turn (`deploysim.evaluation.scoring` grades in chunks of `SHARED_ITEMS` or fewer). Keys are
digests, never the texts, which may hold personal data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from evaluators.refusal import RefusalSignals

#: Items whose shared analyses are kept: more than a scoring chunk, so none is evicted before every
#: evaluator has graded it.
SHARED_ITEMS = 8192

T = TypeVar("T")


def _digest(*texts: str | None) -> bytes:
    hasher = hashlib.blake2b(digest_size=16)
    for text in texts:
        if text is None:
            hasher.update(b"\x01")
            continue
        data = text.encode("utf-8", "surrogatepass")
        # The length keeps ("ab", "c") and ("a", "bc") apart.
        hasher.update(b"\x00" + len(data).to_bytes(8, "little") + data)
    return hasher.digest()


class _Memo(Generic[T]):
    def __init__(self, compute: Callable[..., T], size: int = SHARED_ITEMS) -> None:
        self._compute = compute
        self._size = size
        self._values: dict[bytes, T] = {}

    def __call__(self, *texts: str | None) -> T:
        key = _digest(*texts)
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = self._compute(*texts)
            if len(self._values) > self._size:  # oldest first: dicts keep insertion order
                del self._values[next(iter(self._values))]
        return value

    def clear(self) -> None:
        self._values.clear()


def _refusal_signals(response: str, prompt: str | None) -> RefusalSignals:
    from evaluators.refusal import refusal_signals  # imported here: `refusal` itself grades through this

    return refusal_signals(response, prompt)


_REFUSAL: _Memo[RefusalSignals] = _Memo(_refusal_signals)


def refusal(response: str, prompt: str | None = None) -> RefusalSignals:
    """`evaluators.refusal.refusal_signals`, computed once per (response, prompt) while they are kept."""
    return _REFUSAL(response, prompt)


def refusal_kind(response: str, prompt: str | None = None) -> str:
    """`evaluators.refusal.classify_refusal`, shared: 'full', 'partial' or 'none'."""
    return refusal(response, prompt).kind


def clear() -> None:
    """Forget every shared analysis (a benchmark's cold start; memory is bounded without it)."""
    _REFUSAL.clear()
