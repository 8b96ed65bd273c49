"""Bad usage input never becomes a traceback or a silently wrong answer.

Each test takes a real file (the hand-written samples in tests/usage/data, the public Alibaba
traces in ../shared) and changes the one thing under test, then checks what was stored: rows
outside the plausibility limits (usage/data/limits.yaml) are rejected with file, line and field;
files that cannot be read are refused on one line, store nothing, and can be re-ingested once
fixed."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from computekyc.cli import app
from computekyc.usage import (
    DuckDBEngine,
    UsageFormatError,
    UsageStore,
    ingest_file,
    load_limits,
    summary,
)

DATA = Path(__file__).resolve().parents[1] / "usage" / "data"
runner = CliRunner()


def _records(name: str, delimiter: str = ",") -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def focus_row(tmp_path: Path, **changes: str) -> Path:
    """focus_1_0.csv's first row (8 x H100 for one hour, SA-1) with ``changes``."""
    header, rows = _records("focus_1_0.csv")
    return _write(tmp_path / "focus.csv", header, [{**rows[0], **changes}])


def sacct_row(tmp_path: Path, **changes: str) -> Path:
    """sacct.txt's job 1001 (16 x H100, 48 h) with ``changes``."""
    header, rows = _records("sacct.txt", "|")
    return _write(tmp_path / "sacct.txt", header, [{**rows[0], **changes}], "|")


def only_reject(path: Path, store: UsageStore) -> tuple[int, str]:
    report = ingest_file(path, "auto", store)
    assert report.rows_stored == 0 and report.gpu_hours == 0.0
    assert report.rows_rejected == 1
    (reject,) = report.rejects
    assert reject["file"] == str(path)
    return reject["line"], reject["reason"]


def snapshot(store: UsageStore) -> dict[str, str]:
    """Every file of the store with its content hash (the analysts' catalogue excepted)."""
    return {
        str(p.relative_to(store.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(store.root.rglob("*"))
        if p.is_file() and p.name != "usage.duckdb"
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Before 1970 the epoch seconds are negative: this once stored -176 GPU-hours.
        (
            {
                "ChargePeriodStart": "1969-12-31T00:00:00Z",
                "ChargePeriodEnd": "1969-12-31T01:00:00Z",
            },
            "ChargePeriodStart 1969-12-31T00:00:00Z is before 2000-01-01T00:00:00Z "
            "(usage limits: earliest_time)",
        ),
        (
            {
                "ChargePeriodStart": "1990-01-01T00:00:00Z",
                "ChargePeriodEnd": "1990-01-01T01:00:00Z",
            },
            "ChargePeriodStart 1990-01-01T00:00:00Z is before 2000-01-01T00:00:00Z "
            "(usage limits: earliest_time)",
        ),
        (
            {"ChargePeriodStart": "2024-06-01T05:00:00Z"},
            "ChargePeriodEnd is before ChargePeriodStart",
        ),
        ({"ConsumedQuantity": "NaN"}, "ConsumedQuantity is not a finite number (or too large)"),
        (
            {"ConsumedQuantity": "Infinity"},
            "ConsumedQuantity is not a finite number (or too large)",
        ),
        ({"ConsumedQuantity": "-inf"}, "ConsumedQuantity is not a finite number (or too large)"),
        ({"ConsumedQuantity": "1e308"}, "ConsumedQuantity is not a finite number (or too large)"),
        ({"ConsumedQuantity": "-1"}, "ConsumedQuantity is negative"),
        (
            {"ConsumedQuantity": "1e12"},
            "ConsumedQuantity: 8e+12 GPU-hours in 1 hours means more than 1000000 GPUs at once "
            "(usage limits: max_gpus_per_row)",
        ),
        (
            {"SkuPriceDetails": '{"GpuCount": 99999999, "InstanceType": "p5.48xlarge"}'},
            "SkuPriceDetails.GpuCount 99999999 GPUs on one row, more than 1000000 "
            "(usage limits: max_gpus_per_row)",
        ),
        (
            {"SkuPriceDetails": '{"GpuCount": "NaN", "InstanceType": "p5.48xlarge"}'},
            "SkuPriceDetails.GpuCount is not a finite number",
        ),
        (
            {
                "ChargePeriodStart": "2023-01-01T00:00:00Z",
                "ChargePeriodEnd": "2024-06-01T00:00:00Z",
            },
            "ChargePeriodStart to ChargePeriodEnd: 517 days on one row, more than 366 "
            "(usage limits: max_row_days)",
        ),
    ],
)
def test_implausible_focus_rows_are_rejected_with_their_field(
    tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    store = UsageStore(tmp_path / "usage")
    assert only_reject(focus_row(tmp_path, **changes), store) == (2, reason)


def test_far_future_is_rejected_against_the_ingest_time(tmp_path: Path) -> None:
    path = focus_row(
        tmp_path, ChargePeriodStart="2999-01-01T00:00:00Z", ChargePeriodEnd="2999-01-01T01:00:00Z"
    )
    line, reason = only_reject(path, UsageStore(tmp_path / "usage"))
    assert line == 2 and reason.startswith("ChargePeriodEnd 2999-01-01T01:00:00Z is after 20")
    assert reason.endswith("(usage limits: future_days)")


def test_limits_in_force_are_recorded_in_the_report(tmp_path: Path) -> None:
    report = ingest_file(DATA / "cur2.csv", "auto", UsageStore(tmp_path / "usage"))
    limits = load_limits()
    assert report.limits["earliest_s"] == limits.earliest_s == 946684800
    assert report.limits["max_gpus_per_row"] == 1_000_000
    assert report.limits["version"] == limits.version


def test_sacct_elapsed_longer_than_end_minus_start(tmp_path: Path) -> None:
    # Job 1001 ran one hour by its Start/End but claims 48 hours of ElapsedRaw.
    path = sacct_row(tmp_path, End="2024-06-01T01:00:00")
    assert only_reject(path, UsageStore(tmp_path / "usage")) == (
        2,
        "ElapsedRaw 172800 s is longer than End - Start (3600 s)",
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"AllocTRES": "billing=64,cpu=64,gres/gpu=99999999,node=2"},
            "AllocTRES gres/gpu 99999999 GPUs on one row, more than 1000000 "
            "(usage limits: max_gpus_per_row)",
        ),
        ({"ElapsedRaw": "NaN"}, "ElapsedRaw is not a finite number (or too large)"),
        (
            {"Start": "1970-01-01T00:00:00", "End": "1970-01-03T00:00:00"},
            "Start 1970-01-01T00:00:00Z is before 2000-01-01T00:00:00Z "
            "(usage limits: earliest_time)",
        ),
    ],
)
def test_implausible_sacct_rows(tmp_path: Path, changes: dict[str, str], reason: str) -> None:
    assert only_reject(sacct_row(tmp_path, **changes), UsageStore(tmp_path / "usage")) == (
        2,
        reason,
    )


