"""Readers on hand-written files in every format; answers computed by hand in the comments."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from computekyc.usage import UsageFormatError, UsageStore, ingest_file
from computekyc.usage.schema import USAGE_COLUMNS

H100_PEAK = 989.4e12


def rows(store: UsageStore, where: str = "TRUE") -> list[dict[str, Any]]:
    """The stored rows through the store's ``usage`` view (what analysts and engines read)."""
    con = store.connect()
    assert store.create_usage_view(con)
    cur = con.execute(
        f"SELECT * FROM usage WHERE {where} ORDER BY source_file, source_line, start_s"
    )
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def gpu_hours(store: UsageStore, where: str = "TRUE") -> float:
    return sum(r["gpu_seconds"] for r in rows(store, where)) / 3600


def test_focus_1_0_csv(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(usage_data / "focus_1_0.csv", "auto", store)
    assert report.format == "focus"
    assert report.rows_read == 10
    # Skipped, not errors: a tax line and an S3 line (no GPU in SkuPriceDetails).
    assert report.rows_skipped == {"ChargeCategory Tax": 1, "no GPU in SkuPriceDetails": 1}
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (9, "SkuPriceDetails is not valid JSON"),
        (10, "ChargePeriodEnd is not a timestamp"),
        (11, "3 fields where the header has 25"),
    ]
    # The unknown instance type is reported and kept (GpuCount 4 is in the file), chip unknown.
    assert [(u.name, u.rows, u.kept_rows) for u in report.unknown_hardware] == [
        ("zz9.mystery", 1, 1)
    ]
    stored = rows(store)
    # SubAccountId is the account, BillingAccountId the billing (reseller) account.
    assert {(r["account"], r["billing_account"]) for r in stored} == {
        ("SA-1", "BA-100"),
        ("SA-2", "BA-100"),
        ("SA-3", "BA-100"),
    }
    # 8 + 8 GPU-h (i-aaa), 0.5 h x 8 (i-bbb: GPU count from the catalogue), 24 h x 8 (A100),
    # 2 h x 4 (unknown chip) = 220 GPU-hours.
    assert report.gpu_hours == pytest.approx(220.0)
    by_line = {r["source_line"]: r for r in stored}
    assert by_line[4]["gpu_count"] == 8 and by_line[4]["gpu_seconds"] == 4 * 3600
    # p4d.24xlarge carries 8x A100 40GB (its own catalogue entry).
    assert by_line[5]["chip"] == "A100-SXM-40GB" and by_line[5]["controlled"] is True
    assert by_line[8]["chip"] is None and by_line[8]["hardware_name"] == "zz9.mystery"
    assert by_line[2]["provider"] == "AWS" and by_line[2]["region"] == "us-east-1"


def test_all_null_columns_are_left_out_of_the_file_not_the_view(
    tmp_path: Path, usage_data: Path
) -> None:
    store = UsageStore(tmp_path / "usage")
    focus = ingest_file(usage_data / "focus_1_0.csv", "auto", store)
    cur = ingest_file(usage_data / "cur2.csv", "auto", store)
    focus_columns = set(pq.read_schema(store.rows_dir / f"{focus.content_hash}.parquet").names)
    cur_columns = set(pq.read_schema(store.rows_dir / f"{cur.content_hash}.parquet").names)
    # FOCUS 1.0 billing has no principal, no job state and no telemetry; CUR 2.0 has principals.
    assert {"principal", "state", "tensor_active", "nodes"}.isdisjoint(focus_columns)
    assert "principal" in cur_columns and "account" in focus_columns
    stored = rows(store)
    assert set(stored[0]) == set(USAGE_COLUMNS)
    principals = {r["source_format"]: r["principal"] for r in stored if r["principal"]}
    assert list(principals) == ["cur"]
    assert all(r["principal"] is None for r in stored if r["source_format"] == "focus")


