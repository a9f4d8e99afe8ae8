"""Running calls at the same moment, for the tests of row locks (PostgreSQL only)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def race(*calls: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run the calls at the same moment, each in its own thread and so on its own database
    connection; return, in the order of the calls, each one's result or the exception it
    raised (the outcome under test). Fails if a thread is still running after ``timeout``
    seconds: a call hung on a lock."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung on a lock"
    return results