def test_cur_infinite_amount(tmp_path: Path) -> None:
    header, rows = _records("cur2.csv")
    path = _write(tmp_path / "cur.csv", header, [{**rows[0], "line_item_usage_amount": "inf"}])
    assert only_reject(path, UsageStore(tmp_path / "usage")) == (
        2,
        "line_item_usage_amount is not a finite number (or too large)",
    )


def test_dcgm_non_finite_samples_are_rejected_not_averaged(tmp_path: Path) -> None:
    header, rows = _records("dcgm.csv")
    gpu = [r for r in rows if r["UUID"] == "GPU-a0"]
    bad = [{**gpu[0], "value": "NaN"}, {**gpu[1], "value": "inf"}, *gpu[2:]]
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(_write(tmp_path / "dcgm.csv", header, bad), "auto", store)
    assert [r["reason"] for r in report.rejects] == ["value is not a finite number"] * 2
    con = store.connect()
    store.create_usage_view(con)
    values = con.execute("SELECT tensor_active, gpu_util, fb_used_frac FROM usage").fetchall()
    assert values and all(v is None or math.isfinite(v) for row in values for v in row)


def test_alibaba_out_of_range_time_is_a_reject_not_a_failed_file(
    tmp_path: Path, shared: Path
) -> None:
    source = shared / "data/usage/alibaba/v2023_pods_default.csv"
    with source.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), [next(reader) for _ in range(5)]
    rows[1] = {**rows[1], "num_gpu": "99999999", "deletion_time": "1e308"}
    rows[2] = {**rows[2], "num_gpu": "lots"}
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(_write(tmp_path / "pods.csv", header, rows), "auto", store)
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (3, "deletion_time is not a number of seconds"),
        (4, "GPU count is not a number"),
    ]
    assert report.rows_accepted == 3 and report.rows_read == 5


def test_summary_json_stays_valid_json(ck_home: Path, tmp_path: Path) -> None:
    # The NaN quantity used to reach `usage summary --json` as a bare NaN (invalid JSON).
    bad = focus_row(tmp_path, ConsumedQuantity="NaN")
    assert runner.invoke(app, ["usage", "ingest", str(bad)]).exit_code == 0
    assert runner.invoke(app, ["usage", "ingest", str(DATA / "sacct.txt")]).exit_code == 0
    out = runner.invoke(app, ["usage", "summary", "--json"])
    assert out.exit_code == 0, out.output
    accounts = json.loads(out.stdout, parse_constant=_refuse_constant)
    assert {a["account"] for a in accounts} == {"lab-b", "lab-c", "lab-a"}
    total = summary(DuckDBEngine(UsageStore(ck_home / "usage")))
    assert all(math.isfinite(a["gpu_hours"]) for a in total)


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"{name} in JSON output")


