from collections import Counter

import pytest

from domain.organisations import (
    OrganisationKind,
    OrganisationRef,
    find_organisation,
    organisation_error,
    organisation_name,
    organisations,
)


def test_there_are_290_kommuner_and_21_regioner() -> None:
    kinds = Counter(kind for kind, _ in organisations())
    assert kinds == {OrganisationKind.KOMMUN: 290, OrganisationKind.REGION: 21}


@pytest.mark.parametrize(
    ("kind", "code", "name"),
    [
        ("kommun", "0180", "Stockholm"),
        ("kommun", "1480", "Göteborg"),
        ("kommun", "0114", "Upplands Väsby"),
        ("region", "01", "Region Stockholm"),
        ("region", "25", "Region Norrbotten"),
    ],
)
def test_known_organisations_are_found(kind: str, code: str, name: str) -> None:
    org = find_organisation(kind, code)
    assert org is not None and org.name == name


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("kommun", "0999"),
        ("kommun", "180"),
        ("region", "02"),
        ("region", "11"),
        ("region", "0180"),
        ("län", "01"),
    ],
)
def test_unknown_organisations_are_explained(kind: str, code: str) -> None:
    assert find_organisation(kind, code) is None
    assert organisation_error(kind, code)


@pytest.mark.parametrize(
    ("kind", "code", "full_name"),
    [
        ("kommun", "0180", "Stockholms kommun"),
        ("kommun", "1480", "Göteborgs kommun"),
        ("kommun", "0184", "Solna kommun"),
        ("kommun", "1490", "Borås kommun"),
        ("kommun", "2080", "Falu kommun"),
        ("kommun", "0980", "Region Gotland"),
        ("region", "12", "Region Skåne"),
    ],
)
def test_organisations_are_named_as_they_name_themselves(
    kind: str, code: str, full_name: str
) -> None:
    org = find_organisation(kind, code)
    assert org is not None and org.full_name == full_name


def test_every_kommun_lies_in_a_region() -> None:
    regions = {code for kind, code in organisations() if kind == OrganisationKind.REGION}
    assert {
        code[:2] for kind, code in organisations() if kind == OrganisationKind.KOMMUN
    } == regions


@pytest.mark.parametrize(
    ("ref", "with_code", "expected"),
    [
        ({"kind": "kommun", "code": "0180"}, False, "Stockholms kommun"),
        ({"kind": "kommun", "code": "0180"}, True, "Stockholms kommun (0180)"),
        (OrganisationRef(kind=OrganisationKind.REGION, code="01"), False, "Region Stockholm"),
        (OrganisationRef(kind=OrganisationKind.REGION, code="01"), True, "Region Stockholm (01)"),
        ({"kind": "kommun", "code": "9999"}, False, None),
        ({"kind": "kommun", "code": "9999"}, True, "kommun 9999"),
        ({"kind": "landsting", "code": "01"}, False, None),
        (None, False, None),
        (None, True, None),
    ],
)
def test_organisation_name_reads_models_and_stored_json_alike(
    ref: OrganisationRef | dict[str, str] | None, with_code: bool, expected: str | None
) -> None:
    assert organisation_name(ref, with_code=with_code) == expected
