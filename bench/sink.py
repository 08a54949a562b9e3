"""An SMTP sink in a process of its own, so a baseline never shares the GIL with it.

It accepts every message and counts messages and the most connections open at once (the
sender's parallelism, seen from the server's side). Given a receipts file, it also writes
one line per message: the moment it was accepted (time.monotonic, the same clock in every
process of this machine) and its Message-ID, for the latency benchmark. It offers
PIPELINING, as Postfix does (notifier.channels.pipelining); the raw aiosmtplib baseline
never pipelines."""

import multiprocessing
import re
import socket
import tempfile
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


def _serve(
    port: int,
    accepted: "Synchronized[int]",
    open_now: "Synchronized[int]",
    most_open: "Synchronized[int]",
    ready: Any,
    sample: str,
    receipts: str | None,
) -> None:
    import asyncio

    from aiosmtpd.smtp import SMTP

    # Line-buffered: the benchmark reads it while this process still runs.
    log = open(receipts, "w", buffering=1) if receipts else None  # noqa: SIM115

    class Counter:
        # aiosmtpd reads pipelined commands in order, but does not say it can.
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            *lines, last = responses
            return [*lines, "250-PIPELINING", last]

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            accepted.value += 1  # one event loop thread: no race within this process
            if log is not None:
                found = MESSAGE_ID.search(envelope.original_content)
                log.write(f"{time.monotonic()} {found[1].decode() if found else '-'}\n")
            if accepted.value == 1:  # a real message, for a baseline to send as it is
                with open(sample, "wb") as file:  # noqa: ASYNC230 - once, a few kB
                    file.write(envelope.original_content)
            return "250 Message accepted"

    class Counted(SMTP):
        def connection_made(self, transport: Any) -> None:
            open_now.value += 1
            most_open.value = max(most_open.value, open_now.value)
            super().connection_made(transport)

        def connection_lost(self, error: Exception | None) -> None:
            open_now.value -= 1
            super().connection_lost(error)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: Counted(Counter()), HOST, port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Sink:
    """Start with `with Sink() as sink:`; `sink.port`, `sink.accepted`, `sink.most_open`,
    and `sink.sample`, a file holding the first message it received. `Sink(receipts=True)`
    also logs every message's receipt: read with `sink.receipts()`."""

    def __init__(self, *, receipts: bool = False) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._accepted = context.Value("q", 0, lock=False)
        self._open = context.Value("q", 0, lock=False)
        self._most_open = context.Value("q", 0, lock=False)
        self._ready = context.Event()
        self.sample = Path(tempfile.mkdtemp(prefix="bench-sink-")) / "first.eml"
        self._receipts = self.sample.with_name("receipts.log") if receipts else None
        args = (
            self.port,
            self._accepted,
            self._open,
            self._most_open,
            self._ready,
            str(self.sample),
            str(self._receipts) if self._receipts else None,
        )
        self._process = context.Process(target=_serve, args=args, daemon=True)

    @property
    def accepted(self) -> int:
        return int(self._accepted.value)

    @property
    def most_open(self) -> int:
        return int(self._most_open.value)

    def receipts(self) -> list[tuple[float, str]]:
        """(monotonic time, Message-ID) of every message so far, in the order received."""
        if self._receipts is None:
            raise RuntimeError("a sink started without receipts=True logs none")
        found = []
        for line in self._receipts.read_text().splitlines():
            moment, _, message_id = line.partition(" ")
            if message_id:  # a line still being written has none yet
                found.append((float(moment), message_id))
        return found

    def reset(self) -> None:
        self._accepted.value = 0
        self._most_open.value = self._open.value

    async def until(self, count: int) -> float:
        """Wait until `count` messages arrived (callers bound it with asyncio.timeout);
        the moment it was seen."""
        import asyncio

        while self.accepted < count:  # noqa: ASYNC110 - counted in another process
            await asyncio.sleep(0.002)
        return time.perf_counter()

    def __enter__(self) -> "Sink":
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port
