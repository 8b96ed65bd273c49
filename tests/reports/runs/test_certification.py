"""`computekyc report certification` on the hand-built provider after a scan and two decisions
made through the casework service (one confirmed, one false positive approved by a second
reviewer): the counts are the hand-built data's."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computekyc.alerts import AlertStore
from computekyc.cli import app
from computekyc.services import casework
from computekyc.users import local_operator
from computekyc.workflow import open_database

from .conftest import Scanned

# One worker runs a module: its scan and reports are made once (module fixtures).
pytestmark = pytest.mark.xdist_group("reports")

YEAR = datetime.now(UTC).year  # the alerts and decisions are stamped with today's date


@pytest.fixture(scope="module")
def decided(scanned: Scanned) -> dict[str, Any]:
    """Two reviewers; the headquarters alert confirmed, the training alert cleared as a false
    positive and approved by the other reviewer (four eyes)."""
    settings = scanned.settings
    operator = local_operator()
    casework.add_user(settings, operator, "rita", "reviewer")
    casework.add_user(settings, operator, "omar", "reviewer")
    tokens = {"auditor": casework.add_user(settings, operator, "alba", "auditor").token}
    tokens["analyst"] = casework.add_user(settings, operator, "ana", "analyst").token
    rita, omar = (casework.acting_user(settings, n) for n in ("rita", "omar"))
    alerts = [
        (str(a.type), a.subject.id, a.id)
        for a in AlertStore(open_database(settings)).list(status=None)
    ]
    [hq] = [i for t, s, i in alerts if (t, s) == ("headquarters_d5", "c-cn")]
    # The run crossed 10^23 and 10^25: one alert per threshold; the first is cleared.
    training = [i for t, s, i in alerts if (t, s) == ("training_threshold", "a-cn")]
    assert len(training) == 2
    casework.decide(settings, rita, hq, "confirmed", "Hangzhou headquarters, 3A090 chips rented")
    result = casework.decide(settings, rita, training[0], "false_positive", "test of the rule")
    if result.pending_approval:
        casework.approve(settings, omar, training[0], reason="agreed")
    return {"alerts": alerts, "tokens": tokens}


def _certification(provider: Path, target: Path) -> None:
    """``report certification`` through the real command line."""
    args = ["report", "certification", "--provider", str(provider), "--year", str(YEAR)]
    result = CliRunner().invoke(app, [*args, "--output", str(target)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def report(
    scanned: Scanned, decided: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    target = tmp_path_factory.mktemp("cert") / "certification.json"
    _certification(scanned.provider, target)
    loaded: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return loaded


def test_identification_counts(report: dict[str, Any]) -> None:
    ident = report["identification"]
    # Both customers have name, country, address and a registry identifier.
    assert ident["customers"] == {"total": 2, "identified": 2, "verified": 2, "unverified": []}
    # a-cn has a verified e-mail; a-us and a-x have contacts and a card token, none verified.
    accounts = ident["accounts"]
    assert (accounts["total"], accounts["identified"], accounts["verified"]) == (3, 3, 1)
    assert accounts["unverified"] == [
        {"id": "a-us", "identified": True, "missing": ["verified_contact"]},
        {"id": "a-x", "identified": True, "missing": ["verified_contact"]},
    ]
    assert accounts["without_customer"] == ["a-x"]


def test_alerts_by_type_and_outcome(report: dict[str, Any], decided: dict[str, Any]) -> None:
    by_type = report["alerts"]["by_type"]
    assert by_type["headquarters_d5"] == {"confirmed": 1}
    assert by_type["training_threshold"] == {"false_positive": 1, "open": 1}
    for kind, _subject, _id in decided["alerts"]:
        if kind not in ("headquarters_d5", "training_threshold"):
            assert set(by_type[kind]) == {"open"}, kind
    assert report["alerts"]["total"] == len(decided["alerts"])
    assert sum(sum(c.values()) for c in report["alerts"]["by_month"].values()) == len(
        decided["alerts"]
    )


def test_decisions_lists_audit(report: dict[str, Any]) -> None:
    decisions = report["decisions"]
    assert decisions["decisions"] == 2
    assert 0 <= decisions["median_hours"] <= decisions["max_hours"] < 1  # decided minutes later
    assert report["lists"]["snapshots"] == 1 and report["lists"]["median_days_between"] is None
    assert report["audit_verification"]["intact"] is True
    assert report["audit_verification"]["entries"] >= 3
    assert report["resellers"] == {
        "total": 0,
        "foreign": 0,
        "entities": [],
        "source": report["criteria"]["sources"]["resellers"],
    }


def test_html_and_pdf_with_the_alerts_chart(
    scanned: Scanned, decided: dict[str, Any], tmp_path: Path
) -> None:
    for fmt in ("html", "pdf"):
        _certification(scanned.provider, tmp_path / f"cert.{fmt}")
    html = (tmp_path / "cert.html").read_text(encoding="utf-8")
    assert "<svg" in html and "headquarters_d5" in html
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm
    subprocess.run(
        [pdftoppm, "-r", "40", "-png", str(tmp_path / "cert.pdf"), str(tmp_path / "p")],
        check=True,
    )
    from PIL import Image

    pages = sorted(tmp_path.glob("p*.png"))
    assert pages
    with Image.open(pages[0]) as image:
        grey = image.convert("L")
        dark = sum(grey.histogram()[:200])
    assert dark > 0.02 * grey.size[0] * grey.size[1]


def test_over_http_an_auditor_reads_it_an_analyst_does_not(
    scanned: Scanned, decided: dict[str, Any]
) -> None:
    from fastapi.testclient import TestClient

    from computekyc.api.app import create_app

    with TestClient(create_app(scanned.settings)) as client:
        params = {"provider_dir": str(scanned.provider), "year": YEAR}
        denied = client.get(
            "/reports/certification",
            params=params,
            headers={"Authorization": f"Bearer {decided['tokens']['analyst']}"},
        )
        assert denied.status_code == 403
        allowed = client.get(
            "/reports/certification",
            params=params,
            headers={"Authorization": f"Bearer {decided['tokens']['auditor']}"},
        )
        assert allowed.status_code == 200, allowed.text
        body = allowed.json()
        assert body["generated_by"]["user"] == "alba"
        assert body["alerts"]["by_type"]["headquarters_d5"] == {"confirmed": 1}
        pdf = client.get(
            "/reports/training-runs",
            params={
                "provider_dir": str(scanned.provider),
                "from": "2026-10-01",
                "to": "2026-10-31",
                "format": "pdf",
            },
            headers={"Authorization": f"Bearer {decided['tokens']['auditor']}"},
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert pdf.headers["content-type"] == "application/pdf"
