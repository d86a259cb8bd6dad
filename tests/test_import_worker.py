"""The forked parsing process never outlives the import that forked it.

The importer is a real process here, killed with SIGKILL (no handler, no `finally`): its child
must end too, whether it is busy (only the kernel's parent-death signal reaches it) or
blocked sending on a pipe that nobody will read again.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys

import pytest

from inspection.imports import worker
from tests.faultkit import ROOT, is_gone, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses prctl and /proc")

IMPORTER = """
import os, sys, time
from inspection.imports import worker

if sys.argv[1] == "without-death-signal":  # leaves only the broken pipe to end the child
    worker.die_with_parent = lambda parent: None

def produce():
    yield os.getpid()
    if sys.argv[2] == "busy":
        time.sleep(3600)
    while True:
        yield b"x" * 65536  # the pipe fills: this process reads nothing more

with worker.forked(produce) as items:
    print(next(items), flush=True)
    time.sleep(3600)
"""


@pytest.mark.parametrize("mode, child", [("with-death-signal", "busy"), ("with-death-signal", "sending"),
                                         ("without-death-signal", "sending")])
def test_the_parsing_process_ends_when_the_importer_is_killed(mode, child):
    importer = subprocess.Popen([sys.executable, "-c", IMPORTER, mode, child], cwd=ROOT, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE)
    parser = None
    try:
        parser = int(importer.stdout.readline())
        assert not is_gone(parser)
        importer.send_signal(signal.SIGKILL)
        importer.wait(30)
        wait_until(lambda: is_gone(parser), 10, "the parsing process to end")
    finally:
        importer.kill()
        importer.wait(30)
        importer.stdout.close()
        if parser is not None and not is_gone(parser):
            os.kill(parser, signal.SIGKILL)  # the test failed: leave nothing behind


def _exit_code_of_die_with_parent(parent: int) -> int:
    process = multiprocessing.get_context("fork").Process(target=worker.die_with_parent, args=(parent,))
    process.start()
    process.join(30)
    return process.exitcode


def test_a_child_whose_parent_died_before_it_asked_for_the_signal_ends_at_once():
    assert _exit_code_of_die_with_parent(os.getpid()) == 0  # the parent is there: carry on
    assert _exit_code_of_die_with_parent(os.getpid() + 1) == 1  # it was handed to another: end


def test_the_child_makes_its_items_ahead_of_the_reader(tmp_path):
    """The last item (an import's aggregate) is made while the reader still works on earlier ones."""
    done = tmp_path / "done"
    items_made = [bytes([i]) * 300_000 for i in range(8)]  # 2.4 MB: more than the pipe holds

    def produce():
        yield from items_made
        done.touch()
        yield b"last"

    with worker.forked(produce) as items:
        first = next(items)
        wait_until(done.exists, 20, "the child to make every item while the reader holds the first")
        rest = list(items)
    assert [first, *rest] == [*items_made, b"last"]


def test_an_item_that_cannot_be_sent_ends_the_child_and_fails_the_reader_with_the_reason():
    def produce():
        yield 1
        yield lambda: None  # does not pickle
        while True:
            yield 2  # the producing thread must end with the sending one

    with pytest.raises(RuntimeError, match="pickle"):
        with worker.forked(produce) as items:
            assert next(items) == 1
            list(items)


def test_an_error_in_the_child_is_raised_in_the_reader_after_the_items_before_it():
    def produce():
        yield 1
        yield 2
        raise ValueError("row 3 is unreadable")

    received = []
    with pytest.raises(ValueError, match="row 3 is unreadable"):
        with worker.forked(produce) as items:
            for item in items:
                received.append(item)
    assert received == [1, 2]
