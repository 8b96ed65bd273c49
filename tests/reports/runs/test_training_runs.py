"""`computekyc report training-runs` on a hand-built provider: a Chinese customer's 16,384-GPU
pre-training run (and a tiny one under the floor), a US customer's small fine-tune, and a
16-GPU day on an account no customer of the book holds."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image
from typer.testing import CliRunner

from computekyc.audit import canonical_json
from computekyc.chips import get_chip
from computekyc.cli import app
from computekyc.workflow import open_database

from .conftest import Scanned

# One worker runs a module: its scan and reports are made once (module fixtures).
pytestmark = pytest.mark.xdist_group("reports")

REPO = Path(__file__).resolve().parents[3]
SCHEMA = REPO / "docs" / "schemas" / "training-runs.schema.json"
GPUS, SECONDS = 16384, 20 * 86400  # job 9001: 2048 nodes x 8 H100 for 20 days
UTILISATION = 0.4  # sacct carries no tensor-active telemetry: the default utilisation


@pytest.fixture(scope="module")
def reports(scanned: Scanned, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The October report in each format, made through the real command line."""
    out = tmp_path_factory.mktemp("training-out")
    paths = {}
    for fmt in ("json", "html", "pdf"):
        target = out / f"runs.{fmt}"
        result = CliRunner().invoke(
            app,
            [
                "report",
                "training-runs",
                "--provider",
                str(scanned.provider),
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--output",
                str(target),
            ],
        )
        assert result.exit_code == 0, result.output
        paths[fmt] = target
    return paths


