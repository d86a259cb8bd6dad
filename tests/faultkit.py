"""Tools for the fault tests: a TCP proxy that can be cut, and `flask` run in a child process."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


class TcpProxy:
    """Forward 127.0.0.1:<port> to an upstream address until `cut()`, which closes the listener
    and every open connection (the database looks gone); `restore()` listens again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                _close(self._listener)  # shutdown() wakes the thread blocked in accept()
                self._listener = None
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def flask_env(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a child `flask` process on the test database, testing settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)}
    env.update(DATABASE_URL=database_url, APP_CONFIG="testing", FLASK_APP="wsgi",
               INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **settings)
    return env


class Child:
    """`python <args>` in the repository root; stdout and stderr go to files (never a full pipe)."""

    def __init__(self, args: list[str], env: dict[str, str], logs: Path, name: str):
        self.out, self.err = logs / f"{name}.out", logs / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                                            stdout=out, stderr=err)

    def output(self) -> tuple[str, str]:
        return self.out.read_text(), self.err.read_text()

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        code = self.process.wait(timeout)
        return (code, *self.output())

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no handler, no cleanup, no rollback from the client
        self.process.wait(30)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def children_of(pid: int) -> list[int]:
    """Pids of the live processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def is_gone(pid: int) -> bool:
    """Ended: no such process, or a zombie (whoever inherited it has not reaped it yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
