"""A support mail's subject and text read into the fields the support form asks for, each
with the entry of the words table that set it and the words that made it. A pure function
of the text and the table.

What the person wrote comes first: their own text up to the sign-off, then (for the
fields still open) the quoted or forwarded mail below it, which is often the question
itself ("Vidarebefordrat meddelande").
"""

import re
import unicodedata
from dataclasses import dataclass, field

from routing.reading.words import Entry, WordTable, fold

MAX_WORDS = 5  # evidence kept per field: enough to explain, short enough to show
# Where a quoted or forwarded mail starts, in the clients Swedish offices use.
_HISTORY = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|ursprungligt meddelande|vidarebefordrat meddelande"
    r"|forwarded message)[^\n]*"
    r"|_{10,}|(?:från|from):\s.+|(?:den\s|on\s|\d).*\b(?:skrev|wrote)\b.*:\s*)$",
    re.IGNORECASE,
)
# The sign-off: what follows is a signature (titles, units, phone numbers), not the question.
_SIGN_OFF = re.compile(
    r"^\s*(?:--\s*|med vänlig(?:a)? hälsning(?:ar)?|vänlig(?:a)? hälsning(?:ar)?|mvh"
    r"|hälsningar|hälsar|(?:best|kind)? ?regards|tack på förhand|skickat från .*"
    r"|sent from .*)[,!.]?\s*$",
    re.IGNORECASE,
)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|sv|vb|fw|fwd|vs|aw)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """Why a field has its value: the table's entry and the words in the mail."""

    value: str
    rule: str
    words: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "rule": self.rule, "words": list(self.words)}


@dataclass(frozen=True)
class Reading:
    fields: dict[str, Found] = field(default_factory=dict)
    escalate: Found | None = None  # the person already tried the route's first line
    mentions_screenshot: bool = False

    def value(self, name: str) -> str | None:
        found = self.fields.get(name)
        return found.value if found else None


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\u2011", "-")


def segments(body: str) -> list[str]:
    """The person's own text, then each quoted or forwarded mail; signatures left out."""
    parts: list[list[str]] = [[]]
    signed = False
    for raw in normalise(body).replace("\r\n", "\n").split("\n"):
        line = raw.lstrip("> ").rstrip() if raw.lstrip().startswith(">") else raw.rstrip()
        if _HISTORY.match(line) and parts[-1]:
            parts.append([])
            signed = False
            continue
        if _SIGN_OFF.match(line):
            signed = True
        if not signed:
            parts[-1].append(line)
    return ["\n".join(part) for part in parts if any(s.strip() for s in part)]


def clean_subject(subject: str) -> str:
    return _SUBJECT_PREFIX.sub("", normalise(subject)).strip()


def score(entry: Entry, subject: str, text: str) -> tuple[int, tuple[str, ...]]:
    """The entry's score in this text (a subject hit counts twice) and the words found."""
    total, words = 0, list[str]()
    folded = fold(subject), fold(text)
    for term in entry.terms:
        in_subject, in_text = term.pattern.search(folded[0]), term.pattern.search(folded[1])
        hit, original = (in_subject, subject) if in_subject else (in_text, text)
        if hit is None:
            continue
        total += term.weight * (2 if in_subject else 1)
        word = " ".join(original[hit.start() : hit.end()].split())
        if not any(word.lower() in seen.lower() for seen in words):  # "Explorer" of "IE"
            words.append(word)
    return total, tuple(words[:MAX_WORDS])


def best(entries: tuple[Entry, ...], subject: str, text: str, threshold: int) -> Found | None:
    """The highest-scoring entry; on a tie the earlier one (the page's first reading)."""
    top: tuple[int, Entry, tuple[str, ...]] | None = None
    for entry in entries:
        points, words = score(entry, subject, text)
        if points >= threshold and (top is None or points > top[0]):
            top = (points, entry, words)
    return Found(top[1].value, top[1].id, top[2]) if top else None


def read_fields(table: WordTable, subject: str, text: str) -> dict[str, Found]:
    found: dict[str, Found] = {}
    for name, entries in table.entries.items():
        if hit := best(entries, subject, text, table.threshold.get(name, 1)):
            found[name] = hit
    for name, entries in table.entries.items():  # what a reading implies (`also`)
        hit = found.get(name)
        entry = next((e for e in entries if hit and e.id == hit.rule), None)
        if hit is None or entry is None:
            continue
        for key, value in entry.also:
            found.setdefault(key, Found(value, entry.id, hit.words))
    if number := diarienummer(table, f"{subject}\n{text}"):
        found["diarienummer"] = number
    return found


def diarienummer(table: WordTable, text: str) -> Found | None:
    for pattern in table.diarienummer:
        if hit := pattern.search(fold(text)):
            group = 1 if pattern.groups else 0
            value = text[hit.start(group) : hit.end(group)]
            return Found(value, "diarienummer-pattern", (text[hit.start() : hit.end()].strip(),))
    return None


def read(table: WordTable, subject: str, body: str) -> Reading:
    """The fields the words give: the subject and own text first, then the quoted mail."""
    title, parts = clean_subject(subject), segments(body) or [""]
    fields = read_fields(table, title, parts[0])
    for quoted in parts[1:]:
        for name, hit in read_fields(table, "", quoted).items():
            fields.setdefault(name, hit)
    fields = relevant(fields)
    everything = "\n".join(parts)
    escalate = best((table.escalate,), title, everything, 1)
    pictured = best((table.screenshot,), title, everything, 1)
    return Reading(fields, escalate, pictured is not None)


# A field only means something for some issues: "mobilen" in a question about a payment
# is no login method.
BELONGS = {
    "login_step": {"login"},
    "login_method": {"login"},
    "target_group": {"compensation"},
    "compensation_type": {"compensation"},
}


def relevant(fields: dict[str, Found]) -> dict[str, Found]:
    issue = fields["issue_type"].value if "issue_type" in fields else None
    return {
        name: hit
        for name, hit in fields.items()
        if name not in BELONGS or issue is None or issue in BELONGS[name]
    }
