"""An SMTP sink in its own process: the fault suite's witness of what was delivered.

    python tests/faults/sink.py --port 2525 --log sink.jsonl [--defer 0.2] [--refuse refused]

Every accepted message is one JSON line `{"mid", "rcpt", "t"}` in the log (appended, so a
restarted sink continues the same record); every refusal is a line with `"code"`.
`--defer` answers 421 or 451 to that share of Message-IDs the first time each is seen
(chosen by hash, so the share is exact and stable); `--refuse` answers 550 at RCPT to
addresses starting with that prefix. Run as a script: it imports nothing of the service.
"""

import argparse
import asyncio
import hashlib
import json
import re
import signal
import time
from pathlib import Path
from typing import IO, Any

from aiosmtpd.smtp import SMTP

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, log: IO[str], defer: float, refuse: str | None) -> None:
        self._log = log
        self._defer = defer
        self._refuse = refuse
        self._deferred: set[str] = set()

    def _write(self, **entry: Any) -> None:
        self._log.write(json.dumps(entry | {"t": time.time()}) + "\n")
        self._log.flush()  # the test reads the file while we run, and we may be killed

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._refuse and address.startswith(self._refuse):
            self._write(code=550, rcpt=[address])
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        found = MESSAGE_ID.search(head)
        mid = found.group(1).decode() if found else ""
        if self._should_defer(mid):
            code = 421 if int(hashlib.sha1(mid.encode()).hexdigest(), 16) % 2 else 451
            self._write(code=code, mid=mid, rcpt=envelope.rcpt_tos)
            return f"{code} 4.3.0 Try again later"
        self._write(mid=mid, rcpt=envelope.rcpt_tos)
        return "250 Message accepted"

    def _should_defer(self, mid: str) -> bool:
        if not self._defer or mid in self._deferred:
            return False
        bucket = int(hashlib.sha256(mid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if bucket >= self._defer:
            return False
        self._deferred.add(mid)
        return True


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
    args = parser.parse_args()
    with args.log.open("a", encoding="utf-8") as log:
        asyncio.run(serve(args.port, Sink(log, args.defer, args.refuse)))


if __name__ == "__main__":
    main()