def _report(reports: dict[str, Path]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(reports["json"].read_text(encoding="utf-8"))
    return loaded


def test_the_foreign_pretraining_run_is_reported_with_its_figures(
    reports: dict[str, Path],
) -> None:
    report = _report(reports)
    runs = [r for r in report["runs"] if r["kind"] == "run"]
    # Not the 2-hour eval (under the floor), not the US fine-tune (domestic, no threshold).
    assert [r["id"] for r in runs] == ["a-cn#run1", "a-x#run1"]
    run = runs[0]
    assert run["gpu_hours"] == pytest.approx(GPUS * SECONDS / 3600)
    dense_bf16 = get_chip("H100-SXM").dense_tops["bf16"] * 1e12
    expected = GPUS * SECONDS * dense_bf16 * UTILISATION
    assert run["estimated_operations"] == pytest.approx(expected, rel=1e-9)
    assert expected > 1e25
    assert run["start"] == "2026-10-01T00:00:00Z" and run["end"] == "2026-10-21T00:00:00Z"
    assert {t["threshold"] for t in run["thresholds_crossed"]} == {1e23, 1e25}
    assert any("foreign customer (CN)" in reason for reason in run["reasons"])
    assert run["method"]["utilisation_used"] == UTILISATION
    assert "bf16" in json.dumps(run["method"]["precisions"])
    [chip] = run["chips"]
    assert chip["chip"] == "H100-SXM" and chip["eccn"] == "3A090.a"
    assert chip["status"] == "controlled" and chip["gpu_hours"] == run["gpu_hours"]


def test_the_customer_is_shown_as_the_book_holds_it(reports: dict[str, Path]) -> None:
    run = next(r for r in _report(reports)["runs"] if r["kind"] == "run")
    customer = run["customer"]
    assert customer["id"] == "c-cn" and customer["country"] == "CN"
    assert customer["identifiers"] == {"uscc": "91330106MA2KLY0X5Q"}
    assert customer["addresses"] == ["88 Wenyi West Road, Xihu District, Hangzhou 310012"]
    assert customer["matches_book"] is True
    owners = {(o["path"], o["share"]) for o in customer["beneficial_owners"]}
    assert owners == {
        ("Hangzhou Lanyue Model Lab Co., Ltd. > Chen Yuwen", 60),
        ("Hangzhou Lanyue Model Lab Co., Ltd. > Lanyue Holdings Limited", 40),
        ("Hangzhou Lanyue Model Lab Co., Ltd. > Lanyue Holdings Limited > Chen Yuwen", 100),
    }
    [account] = run["accounts"]
    assert account["id"] == "a-cn" and account["payment_fingerprints"] == ["tok_ly_5e21"]
    assert [(a["ip"], a["at"]) for a in account["access"]] == [
        ("203.0.113.7", "2026-10-01T01:02:03Z"),
        ("198.51.100.20", "2026-10-02T09:00:00Z"),
    ]
    assert account["entity_id"] and run["linked_entity"]["accounts"] == ["a-cn"]


def test_determination_snapshot_rules_and_checkpoint(
    reports: dict[str, Path], scanned: Scanned
) -> None:
    report = _report(reports)
    run = next(r for r in report["runs"] if r["kind"] == "run")
    # Headquartered in China and renting 3A090 chips: never a clear.
    assert run["determination"]["status"] in ("license_required", "blocked")
    assert run["determination"]["as_of"] == "2026-10-21"
    assert any("determined" in reason for reason in run["reasons"])
    assert run["snapshot"]["id"].startswith("snapshot-") and run["snapshot"]["feeds"]
    assert run["rule_versions"]["report_criteria"] == report["criteria"]["version"]
    # The report is the last audit entry the checkpoint covers, and the chain verifies.
    audit = report["audit"]
    from computekyc.audit import read_entries, verify

    with open_database(scanned.settings).connect() as connection:
        entries = read_entries(connection)
        assert verify(connection, scanned.settings).intact
    logged = next(e for e in entries if e.seq == audit["seq"])
    assert logged.action == "report.training_runs" and logged.object_id == report["id"]
    assert logged.after["sha256"] == audit["content_sha256"]
    # An auditor recomputes the digest from the document: its JSON without the audit member.
    content = {k: v for k, v in report.items() if k != "audit"}
    assert hashlib.sha256(canonical_json(content).encode()).hexdigest() == audit["content_sha256"]
    assert audit["checkpoint"]["count"] >= audit["seq"]


def test_cumulative_crossings_are_entries_of_their_own(reports: dict[str, Path]) -> None:
    cumulative = [r for r in _report(reports)["runs"] if r["kind"] == "cumulative"]
    assert cumulative, "the account's 90-day total crossed 10^23 and 10^25 in October"
    assert {tuple(a["id"] for a in r["accounts"]) for r in cumulative} == {("a-cn",)}
    crossed = {t["threshold"] for r in cumulative for t in r["thresholds_crossed"]}
    assert crossed == {1e23, 1e25}


def test_a_run_without_a_customer_is_reported_as_unknown_never_clear(
    reports: dict[str, Path],
) -> None:
    run = next(r for r in _report(reports)["runs"] if r["id"] == "a-x#run1")
    assert run["customer"] is None
    assert run["determination"]["status"] == "review"
    assert any("identity unknown" in reason for reason in run["reasons"])
    assert run["gpu_hours"] == pytest.approx(16 * 24)
    [account] = run["accounts"]
    assert account["customer_id"] is None and account["payment_fingerprints"] == ["tok_or_91aa"]


def test_a_record_edited_since_the_scan_says_so(scanned: Scanned, tmp_path: Path) -> None:
    from datetime import date

    from computekyc.services.reports_runs import training_runs_report

    edited = tmp_path / "provider"  # the same provider name, one customer moved
    shutil.copytree(scanned.provider, edited)
    lines = (edited / "customers.jsonl").read_text(encoding="utf-8").splitlines()
    moved = json.loads(lines[0])
    moved["addresses"] = ["1 Binjiang Avenue, Hangzhou"]
    lines[0] = json.dumps(moved, ensure_ascii=False)
    (edited / "customers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = training_runs_report(scanned.settings, edited, date(2026, 10, 1), date(2026, 10, 31))
    run = next(r for r in report["runs"] if r["id"] == "a-cn#run1")
    assert run["customer"]["addresses"] == ["1 Binjiang Avenue, Hangzhou"]
    assert run["customer"]["matches_book"] is False
    assert run["accounts"][0]["matches_book"] is True


def test_the_domestic_small_run_is_left_out(reports: dict[str, Path]) -> None:
    text = reports["json"].read_text(encoding="utf-8")
    assert "a-us" not in text and "c-us" not in text


def test_the_json_follows_its_schema(reports: dict[str, Path]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    report = _report(reports)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(report)]
    assert errors == []
    # The schema bites: a card number where a payment fingerprint goes is refused.
    report["runs"][0]["accounts"][0]["payment_fingerprints"] = ["4111 1111 1111 1111"]
    assert not validator.is_valid(report)


def test_html_carries_the_charts_inline(reports: dict[str, Path]) -> None:
    html = reports["html"].read_text(encoding="utf-8")
    assert html.count("<svg") >= 2  # usage per day, ownership
    assert "Hangzhou Lanyue Model Lab Co., Ltd." in html
    # Nothing to fetch: no external stylesheet, script, image or font.
    assert re.search(r'(src|href)\s*=\s*"(https?:)?//', html) is None
    assert "<script" not in html and "@import" not in html and "url(http" not in html


def test_pdf_pages_render_with_the_chart(reports: dict[str, Path], tmp_path: Path) -> None:
    pdf = reports["pdf"]
    assert pdf.read_bytes().startswith(b"%PDF-")
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "poppler-utils (pdftoppm) is needed: .ci/run installs it"
    subprocess.run(
        [pdftoppm, "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    [png] = sorted(tmp_path.glob("page*.png"))
    with Image.open(png) as image:
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20) or []
        width, height = pixels.size
        # The first page holds the usage chart: its bars (#9dc3e6) and line (#1f4e79) are there,
        # and the page is far from blank.
        bar = sum(n for n, rgb in colours if _near(rgb, (0x9D, 0xC3, 0xE6)))
        white = sum(n for n, rgb in colours if min(rgb) > 245)
    assert bar > 0.01 * width * height
    assert white < 0.95 * width * height


def _near(rgb: tuple[int, int, int], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(rgb, target, strict=True))


def test_bad_periods_and_formats_are_usage_errors(scanned: Scanned, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["report", "training-runs", "--provider", str(scanned.provider)]
    backwards = runner.invoke(
        app, [*base, "--from", "2026-10-31", "--to", "2026-10-01", "-o", str(tmp_path / "a")]
    )
    assert backwards.exit_code == 2 and "after" in backwards.output
    bad_format = runner.invoke(
        app,
        [*base, "--from", "2026-10-01", "--to", "2026-10-31", "--format", "docx", "-o", "x"],
    )
    assert bad_format.exit_code == 2 and "--format" in bad_format.output
    assert not (tmp_path / "a").exists()
