"""The organisation a mail comes from, by the sender's domain: the kommuner's and
regioners' usual domains made from their names, and the exceptions in `domains.toml`."""

import re
import tomllib
from functools import cache
from importlib.resources import files

from domain.organisations import OrganisationKind, OrganisationRef, organisations

_LETTERS = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


def spellings(name: str) -> set[str]:
    """'Upplands Väsby' → {'upplandsvasby', 'upplands-vasby'}."""
    plain = name.lower().translate(_LETTERS)
    return {re.sub(r"[\s-]+", "", plain), re.sub(r"[\s-]+", "-", plain)}


def usual_domains(kind: OrganisationKind, name: str) -> set[str]:
    if kind == OrganisationKind.KOMMUN:
        return {d for s in spellings(name) for d in (f"{s}.se", f"{s}kommun.se")}
    bare = re.sub(r"^region\s+|\s+län$", "", name, flags=re.IGNORECASE)
    return {f"region{s}.se" for s in spellings(bare)}


@cache
def domain_map() -> dict[str, tuple[OrganisationKind, str]]:
    """Every known domain → (kind, code); the override list wins over the made ones."""
    found: dict[str, tuple[OrganisationKind, str]] = {}
    for (kind, code), organisation in organisations().items():
        for domain in usual_domains(kind, organisation.name):
            found.setdefault(domain, (kind, code))
    raw = tomllib.loads(files("routing.reading").joinpath("domains.toml").read_text("utf-8"))
    for kind in OrganisationKind:
        for domain, code in raw.get(kind.value, {}).items():
            if (kind, code) not in organisations():
                raise ValueError(f"domains.toml: no {kind} {code}")
            found[domain] = (kind, code)
    return found


def organisation_of(address: str) -> OrganisationRef | None:
    """The kommun or region of `address`'s domain or a parent domain; None if unknown."""
    labels = address.rpartition("@")[2].strip().lower().rstrip(".").split(".")
    known = domain_map()
    for start in range(len(labels) - 1):
        if hit := known.get(".".join(labels[start:])):
            return OrganisationRef(kind=hit[0].value, code=hit[1])
    return None
