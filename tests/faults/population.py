"""The fault suite's world: users across organisations and permission levels, a known set
of events, malformed messages, and the emails the permission model allows.

`expected_emails` is written from DOMAIN.md and docs/contracts.md §1, not from the service's
matching code, so that a matching bug and a delivery bug cannot cancel each other out.
"""

import json
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DYGN = "dygnsschablon-ensamkommande"
FAST = "fast-arlig-ensamkommande"
MASSFLYKT = "schablon-fordelningstal-massflykt"
PAID = "payment.disbursed"
DECIDED = "application.decided"
ANNOUNCEMENT = "service.announcement"

# Events go to these; OTHER only ever hears of announcements to every organisation.
ORGANISATIONS = [("kommun", "0180"), ("kommun", "1480"), ("kommun", "1280"), ("region", "01")]
OTHER = ("kommun", "0580")
ALL_ORGS = [*ORGANISATIONS, OTHER]


@dataclass(frozen=True)
class FaultUser:
    id: str
    email: str
    org: tuple[str, str]
    grants: dict[str, str] = field(default_factory=dict)
    subscribed: tuple[str, ...] = ()
    enabled: bool = True


def users(*, refused: Iterable[str] = ()) -> list[FaultUser]:
    """Per organisation: full and summary grants, a grant for another type only, a grant
    but subscriptions turned off, a partial grant; one user of an organisation no event
    names. Users listed in `refused` get an address the sink answers 550 to."""
    refused = set(refused)
    everything = (PAID, DECIDED, ANNOUNCEMENT)
    found = []
    for kind, code in ALL_ORGS:
        shapes: list[tuple[str, dict[str, str], tuple[str, ...], bool]] = [
            ("full", {DYGN: "full", FAST: "summary"}, everything, True),
            ("summary", {DYGN: "summary"}, (PAID, DECIDED), True),
            ("nogrant", {MASSFLYKT: "full"}, everything, True),
            ("unsubscribed", {DYGN: "full"}, (PAID,), False),
            ("partial", {FAST: "full"}, (PAID,), True),
        ]
        for shape, grants, subscribed, enabled in shapes:
            user_id = f"{shape}-{kind}-{code}"
            local = f"refused-{user_id}" if user_id in refused else user_id
            email = f"{local}@{kind}{code}.example.se"
            found.append(FaultUser(user_id, email, (kind, code), grants, subscribed, enabled))
    return found


def events(count: int, *, seed: int = 9) -> list[dict[str, Any]]:
    """`count` valid events, the same for the same seed; mostly payments and decisions of
    the four organisations, some announcements, and now and then one to everybody."""
    rng = random.Random(seed)
    shapes = [
        (PAID, DYGN),
        (PAID, FAST),
        (DECIDED, DYGN),
        (DECIDED, MASSFLYKT),
        (ANNOUNCEMENT, FAST),
    ]
    found = []
    for n in range(count):
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        kind, code = ORGANISATIONS[n % len(ORGANISATIONS)]
        event_type, ctype = shapes[(n // len(ORGANISATIONS)) % len(shapes)]
        everybody = n % 250 == 249
        found.append(_event(event_id, event_type, ctype, {"kind": kind, "code": code}, everybody))
    return found


def _event(
    event_id: str, event_type: str, ctype: str, org: dict[str, str], everybody: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema_version": 1,
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": "2026-11-26T10:15:00+01:00",
        "organisation": org,
    }
    if event_type == ANNOUNCEMENT:
        body["announcement"] = {
            "title": "Driftinformation",
            "body": "Utbetalningen flyttas till sista bankdagen.",
            "compensation_types": [] if everybody else [ctype],
        }
        if everybody:
            del body["organisation"]
        return body
    body["compensation_type"] = ctype
    body["case"] = {"diarienummer": f"1.1.3-2026-{event_id[:6]}", "case_officer": "Anna Berg"}
    body["person"] = {"name": "Testperson Fel"}
    if event_type == PAID:
        body["payment"] = {"amount_sek": "1234.50", "paid_on": "2026-11-25"}
    else:
        body["decision"] = {"outcome": "approved"}
    return body


def expected_emails(
    people: list[FaultUser], published: list[dict[str, Any]]
) -> set[tuple[str, str]]:
    """(event_id, user_id) for every email the permission model allows (DOMAIN.md)."""
    found = set()
    for event in published:
        for user in people:
            if _allowed(event, user):
                found.add((event["event_id"], user.id))
    return found


def _allowed(event: dict[str, Any], user: FaultUser) -> bool:
    if not user.enabled or event["event_type"] not in user.subscribed:
        return False
    org = event.get("organisation")
    if org is not None and (org["kind"], org["code"]) != user.org:
        return False  # a user only ever hears of their own organisation
    if event["event_type"] == ANNOUNCEMENT:
        wanted = event["announcement"].get("compensation_types") or []
        return not wanted or any(t in user.grants for t in wanted)
    # Either level, summary or full, gets the email; only its contents differ.
    return event["compensation_type"] in user.grants


def malformed(count: int, *, seed: int = 7) -> list[bytes]:
    """Messages that are no valid event, of several kinds, each to be dead-lettered."""
    rng = random.Random(seed)
    kinds = [
        lambda n: b"{not json " + str(n).encode(),
        lambda n: json.dumps({"schema_version": 2, "event_id": str(uuid.uuid4())}).encode(),
        lambda n: json.dumps({"schema_version": 1, "event_id": "nope", "event_type": PAID}),
        lambda n: json.dumps(_event(str(uuid.uuid4()), PAID, "okand-typ", _org(rng), False)),
        lambda n: json.dumps(
            _event(str(uuid.uuid4()), PAID, DYGN, {"kind": "kommun", "code": "9999"}, False)
        ),
        lambda n: b"\xff\xfe" + rng.randbytes(64),
    ]
    return [_bytes(kinds[n % len(kinds)](n)) for n in range(count)]


def _org(rng: random.Random) -> dict[str, str]:
    kind, code = rng.choice(ORGANISATIONS)
    return {"kind": kind, "code": code}


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value
