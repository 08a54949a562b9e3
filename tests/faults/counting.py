"""Counting at the SMTP sink: what arrived against what the permission model allows."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Received:
    accepted: list[dict[str, Any]]  # {"mid", "rcpt", "t"}
    refused: list[dict[str, Any]]  # {"code", "rcpt", "t"[, "mid"]}


def read_sink(log: Path) -> Received:
    accepted, refused = [], []
    if log.exists():
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a killed sink
            (refused if "code" in entry else accepted).append(entry)
    return Received(accepted, refused)


@dataclass
class Tally:
    """One scenario's line in the summary table."""

    scenario: str
    expected: int = 0
    delivered: int = 0
    missing: int = 0
    extra: int = 0
    duplicated: int = 0  # deliveries beyond the first of one Message-ID
    resent_new_id: int = 0  # an (event, user) delivered under two Message-IDs: never
    dead_lettered: int = 0
    recovery_s: float | None = None  # from the (last) fault to the last delivery
    total_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    passed: bool = False


def tally(
    scenario: str,
    received: Received,
    expected: set[tuple[str, str]],
    users_by_email: dict[str, str],
    *,
    fault_at: float | None = None,
) -> Tally:
    """Compare deliveries, as (event id of the Message-ID, user of the address), with
    `expected`."""
    per_mid = Counter(entry["mid"] for entry in received.accepted)
    pairs: dict[tuple[str, str], set[str]] = {}
    for entry in received.accepted:
        found = UUID.search(entry["mid"])
        event_id = found.group(0) if found else entry["mid"]
        for address in entry["rcpt"]:
            user = users_by_email.get(address, address)
            pairs.setdefault((event_id, user), set()).add(entry["mid"])
    last = max((entry["t"] for entry in received.accepted), default=None)
    return Tally(
        scenario,
        expected=len(expected),
        delivered=len(expected & pairs.keys()),
        missing=len(expected - pairs.keys()),
        extra=len(pairs.keys() - expected),
        duplicated=sum(count - 1 for count in per_mid.values()),
        resent_new_id=sum(1 for mids in pairs.values() if len(mids) > 1),
        recovery_s=recovery(fault_at, last),
    )


def recovery(fault_at: float | None, last: float | None) -> float | None:
    """Seconds from the fault (or its end) to the last delivery; 0.0 when everything had
    arrived before it ended: nothing was left to recover, and no time is negative."""
    if not fault_at or not last:
        return None
    return max(0.0, round(last - fault_at, 1))


def verdict(record: list[Tally], found: Tally, **checks: bool) -> None:
    """Record the tally (the table shows failures too), then fail naming what broke."""
    found.passed = all(checks.values())
    found.notes += [f"check failed: {name}" for name, ok in checks.items() if not ok]
    record.append(found)
    failed = [name for name, ok in checks.items() if not ok]
    assert not failed, f"{found.scenario}: {failed}; {found}"
