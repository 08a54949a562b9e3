"""An SMTP sink in its own process: the fault suite's witness of what was delivered.

    python tests/faults/sink.py --port 2525 --log sink.jsonl [--defer 0.2] [--refuse refused]
        [--no-pipelining] [--multiline] [--close-after 7]

Every accepted message is one JSON line `{"mid", "rcpt", "t"}` in the log (appended, so a
restarted sink continues the same record); every refusal is a line with `"code"`.
`--defer` answers 421 or 451 to that share of Message-IDs the first time each is seen
(chosen by hash, so the share is exact and stable); after a 421 the sink closes the
connection, as a relay does. `--refuse` answers 550 at RCPT to addresses starting with
that prefix. Like Postfix it offers PIPELINING, unless `--no-pipelining`. `--multiline`
answers RCPT and DATA over several lines; `--close-after N` closes each connection after
its N-th message (that message's line says `"closed": true`), so that connections the
sender keeps are found closed between a batch's messages. Run as a script: it imports
nothing of the service.
"""

import argparse
import asyncio
import hashlib
import json
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiosmtpd.smtp import SMTP

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Manners:
    """How the sink talks, beside what it accepts."""

    pipelining: bool = True
    multiline: bool = False
    close_after: int = 0


class Sink:
    def __init__(
        self, log: IO[str], defer: float, refuse: str | None, manners: Manners = Manners()
    ) -> None:
        self._log = log
        self._defer = defer
        self._refuse = refuse
        self._manners = manners
        self._deferred: set[str] = set()

    def _write(self, **entry: Any) -> None:
        self._log.write(json.dumps(entry | {"t": time.time()}) + "\n")
        self._log.flush()  # the test reads the file while we run, and we may be killed

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not self._manners.pipelining:
            return responses
        *lines, last = responses
        return [*lines, "250-PIPELINING", last]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._refuse and address.startswith(self._refuse):
            self._write(code=550, rcpt=[address])
            return self._answer("550 5.1.1 No such mailbox", f"<{address}>")
        envelope.rcpt_tos.append(address)
        return self._answer("250 OK", "recipient accepted")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        found = MESSAGE_ID.search(head)
        mid = found.group(1).decode() if found else ""
        if self._should_defer(mid):
            code = 421 if int(hashlib.sha1(mid.encode()).hexdigest(), 16) % 2 else 451
            self._write(code=code, mid=mid, rcpt=envelope.rcpt_tos)
            if code == 421:
                _close(server)
            return self._answer(f"{code} 4.3.0 Try again later")
        session.messages = getattr(session, "messages", 0) + 1
        every = self._manners.close_after
        closed = bool(every) and session.messages % every == 0
        if closed:
            _close(server)
        self._write(mid=mid, rcpt=envelope.rcpt_tos, **({"closed": True} if closed else {}))
        return self._answer("250 Message accepted", "queued")

    def _answer(self, answer: str, *more: str) -> str:
        """`answer`, or with --multiline the same code over several lines ("250-…")."""
        if not self._manners.multiline:
            return answer
        code = answer[:3]
        *first, last = [answer[4:], *(more or ("end of answer",))]
        return "\r\n".join([*(f"{code}-{line}" for line in first), f"{code} {last}"])

    def _should_defer(self, mid: str) -> bool:
        if not self._defer or mid in self._deferred:
            return False
        bucket = int(hashlib.sha256(mid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if bucket >= self._defer:
            return False
        self._deferred.add(mid)
        return True


def _close(server: Any) -> None:
    """The server's side of the connection closes once the answer being returned is
    written (aiosmtpd writes it before it yields to the loop)."""
    asyncio.get_running_loop().call_soon(server.transport.close)


async def serve(port: int, sink: Sink) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink"), "127.0.0.1", port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--defer", type=float, default=0.0)
    parser.add_argument("--refuse", default=None)
    parser.add_argument("--no-pipelining", action="store_true")
    parser.add_argument("--multiline", action="store_true")
    parser.add_argument("--close-after", type=int, default=0)
    args = parser.parse_args()
    manners = Manners(not args.no_pipelining, args.multiline, args.close_after)
    with args.log.open("a", encoding="utf-8") as log:
        asyncio.run(serve(args.port, Sink(log, args.defer, args.refuse, manners)))


if __name__ == "__main__":
    main()