def test_focus_1_3_csv_and_parquet_agree(tmp_path: Path, usage_data: Path) -> None:
    source = usage_data / "focus_1_3.csv"
    csv_store = UsageStore(tmp_path / "a")
    report = ingest_file(source, "focus", csv_store)
    assert report.rows_skipped == {"ChargeCategory Credit": 1}
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (6, "ConsumedUnit Fortnights is not a time unit")
    ]
    got = rows(csv_store)
    # ServiceProviderName (1.3) wins over the deprecated ProviderName.
    assert {r["provider"] for r in got} == {"Microsoft", "Google Cloud", "Oracle"}
    # No SubAccountId -> the billing account is the account.
    assert {r["account"] for r in got} == {"BA-7", "SUB-77", "SUB-78"}
    # GPU-Hours unit: 192 GPU-h directly; 48 instance-hours x 8 (a3-highgpu-8g) = 384 split over
    # two days; 6 h x 8 (BM.GPU.H100.8 from the x_InstanceType custom column) = 48.
    per_day = {
        (r["account"], r["start_time"].date().isoformat()): r["gpu_seconds"] / 3600 for r in got
    }
    assert per_day == {
        ("BA-7", "2025-01-01"): 192.0,
        ("SUB-77", "2025-01-01"): 192.0,
        ("SUB-77", "2025-01-02"): 192.0,
        ("SUB-78", "2025-01-01"): 48.0,
    }
    assert {r["chip"] for r in got} == {"H100-SXM"}
    # The same rows as typed Parquet (timestamps, doubles) give the same usage.
    table = pacsv.read_csv(source)
    table = table.set_column(
        table.schema.get_field_index("ChargePeriodStart"),
        "ChargePeriodStart",
        table["ChargePeriodStart"].cast(pa.timestamp("us", tz="UTC")),
    )
    parquet = tmp_path / "focus_1_3.parquet"
    pq.write_table(table, parquet)
    pq_store = UsageStore(tmp_path / "b")
    ingest_file(parquet, "auto", pq_store)
    keep = ("account", "chip", "gpu_count", "start_s", "end_s", "gpu_seconds", "provider")
    from_parquet = rows(pq_store)
    assert [{k: r[k] for k in keep} for r in from_parquet] == [{k: r[k] for k in keep} for r in got]
    # Parquet has no lines: its rows are numbered from 1, so each is one less than its CSV line.
    assert [r["source_line"] + 1 for r in from_parquet] == [r["source_line"] for r in got]


def test_cur_csv_json_product(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(usage_data / "cur2.csv", "auto", store)
    assert report.format == "cur"
    assert report.rows_skipped == {
        "line_item_line_item_type Tax": 1,
        "hardware not in the chip catalogue and no GPU count in the file": 1,
    }
    # m5.large (product gpu = 0) is reported, with no row kept.
    assert [(u.name, u.kept_rows) for u in report.unknown_hardware] == [("m5.large", 0)]
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (7, "line_item_usage_amount is not a number")
    ]
    got = rows(store)
    # Usage account vs payer account, and the IAM principal when the export has it.
    assert {(r["account"], r["billing_account"]) for r in got} == {
        ("222222222222", "111111111111"),
        ("333333333333", "111111111111"),
    }
    assert got[0]["principal"] == "arn:aws:iam::222222222222:role/trainer"
    # 2 h x 8 H100 + 1 h x 1 A10G.
    assert report.gpu_hours == pytest.approx(17.0)
    assert {r["chip"] for r in got} == {"H100-SXM", "A10G"}


def test_cur_parquet_map_product(tmp_path: Path, usage_data: Path) -> None:
    # The same export as Parquet, where CUR 2.0 types `product` as map<string,string>.
    with (usage_data / "cur2.csv").open(newline="") as fh:
        records = list(csv.DictReader(fh))
    import json

    for r in records:
        r["product"] = list(json.loads(r["product"]).items()) if r["product"] else None  # type: ignore[assignment]
    fields = [(k, pa.string()) for k in records[0] if k != "product"]
    schema = pa.schema([*fields, ("product", pa.map_(pa.string(), pa.string()))])
    path = tmp_path / "cur.parquet"
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(path, "cur", store)
    assert report.gpu_hours == pytest.approx(17.0)
    # Parquet "lines" are 1-based row numbers: the bad amount is row 6.
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (6, "line_item_usage_amount is not a number")
    ]


