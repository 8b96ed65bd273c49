"""Offline IP → country over the real IPFire database in ../shared/data/ip."""

from __future__ import annotations

from pathlib import Path

import pytest

from computekyc.linking.geoip import GEOIP_ENV, GeoIP, GeoIPNotFound, locate
from computekyc.settings import Settings


def test_lookups_v4_v6(geoip: GeoIP) -> None:
    assert geoip.country("8.8.8.8") == "US"
    assert geoip.country("1.0.1.1") == "CN"
    assert geoip.country("2001:da8::1") == "CN"  # CERNET
    assert geoip.country("10.0.0.1") is None  # private: not in the database
    assert geoip.country("not an ip") is None


def test_source_states_database_and_date(geoip: GeoIP) -> None:
    described = geoip.source.describe()
    assert described["generated"] == "2026-06-25"
    assert "IPFire" in described["database"]


def test_locate_order(geoip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GEOIP_ENV, str(geoip_dir))
    assert locate(Settings.from_env().geoip_dir)[0] == geoip_dir / "ipfire_geoip_v4"
    # Debian's tor-geoipdb names are accepted in a configured folder too.
    (tmp_path / "geoip").write_text("# Generated: Thu, 25 Jun 2026 04:33:59 GMT\n", "utf-8")
    assert locate(tmp_path) == (tmp_path / "geoip", tmp_path / "geoip6")
    with pytest.raises(GeoIPNotFound):
        locate(tmp_path / "missing")


def test_linking_reads_the_database_the_settings_name(
    geoip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The variable is read once, into the settings: nothing below them reads the environment.
    from computekyc.linking.generate import write_population
    from computekyc.services.linking import link_file

    accounts = tmp_path / "accounts.jsonl"
    write_population(120, accounts, seed=3, geoip_dir=geoip_dir)
    monkeypatch.setenv(GEOIP_ENV, str(tmp_path / "not-a-database"))
    result = link_file(Settings(home=tmp_path / "home", geoip_dir=geoip_dir), accounts)
    assert result.geoip is not None
    assert str(geoip_dir / "ipfire_geoip_v4") in result.geoip["files"]
    with pytest.raises(GeoIPNotFound, match="missing"):
        link_file(Settings(home=tmp_path / "home", geoip_dir=tmp_path / "missing"), accounts)
