"""Run a generator in a forked child process and read what it yields in this one.

The import parses and checks rows on the second core while this process writes them. A
child is forked per import and always reaped before the import returns (no pool outlives
it), so it works the same inside a gunicorn worker, a request or a `flask worker` job.

The child never outlives this process: on Linux the kernel kills it when its parent dies
(PR_SET_PDEATHSIG), and everywhere it ends when the pipe it sends on has no reader left. A
SIGKILLed importer once left its child blocked on a full pipe (it held the reading end
itself), keeping the importer's stdout open, so whoever waited on that output hung.
"""
from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import queue
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
_ITEM, _END, _ERROR = 0, 1, 2
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# The child may run this far ahead of the reader (the kernel caps it at
# /proc/sys/fs/pipe-max-size, 1 MiB by default): a chunk or two, so the reader never waits.
PIPE_BYTES = 1 << 20
# Items the child may hold made but not yet sent (an import's chunks: 2,000 rows each).
AHEAD = 64


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
    _widen(sending)
    child = context.Process(target=_run, args=(produce, receiving, sending, os.getpid()),
                            daemon=True, name="import-parser")
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


def _widen(sending) -> None:
    try:
        fcntl.fcntl(sending.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # not Linux, or over the system's limit: the default size only costs some waiting


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this (forked) process when its parent ends; end now if it has.

    The parent may have died between the fork and the prctl call, in which case this process
    was already handed to another (init or a subreaper): then the parent's pid differs.
    Linux only; elsewhere the closed pipe ends the child once it next sends. (The kernel sends
    the signal when the forking *thread* ends: `forked` reaps the child before its thread can.)
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _run(produce: Callable[[], Iterator[T]], receiving, sending, parent: int) -> None:
    die_with_parent(parent)
    # The reading end is the parent's: held here too, the pipe would never break while this
    # process blocks on it, and a child sending to a dead parent would wait forever.
    receiving.close()
    # A gunicorn worker's handler only flags its own loop to stop: terminate() must end this.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Items are sent from a thread, so producing runs ahead of the reader by up to AHEAD
    # items: the last one (an import's whole aggregate) takes long to make, and is then
    # ready when the reader gets there instead of being started when the pipe had room.
    ahead: queue.Queue = queue.Queue(maxsize=AHEAD)
    sender = threading.Thread(target=_send, args=(ahead, sending), name="import-parser-send")
    sender.start()
    try:
        for item in produce():
            ahead.put((_ITEM, item))
        ahead.put((_END, None))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        ahead.put((_ERROR, exc))
    sender.join()


def _send(ahead: queue.Queue, sending) -> None:
    try:
        while True:
            kind, item = message = ahead.get()
            try:
                sending.send(message)
            except (BrokenPipeError, ConnectionResetError):
                raise
            except Exception as exc:  # noqa: BLE001 - it does not pickle: send what went wrong
                what = item if kind == _ERROR else exc
                sending.send((_ERROR, RuntimeError(f"{type(what).__name__}: {what}")))
                raise
            if kind != _ITEM:
                return
    except BaseException:  # noqa: BLE001
        # The parent stopped reading, or was told why this process stops: end it at once,
        # the producing thread with it.
        os._exit(1)


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