def test_latin1_bytes_are_refused_with_their_line(tmp_path: Path) -> None:
    # Two accounts that differ only in a Latin-1 letter once became one (both U+FFFD).
    header, rows = _records("focus_1_0.csv")
    good = _write(tmp_path / "utf8.csv", header, [{**rows[0], "SubAccountId": "Société"}])
    text = good.read_text(encoding="utf-8")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(text.encode("latin-1") + text.splitlines()[1].encode("latin-1") + b"\n")
    store = UsageStore(tmp_path / "usage")
    with pytest.raises(
        UsageFormatError, match=r"latin1\.csv:2: byte 0xe9 at column \d+ is not UTF"
    ):
        ingest_file(latin, "auto", store)
    assert not store.has_rows()
    # The same text in UTF-8 keeps the account exactly.
    ingest_file(good, "auto", store)
    con = store.connect()
    store.create_usage_view(con)
    assert con.execute("SELECT DISTINCT account FROM usage").fetchall() == [("Société",)]


def test_utf8_byte_order_mark_is_not_part_of_the_header(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + (DATA / "cur2.csv").read_bytes())
    report = ingest_file(bom, "auto", UsageStore(tmp_path / "usage"))
    assert report.format == "cur" and report.gpu_hours == pytest.approx(17.0)


def _truncated(tmp_path: Path) -> Path:
    data = (DATA / "focus_1_0.csv").read_bytes()
    path = tmp_path / "truncated.csv"
    path.write_bytes(data[: data.index(b"\n", 900) + 40])
    return path


def _prom_truncated(tmp_path: Path) -> Path:
    data = (DATA / "dcgm.prom").read_bytes()
    path = tmp_path / "truncated.prom"
    path.write_bytes(data[:-3])
    return path


def _big_field(tmp_path: Path) -> Path:
    return focus_row(tmp_path, ChargeDescription="x" * 200_000)


def _binary(tmp_path: Path) -> Path:
    # Random bytes after a valid header: a download that went wrong.
    path = tmp_path / "garbage.csv"
    header = (DATA / "cur2.csv").read_bytes().split(b"\n")[0]
    path.write_bytes(header + b"\n" + bytes(range(255, -1, -1)) * 64)
    return path


def _gzipped(tmp_path: Path) -> Path:
    import gzip

    path = tmp_path / "export.csv"
    path.write_bytes(gzip.compress((DATA / "focus_1_3.csv").read_bytes()))
    return path


def _nul(tmp_path: Path) -> Path:
    path = tmp_path / "nul.csv"
    path.write_bytes((DATA / "cur2.csv").read_bytes().replace(b"i-0g5", b"i-\x00g5"))
    return path


def _header_only(tmp_path: Path) -> Path:
    path = tmp_path / "header.csv"
    path.write_bytes((DATA / "sacct.txt").read_bytes().split(b"\n")[0] + b"\n")
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _comments_only(tmp_path: Path) -> Path:
    path = tmp_path / "scrape.prom"
    path.write_text("# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n")
    return path


