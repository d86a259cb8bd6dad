"""Run a generator in a forked child process and read what it yields in this one.

The import parses and checks rows on the second core while this process writes them. A
child is forked per import and always reaped before the import returns (no pool outlives
it), so it works the same inside a gunicorn worker, a request or a `flask worker` job.
"""
from __future__ import annotations

import multiprocessing
import signal
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
_ITEM, _END, _ERROR = 0, 1, 2


def can_fork() -> bool:
    """Fork is there (not on Windows) and this process may have children (not a daemon)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


@contextmanager
def forked(produce: Callable[[], Iterator[T]]) -> Iterator[Iterator[T]]:
    """Iterate `produce()` in a child process; an exception it raises is raised here.

    The child inherits everything it needs through fork (nothing is pickled on the way in)
    and sends back each item pickled. It must not use database connections: it only
    parses. Leaving the block early stops it.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(produce, sending), daemon=True, name="import-parser")
    child.start()
    sending.close()
    try:
        yield _received(receiving)
    finally:
        receiving.close()  # a child still sending gets a broken pipe and ends
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()
        child.close()


def _run(produce: Callable[[], Iterator[T]], sending) -> None:
    # A gunicorn worker's handler only flags its own loop to stop: terminate() must end this.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for item in produce():
            sending.send((_ITEM, item))
        sending.send((_END, None))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent stopped reading
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            sending.send((_ERROR, exc))
        except Exception:  # noqa: BLE001 - not picklable: send what it said
            sending.send((_ERROR, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _received(receiving) -> Iterator[T]:
    while True:
        try:
            kind, item = receiving.recv()
        except EOFError:
            raise RuntimeError("the import's parsing process ended unexpectedly") from None
        if kind == _ITEM:
            yield item
        elif kind == _END:
            return
        else:
            raise item