def test_sacct(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    report = ingest_file(usage_data / "sacct.txt", "auto", store)
    assert report.format == "sacct"
    assert report.rows_read == 9
    # A CPU-only job and a pending array never started.
    assert report.rows_skipped == {"no gres/gpu in AllocTRES": 2}
    assert [(r["line"], r["reason"]) for r in report.rejects] == [
        (10, "JobID garbage is not a Slurm job id")
    ]
    # gres/gpu=2 without a type: GPUs counted, chip unknown, and reported.
    assert [(u.name, u.kept_rows) for u in report.unknown_hardware] == [
        ("(no hardware name in the file)", 1)
    ]
    alloc = rows(store, "record_kind = 'allocation'")
    # Job 1001: gres/gpu=16 and gres/gpu:h100=16 -> 16 GPUs (never 32), 48 h, split by day.
    job = [r for r in alloc if r["job_key"] == "1001"]
    assert [r["gpu_count"] for r in job] == [16.0, 16.0]
    assert sum(r["gpu_seconds"] for r in job) / 3600 == 768.0
    # Array task 1002_3 keeps its task id; typed gres a100 -> A100; 1.5 GPU-h.
    task = next(r for r in alloc if r["job_key"] == "1002_3")
    assert task["chip"] == "A100-SXM" and task["gpu_seconds"] == 5400
    # RUNNING job 1004 with End=Unknown ends at Start + ElapsedRaw.
    running = next(r for r in alloc if r["job_key"] == "1004")
    assert running["state"] == "RUNNING" and running["end_s"] - running["start_s"] == 21600
    # Steps are telemetry of their job: gres/gpuutil=90 and 95 percent.
    steps = rows(store, "record_kind = 'telemetry'")
    assert {r["job_key"] for r in steps} == {"1001"}
    assert {r["gpu_util"] for r in steps} == {0.9, 0.95, None}
    assert report.gpu_hours == pytest.approx(768 + 1.5 + 12)


def test_dcgm_csv_and_prometheus(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    csv_report = ingest_file(usage_data / "dcgm.csv", "auto", store)
    assert csv_report.format == "dcgm"
    assert csv_report.rows_read == 15
    assert [(r["line"], r["reason"]) for r in csv_report.rejects] == [
        (15, "timestamp is not a time"),
        (16, "value is not a number"),
    ]
    prom = ingest_file(usage_data / "dcgm.prom", "auto", store)
    assert prom.format == "dcgm"
    assert [(r["line"], r["reason"]) for r in prom.rejects] == [
        (10, "not a Prometheus sample line")
    ]
    got = {r["job_key"] + "@" + r["resource"] + str(r["source_line"]): r for r in rows(store)}
    a0 = got["1001@gpu012"]
    # Two samples a minute apart -> [t0, t0 + 2 min); tensor 0.6; GPU_UTIL 98% -> 0.98;
    # FB 76000 of 80000 MiB used.
    assert (a0["end_s"] - a0["start_s"], a0["tensor_active"], a0["gpu_util"]) == (120, 0.6, 0.98)
    assert a0["fb_used_frac"] == pytest.approx(0.95)
    assert a0["chip"] == "H100-SXM" and a0["account"] is None
    miner = got["miners/xmr-0@rig019"]
    assert (miner["account"], miner["tensor_active"], miner["gpu_util"], miner["power_w"]) == (
        "miners",
        0.0,
        1.0,
        690.0,
    )
    pod = got["team-inf/llm-0@node-73"]
    # Prometheus samples 30 s apart with millisecond timestamps; tensor mean of 0.1 and 0.2.
    assert pod["start_s"] == 1717200000 and pod["end_s"] == 1717200060
    assert pod["tensor_active"] == pytest.approx(0.15) and pod["gpu_util"] == pytest.approx(0.5)


def test_idempotent_and_atomic(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    first = ingest_file(usage_data / "sacct.txt", "auto", store)
    files = sorted(p.name for p in store.rows_dir.iterdir())
    again = ingest_file(usage_data / "sacct.txt", "auto", store)
    assert again.status == "already ingested" and first.status == "ingested"
    assert (
        sorted(p.name for p in store.rows_dir.iterdir())
        == files
        == [f"{first.content_hash}.parquet"]
    )
    # No temp files are left behind, and a copy under another name is still the same content.
    assert [p for p in store.tmp_dir.iterdir()] == []
    copy = tmp_path / "copy.txt"
    copy.write_bytes((usage_data / "sacct.txt").read_bytes())
    assert ingest_file(copy, "auto", store).status == "already ingested"
    assert os.path.exists(store.root / "usage.duckdb")


def test_bad_inputs_name_the_file(tmp_path: Path, usage_data: Path, shared: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    with pytest.raises(UsageFormatError, match=r"v2023_gpu_nodes\.csv: a GPU node inventory"):
        ingest_file(shared / "data/usage/alibaba/v2023_gpu_nodes.csv", "auto", store)
    with pytest.raises(UsageFormatError, match=r"sacct\.txt:1: header looks like sacct, not focus"):
        ingest_file(usage_data / "sacct.txt", "focus", store)
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(UsageFormatError, match=r"odd\.csv:1: header not recognised"):
        ingest_file(odd, "auto", store)
    assert not store.has_rows()


def test_dcgm_parquet_dump_matches_csv(tmp_path: Path, usage_data: Path) -> None:
    # A DCGM dump as Parquet with typed timestamp and value columns reads like the CSV dump.
    table = pacsv.read_csv(
        usage_data / "dcgm.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={"value": pa.string(), "gpu": pa.string(), "hpc_job": pa.string()}
        ),
    )
    parquet = tmp_path / "dcgm.parquet"
    pq.write_table(table, parquet)
    csv_store, pq_store = UsageStore(tmp_path / "a"), UsageStore(tmp_path / "b")
    ingest_file(usage_data / "dcgm.csv", "dcgm", csv_store)
    report = ingest_file(parquet, "auto", pq_store)
    assert report.format == "dcgm" and report.rows_read == 15
    keep = ("job_key", "account", "chip", "start_s", "end_s", "tensor_active", "gpu_util")

    def signals(store: UsageStore) -> list[tuple[Any, ...]]:
        return sorted(tuple(r[k] for k in keep) for r in rows(store))

    assert signals(pq_store) == signals(csv_store)


def _with_columns(source: Path, out: Path, extra: dict[str, list[str]]) -> Path:
    """``source`` with ``extra`` columns appended (one value per record, in file order)."""
    with source.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = [*(reader.fieldnames or []), *extra]
        records = list(reader)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        for i, record in enumerate(records):
            writer.writerow({**record, **{k: v[i] for k, v in extra.items()}})
    return out


def test_focus_keeps_resource_name_tags_and_charge_description(
    tmp_path: Path, usage_data: Path
) -> None:
    # FOCUS 1.0 rows with the ResourceName and Tags columns a real export carries.
    names = ["llm-pretrain-0", "llm-pretrain-0", "", "a100-box", "", "", "mystery", "", "", ""]
    tags = [
        '{"project": "qwen-sft", "owner": "ml@example.cn"}',
        '{"project": "qwen-sft", "owner": "ml@example.cn"}',
        "{}",
        '{"team": "vision"}',
        "",
        "",
        '{"env": "prod"}',
        "",
        "",
        "",
    ]
    path = _with_columns(
        usage_data / "focus_1_0.csv", tmp_path / "focus.csv", {"ResourceName": names, "Tags": tags}
    )
    store = UsageStore(tmp_path / "usage")
    ingest_file(path, "auto", store)
    got = {r["source_line"]: r for r in rows(store)}
    assert got[2]["resource_name"] == "llm-pretrain-0" and got[2]["resource"] == "i-aaa"
    assert json.loads(got[2]["tags"]) == {"project": "qwen-sft", "owner": "ml@example.cn"}
    assert got[2]["charge_description"] == "p5.48xlarge on demand"
    # An empty tag object is no tags; a row with other details keeps them.
    assert got[4]["tags"] is None and got[4]["resource_name"] is None
    a100 = [r for r in rows(store, "source_line = 5")]
    assert [(r["resource_name"], r["tags"], r["charge_description"]) for r in a100] == [
        ("a100-box", '{"team": "vision"}', "A100 box")
    ]
    # The same export as Parquet with Tags as a map (as AWS writes FOCUS in Parquet).
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    as_map = [list(json.loads(t).items()) if t else None for t in tags]
    table = table.set_column(
        table.schema.get_field_index("Tags"),
        "Tags",
        pa.array(as_map, type=pa.map_(pa.string(), pa.string())),
    )
    parquet = tmp_path / "focus.parquet"
    pq.write_table(table, parquet)
    pq_store = UsageStore(tmp_path / "pq")
    ingest_file(parquet, "auto", pq_store)
    from_map = {r["source_line"] + 1: r for r in rows(pq_store)}
    assert json.loads(from_map[2]["tags"]) == {"project": "qwen-sft", "owner": "ml@example.cn"}
    assert from_map[4]["tags"] is None and from_map[2]["resource_name"] == "llm-pretrain-0"


def test_cur_keeps_resource_id_name_tag_and_line_item_description(
    tmp_path: Path, usage_data: Path
) -> None:
    tags = [
        '{"user_name": "deepseek-r2-train", "user_project": "ai.example.com"}',
        '{"user_name": "deepseek-r2-train", "user_project": "ai.example.com"}',
        "",
        "",
        "",
        "",
    ]
    descriptions = [
        "$98.32 per On Demand Linux p5.48xlarge Instance Hour",
        "$98.32 per On Demand Linux p5.48xlarge Instance Hour",
        "$0.40 per Spot Linux g5.xlarge Instance Hour",
        "",
        "",
        "",
    ]
    with (usage_data / "cur2.csv").open(newline="") as fh:
        count = sum(1 for _ in fh) - 1
    extra = {
        "resource_tags": (tags + [""] * count)[:count],
        "line_item_line_item_description": (descriptions + [""] * count)[:count],
    }
    path = _with_columns(usage_data / "cur2.csv", tmp_path / "cur.csv", extra)
    store = UsageStore(tmp_path / "usage")
    ingest_file(path, "auto", store)
    first = rows(store, "source_line = 2")[0]
    assert (first["resource"], first["resource_name"]) == ("i-0p5a", "deepseek-r2-train")
    assert json.loads(first["tags"])["user_project"] == "ai.example.com"
    assert first["charge_description"] == descriptions[0]
    spot = rows(store, "source_line = 4")[0]
    assert (spot["resource_name"], spot["tags"]) == (None, None)
    assert spot["charge_description"] == descriptions[2]
    # Parquet, where CUR 2.0 types resource_tags as map<string,string>.
    with path.open(newline="") as fh:
        records = list(csv.DictReader(fh))
    for r in records:
        r["resource_tags"] = (
            list(json.loads(r["resource_tags"]).items()) if r["resource_tags"] else None
        )  # type: ignore[assignment]
        r.pop("product")
    fields = [(k, pa.string()) for k in records[0] if k != "resource_tags"]
    schema = pa.schema([*fields, ("resource_tags", pa.map_(pa.string(), pa.string()))])
    parquet = tmp_path / "cur.parquet"
    pq.write_table(pa.Table.from_pylist(records, schema=schema), parquet)
    pq_store = UsageStore(tmp_path / "pq")
    ingest_file(parquet, "cur", pq_store)
    first = rows(pq_store, "source_line = 1")[0]
    assert first["resource_name"] == "deepseek-r2-train"
    assert json.loads(first["tags"]) == json.loads(tags[0])
    # Analysts read the same columns from the catalogue's `usage` view.
    import duckdb

    con = duckdb.connect(str(pq_store.root / "usage.duckdb"), read_only=True)
    assert con.execute(
        "SELECT resource_name, charge_description FROM usage WHERE source_line = 1"
    ).fetchall() == [("deepseek-r2-train", descriptions[0])]
    con.close()


def test_resource_details_of_slurm_and_kubernetes(tmp_path: Path, usage_data: Path) -> None:
    store = UsageStore(tmp_path / "usage")
    sacct = ingest_file(usage_data / "sacct.txt", "auto", store)
    prom = ingest_file(usage_data / "dcgm.prom", "auto", store)
    focus = ingest_file(usage_data / "focus_1_0.csv", "auto", store)
    # The Slurm job name is kept; the Kubernetes pod and its container label from DCGM.
    assert {r["resource_name"] for r in rows(store, "job_key = '1001'")} == {
        "pretrain",
        "batch",
        "extern",
        "python",
    }
    pod = rows(store, "job_key = 'team-inf/llm-0'")[0]
    assert pod["resource_name"] == "llm-0" and json.loads(pod["tags"]) == {"container": "server"}
    # Columns NULL in every row of a file are left out of its Parquet file (FOCUS 1.0 sample
    # has no Tags or ResourceName) and read back as NULL through the view.
    names = {
        key: set(pq.read_schema(store.rows_dir / f"{r.content_hash}.parquet").names)
        for key, r in (("sacct", sacct), ("prom", prom), ("focus", focus))
    }
    assert "tags" not in names["sacct"] and "resource_name" in names["sacct"]
    assert {"tags", "resource_name"} <= names["prom"]
    assert {"tags", "resource_name"}.isdisjoint(names["focus"])
    assert "charge_description" in names["focus"]
