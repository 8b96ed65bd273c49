"""The catalogue data file is validated: bad input is refused naming file, chip and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from computekyc.chips import CatalogueError, catalogue, get_chip
from computekyc.chips.catalogue import CATALOGUE_FILE, build_catalogue, read_data_file


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return read_data_file(CATALOGUE_FILE)


def _broken(document: dict[str, Any], chip: str, **changes: Any) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    for key, value in changes.items():
        if value is None:
            broken["chips"][chip].pop(key, None)
        else:
            broken["chips"][chip][key] = value
    return broken


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dense_tops": {"fp7": 1.0}}, r"chip H20: dense_tops\.fp7 is not a known precision"),
        ({"dense_tops": {"fp8": "fast"}}, r"chip H20: dense_tops\.fp8: expected a number"),
        ({"datacenter": "yes"}, r"chip H20: field 'datacenter' must be true or false"),
        ({"sources": {"dense_tops": "x"}}, r"chip H20: figure 'die_area_mm2' has no entry"),
        ({"tpp": 2368}, r"chip H20: unknown field\(s\) \['tpp'\]"),
        ({"vendor": None}, r"chip H20: missing field 'vendor'"),
        ({"memory_bandwidth_gbps": -1}, r"chip H20: memory_bandwidth_gbps: must not be negative"),
    ],
)
def test_bad_entries_are_refused(
    document: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(CatalogueError, match=rf"accelerators\.yaml: {message}"):
        build_catalogue(_broken(document, "H20", **changes))


def test_an_eccn_cannot_be_typed_in(document: dict[str, Any]) -> None:
    """The answer is never data: an 'eccn' column is an unknown field."""
    with pytest.raises(CatalogueError, match=r"unknown field\(s\) \['eccn'\]"):
        build_catalogue(_broken(document, "H100-SXM", eccn="3A090.a"))


def test_lookup_is_case_and_separator_insensitive() -> None:
    assert get_chip("h100_sxm").id == get_chip("NVIDIA H100 SXM").id == "H100-SXM"
    assert get_chip("amd instinct mi300x").id == "MI300X"
    assert len(catalogue()) >= 30
    # Usable as dict keys / in sets (usage groups by chip).
    assert len({get_chip("H100"), get_chip("H100-SXM"), get_chip("H200")}) == 2


def test_unpublished_is_validated(document: dict[str, Any]) -> None:
    """Only a figure named as not public may be missing; and it still needs a source line."""
    with pytest.raises(CatalogueError, match=r"chip H20: field 'dense_tops' must be a non-empty"):
        build_catalogue(_broken(document, "H20", dense_tops={}))
    with pytest.raises(CatalogueError, match=r"chip H20: field 'unpublished' must be a list"):
        build_catalogue(_broken(document, "H20", unpublished=["tpp"]))
    broken = _broken(document, "H20", dense_tops={}, unpublished=["dense_tops"])
    del broken["chips"]["H20"]["sources"]["dense_tops"]
    with pytest.raises(CatalogueError, match=r"chip H20: figure 'dense_tops' has no entry"):
        build_catalogue(broken)
