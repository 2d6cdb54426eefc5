"""The one thread pool for everything after an ack: the Slack calls listeners hand to
`later()` (handlers/edge/after_ack.py), Bolt's lazy listeners (button clicks, modal
submissions, events), which bot/app/bolt.py gives it as Bolt's listener executor, and
the replies kept for repeated requests (handlers/edge/replays.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any


class AfterAckPool(ThreadPoolExecutor):
    """A thread pool that knows what it has left to do, so that `drain()` can wait
    for it: `rapport try` before it exits, and tests before they look at Slack."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="rapport-after-ack")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float) -> None:
        """Wait until nothing is left, work submitted by work included (a few rounds
        at most: a lazy listener may hand a Slack call to `later()`). No clock read
        here: tests call this with the clock frozen."""
        for _ in range(10):
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return
            if wait(pending, timeout=timeout).not_done:
                return


AFTER_ACK = AfterAckPool(max_workers=8)
