"""The item a determination is about: resolved through the catalogue, with the figures behind its
ECCN, and a clear error (with the closest names) when the name is unknown."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.exc import NotFoundError
from computekyc.ownership import UnknownItem, resolve_item


def test_item_carries_tpp_density_eccn_and_rule_version() -> None:
    item = resolve_item("p5.48xlarge", date(2026, 7, 1))
    data = item.to_dict()
    assert data["chip_id"] == "H100-SXM" and data["count"] == 8
    assert data["eccn"] == "3A090.a" and data["status"] == "controlled"
    assert data["tpp"] == pytest.approx(15831.2) and data["performance_density"] == 19.45
    assert data["rule_version"] == "3A090-2023"
    # Before 17 Nov 2023 the H800 was outside the 2022 text: the version says which applied.
    h800 = resolve_item("H800", date(2023, 6, 1)).to_dict()
    assert (h800["eccn"], h800["rule_version"], h800["status"]) == (
        None,
        "3A090-2022",
        "not controlled",
    )


def test_item_without_public_figures_is_review() -> None:
    data = resolve_item("HL-328", date(2026, 7, 1)).to_dict()
    assert data["tpp"] is None and data["status"] == "review"
    assert "figures-not-public" in data["flags"]


def test_unknown_item_names_the_closest() -> None:
    with pytest.raises(UnknownItem) as caught:
        resolve_item("H1OO")
    assert isinstance(caught.value, NotFoundError)
    assert "H100 SXM" in caught.value.suggestions
    assert "closest known names:" in str(caught.value)


def test_determine_prints_the_suggestions(ck_home: Path, tmp_path: Path) -> None:
    customers = tmp_path / "customers.jsonl"
    customers.write_text('{"id": "c1", "name": "Acme"}\n')
    result = CliRunner().invoke(
        app, ["determine", "--customers", str(customers), "--item", "MI355"]
    )
    assert result.exit_code == 2, result.output
    assert "error: --item: unknown hardware 'MI355'" in result.output
    assert "closest known names: MI355X" in result.output
    assert "Traceback" not in result.output
