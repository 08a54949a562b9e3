"""Real processes for the fault suite: the service's roles, the SMTP sink, and a TCP link
to RabbitMQ that a test can cut.

Every process started here is stopped by the fixture that started it, by its own pid.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
SINK = Path(__file__).with_name("sink.py")


def rss_kib(pid: int) -> int:
    """VmRSS of a running process, in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Fleet:
    """The processes of one scenario, each with its log file in `workdir`."""

    workdir: Path
    env: Mapping[str, str]
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: int = 0

    def service(self, role: str, **env: str) -> subprocess.Popen[bytes]:
        """`python -m notifier <role>` with the scenario's environment (plus `env`)."""
        self.started += 1
        log = self.workdir / f"{role}-{self.started}.log"
        full = {**os.environ, **self.env, **env, "PYTHONPATH": str(ROOT)}
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "notifier", role],
                cwd=self.workdir,
                env=full,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    def sink(self, port: int, log: Path, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, str(SINK), "--port", str(port), "--log", str(log), *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready" once it listens
        process.stdout.close()
        if line.strip() != b"ready":
            process.wait(timeout=10)
            raise RuntimeError(f"the SMTP sink did not start: {line!r}")
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no cleanup, no goodbye, as when a node dies."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.running.remove(process)

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)

    def logs(self) -> Iterator[tuple[str, str]]:
        for path in sorted(self.workdir.glob("*.log")):
            yield path.name, path.read_text(errors="replace")

    def tracebacks(self) -> int:
        return sum(text.count("Traceback") for _, text in self.logs())


class Link:
    """A TCP proxy to RabbitMQ, in the test's event loop. `cut()` drops every connection
    through it and refuses new ones until `restore()`: to the service that is RabbitMQ
    gone, while the shared broker other engineers' tests use keeps running."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.port = port
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))
        self._writers -= {writer, up_writer}


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


def now() -> float:
    return time.time()
