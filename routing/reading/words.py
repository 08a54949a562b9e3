"""The words table (`words.toml`) read once into compiled terms: plain, frozen objects.

A term that does not compile, an unknown field or a value the inquiry would refuse fails
at load, so a bad edit stops the service at start instead of misreading mail later.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from domain.compensation import COMPENSATION_TYPES
from routing.decision.schemas import Destination, IssueType, LoginMethod, LoginStep, TargetGroup

DECISIVE, STRONG, WEAK = 10, 3, 1
# People on a keyboard without å, ä and ö write "behorighet", "ersattning": terms and text
# are both matched folded, letter for letter, so a match still points into the mail.
_FOLD = str.maketrans("åäöéüÅÄÖÉÜ", "aaoeuAAOEU")


def fold(text: str) -> str:
    return text.translate(_FOLD)


# The fields a mail's words can set, each with the values the inquiry accepts
# (None: any text, such as a User-Agent).
FIELDS: dict[str, frozenset[str] | None] = {
    "issue_type": frozenset(IssueType),
    "login_step": frozenset(LoginStep),
    "login_method": frozenset(LoginMethod),
    "target_group": frozenset(TargetGroup),
    "compensation_type": frozenset(COMPENSATION_TYPES),
    "browser": None,
}


class WordsError(ValueError):
    """The words table is not valid; the message names the place."""


@dataclass(frozen=True, slots=True)
class Term:
    source: str  # as written in the table
    pattern: re.Pattern[str]
    weight: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One reading of a field: `field = value` when its terms score highest."""

    id: str
    field: str
    value: str
    terms: tuple[Term, ...]
    also: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class WordTable:
    version: str
    entries: dict[str, tuple[Entry, ...]]  # field → its entries, in the table's order
    threshold: dict[str, int]
    diarienummer: tuple[re.Pattern[str], ...]
    escalate: Entry
    screenshot: Entry
    # A mailbox's destination → the fields its mail is about where the words are silent.
    mailbox: dict[Destination, dict[str, str]]


def compile_term(source: str, weight: int) -> Term:
    """`re:` a pattern; else words on word boundaries, where `*` at a word's end (or
    start) lets it go on (or begin) as part of a longer word: Swedish compounds
    ("*schablon*" finds "anvisningsschablonen")."""
    if source.startswith("re:"):
        body = source[3:]
    else:
        body = r"\s+".join(_word(word) for word in source.split())
    lead = "" if source.startswith("*") else r"(?<!\w)"
    return Term(source, re.compile(fold(lead + body), re.IGNORECASE), weight)


def _word(word: str) -> str:
    core = re.escape(word.strip("*"))
    head = r"\w*" if word.startswith("*") else ""
    return head + core + (r"\w*" if word.endswith("*") else r"(?!\w)")


def _terms(raw: dict[str, Any]) -> tuple[Term, ...]:
    weights = {"decisive": DECISIVE, "strong": STRONG, "weak": WEAK}
    return tuple(
        compile_term(s, weight) for key, weight in weights.items() for s in raw.get(key, [])
    )


def _entry(field: str, raw: dict[str, Any]) -> Entry:
    allowed = FIELDS[field]
    if allowed is not None and raw["value"] not in allowed:
        raise ValueError(f"{raw['id']}: {field} cannot be {raw['value']!r}")
    also = tuple(sorted(_values(raw["id"], raw.get("also", {})).items()))
    return Entry(raw["id"], field, str(raw["value"]), _terms(raw), also)


def _values(place: str, raw: dict[str, Any]) -> dict[str, str]:
    """Field → value pairs, each a value the inquiry accepts."""
    for key, value in raw.items():
        allowed = FIELDS.get(key, frozenset())
        if key not in FIELDS or (allowed is not None and value not in allowed):
            raise ValueError(f"{place}: {key} cannot be {value!r}")
    return {key: str(value) for key, value in raw.items()}


def parse_words(content: bytes) -> WordTable:
    data = tomllib.loads(content.decode("utf-8"))
    try:
        return WordTable(
            version=hashlib.sha256(content).hexdigest()[:16],
            entries={
                field: tuple(_entry(field, raw) for raw in data.get(field, [])) for field in FIELDS
            },
            threshold=dict(data.get("threshold", {})),
            diarienummer=tuple(re.compile(fold(p)) for p in data["diarienummer"]["patterns"]),
            escalate=Entry(data["escalate"]["id"], "escalate", "", _terms(data["escalate"])),
            screenshot=Entry(
                data["screenshot"]["id"], "screenshot", "", _terms(data["screenshot"])
            ),
            mailbox={
                Destination(key): _values(f"mailbox.{key}", raw)
                for key, raw in data.get("mailbox", {}).items()
            },
        )
    except (KeyError, ValueError, TypeError, re.error) as exc:
        raise WordsError(f"words.toml: {exc}") from exc


@cache
def default_words() -> WordTable:
    """The table shipped with the package."""
    return parse_words(files("routing.reading").joinpath("words.toml").read_bytes())


def load_words(path: Path) -> WordTable:
    return parse_words(path.read_bytes())
