"""The organisation a mail comes from, by the sender's domain.

`domains.csv` is the data: every domain of the 290 kommuner and 21 regioner. It is made
by `python -m routing.reading.domains > routing/reading/domains.csv` from their names
(domain/data) with the usual spellings, and the exceptions in `domains.toml`; a test
holds the file equal to what that makes, so an edit goes into `domains.toml`.
"""

import csv
import io
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


def made_domains() -> dict[str, tuple[OrganisationKind, str]]:
    """Every domain the names and the override list give → (kind, code); an override
    wins over a made one (Habo and Håbo spell alike without the ring)."""
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


def as_csv(domains: dict[str, tuple[OrganisationKind, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["domain", "kind", "code", "name"])
    names = organisations()
    for domain, (kind, code) in sorted(domains.items(), key=lambda item: (item[1], item[0])):
        writer.writerow([domain, kind.value, code, names[(kind, code)].name])
    return out.getvalue()


@cache
def domain_map() -> dict[str, tuple[OrganisationKind, str]]:
    """`domains.csv`: every known domain → (kind, code)."""
    text = files("routing.reading").joinpath("domains.csv").read_text("utf-8")
    return {
        row["domain"]: (OrganisationKind(row["kind"]), row["code"])
        for row in csv.DictReader(text.splitlines())
    }


def organisation_of(address: str) -> OrganisationRef | None:
    """The kommun or region of `address`'s domain or a parent domain; None if unknown."""
    labels = address.rpartition("@")[2].strip().lower().rstrip(".").split(".")
    known = domain_map()
    for start in range(len(labels) - 1):
        if hit := known.get(".".join(labels[start:])):
            return OrganisationRef(kind=hit[0].value, code=hit[1])
    return None


if __name__ == "__main__":
    print(as_csv(made_domains()), end="")