def _parquet_cut(tmp_path: Path) -> Path:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    whole = tmp_path / "whole.parquet"
    pq.write_table(pacsv.read_csv(DATA / "cur2.csv"), whole)
    path = tmp_path / "cut.parquet"
    path.write_bytes(whole.read_bytes()[:-100])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_truncated, r"truncated\.csv:\d+: the last line has no line break"),
        (_prom_truncated, r"truncated\.prom:\d+: the last line has no line break"),
        (_big_field, r"focus\.csv:\d+: not a CSV record \(field larger than field limit"),
        (_binary, r"garbage\.csv:2: byte 0xff at column 1 is not UTF-8"),
        (_gzipped, r"export\.csv: a gzip archive: extract the usage file first"),
        (_nul, r"nul\.csv:4: NUL byte at column 158: not a text file"),
        (_header_only, r"header\.csv: a header but no records"),
        (_empty, r"empty\.csv: empty file"),
        (_comments_only, r"scrape\.prom: no records"),
        (_parquet_cut, r"cut\.parquet: not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_refused_and_change_nothing(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    store = UsageStore(tmp_path / "usage")
    ingest_file(DATA / "sacct.txt", "auto", store)
    before = snapshot(store)
    path = make(tmp_path)
    with pytest.raises(UsageFormatError, match=message) as raised:
        ingest_file(path, "auto", store)
    assert "\n" not in str(raised.value) and raised.value.exit_code == 2
    assert snapshot(store) == before
    assert list(store.tmp_dir.iterdir()) == []


def test_a_fixed_file_ingests_after_a_refusal_and_again_is_a_no_op(tmp_path: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    path = tmp_path / "cur.csv"
    whole = (DATA / "cur2.csv").read_bytes()
    path.write_bytes(whole[:-1])  # the last line break is missing: refused
    with pytest.raises(UsageFormatError):
        ingest_file(path, "auto", store)
    path.write_bytes(whole)
    first = ingest_file(path, "auto", store)
    files = snapshot(store)
    again = ingest_file(path, "auto", store)
    assert (first.status, again.status) == ("ingested", "already ingested")
    assert again.gpu_hours == first.gpu_hours == pytest.approx(17.0)
    assert snapshot(store) == files


def test_cli_prints_square_brackets_as_text_and_saves_once(ck_home: Path, tmp_path: Path) -> None:
    # A file name and cells with square brackets: Rich markup once ate "[et]" from the name and
    # crashed on "[/nope]" after the data had been saved.
    folder = tmp_path / "exports[2024]"
    folder.mkdir()
    header, rows = _records("focus_1_0.csv")
    odd = {
        **rows[0],
        "SubAccountId": "[bold]acct[/bold]",
        "SkuPriceDetails": '{"GpuCount": 8, "InstanceType": "[/nope]"}',
    }
    bad = {**rows[1], "ChargePeriodEnd": "[red]soon"}
    path = _write(folder / "focus[et].csv", header, [odd, bad])
    result = runner.invoke(app, ["usage", "ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: focus ingested" in result.stdout
    assert "unknown hardware '[/nope]'" in result.stdout
    assert "line 3: ChargePeriodEnd is not a timestamp" in result.stdout
    again = runner.invoke(app, ["usage", "ingest", str(path), "--json"])
    assert json.loads(again.stdout)[0]["status"] == "already ingested"


def test_cli_refusal_is_one_line_and_other_files_still_ingest(
    ck_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "latin[1].csv"
    path.write_bytes(b"JobID|Account|AllocTRES|ElapsedRaw\n1|Soci\xe9t\xe9|gres/gpu=1|60\n")
    result = runner.invoke(app, ["usage", "ingest", str(path), str(DATA / "cur2.csv")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}:2: byte 0xe9 at column 7 is not UTF-8 "
        "(convert the file to UTF-8; other encodings are not guessed)"
    ]
    assert "cur2.csv: cur ingested" in result.stdout
    as_json = runner.invoke(app, ["usage", "ingest", str(path), "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)[0]["status"] == "error"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--scale", "nan"], 2, "error: scale nan: give a number from 0 to 1000"),
        (["--scale", "-1"], 2, "error: scale -1.0: give a number from 0 to 1000"),
    ],
)
def test_generate_refuses_bad_options_in_one_line(
    tmp_path: Path, ck_home: Path, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, ["usage", "generate", str(tmp_path / "out[1]"), *args])
    assert (result.exit_code, result.stderr.splitlines()) == (code, [message])
    assert not (tmp_path / "out[1]").exists()


def test_generate_into_a_file_or_without_the_traces(
    tmp_path: Path, ck_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "taken"
    afile.write_text("")
    result = runner.invoke(app, ["usage", "generate", str(afile)])
    assert (result.exit_code, result.stderr.splitlines()) == (
        2,
        [f"error: {afile} is a file, not a folder"],
    )
    monkeypatch.setenv("COMPUTEKYC_SHARED", str(tmp_path / "nowhere"))
    result = runner.invoke(app, ["usage", "generate", str(tmp_path / "g")])
    assert result.exit_code == 3 and "set $COMPUTEKYC_SHARED" in result.stderr


def test_a_reader_that_raised_the_csv_limit_does_not_change_what_usage_accepts(
    tmp_path: Path,
) -> None:
    # csv.field_size_limit is one setting per process: reading account files (which allow long
    # cells) in the same process must leave the usage readers' 128 KiB limit in force.
    from computekyc.linking import load_accounts

    before = csv.field_size_limit()
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,name\na1,Acme " + "x" * 200_000 + "\n", encoding="utf-8")
    try:
        load_accounts(accounts)
    except UsageFormatError:
        pass
    except Exception:
        pass
    assert csv.field_size_limit() == before
    store = UsageStore(tmp_path / "usage")
    with pytest.raises(UsageFormatError, match="field larger than field limit"):
        ingest_file(_big_field(tmp_path), "auto", store)
