"""Generate realistic provider usage files in all four formats, with planted training runs.

Shapes come from the real traces in ``shared/data/usage``: Slurm job GPU counts and durations from
the Alibaba 2023 pod trace, per-job GPU utilisation from the Lucid training profiles, and the size
cap of a training job from the Acme cluster summary (largest LLM job). On top of that background
the generator plants large training runs whose ground truth is written to ``truth.json``.
Seeded: the same seed and scale give byte-identical files.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from computekyc.exc import ConfigError, OptionError, StateError
from computekyc.usage.readers import DCGM_COLUMNS

START = datetime(2025, 3, 3, tzinfo=UTC)
# Background workload multiplier: beyond this the files no longer fit a test machine.
_MAX_SCALE = 1000.0
DAYS = 14
HOUR = 3600

FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "EffectiveCost",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ResourceId",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceDetails",
    "SubAccountId",
    "SubAccountName",
    "x_Operation",
)

SACCT_COLUMNS = (
    "JobID",
    "JobIDRaw",
    "JobName",
    "Account",
    "User",
    "Partition",
    "AllocTRES",
    "AllocNodes",
    "NNodes",
    "NodeList",
    "Start",
    "End",
    "Elapsed",
    "ElapsedRaw",
    "State",
    "TRESUsageInAve",
    "Cluster",
)


H100_MODEL = "NVIDIA H100 80GB HBM3"


@dataclass(frozen=True)
class PlantedRun:
    """Ground truth for one planted run."""

    account: str
    source: str
    cls: str
    gpus: int
    chip: str
    start: str
    end: str
    in_progress: bool


@dataclass(frozen=True)
class Profiles:
    """Real distributions the generator samples from."""

    job_gpus: list[int]
    job_seconds: list[int]
    train_util: list[float]
    max_job_gpus: int


def checkout_shared() -> Path:
    """The public data folder beside a source checkout (``shared`` next to the repository)."""
    return Path(__file__).resolve().parents[3].parent / "shared"


def load_profiles(shared: Path | None = None) -> Profiles:
    """Job sizes/durations (Alibaba 2023 pods), utilisation (Lucid), size cap (Acme), from
    ``shared`` (the settings' ``shared_dir``, ``$COMPUTEKYC_SHARED``) or :func:`checkout_shared`."""
    usage = (shared or checkout_shared()) / "data" / "usage"
    if not (usage / "alibaba").is_dir():  # e.g. installed from a wheel, away from the checkout
        raise StateError(f"the public usage traces are not at {usage}: set $COMPUTEKYC_SHARED")
    gpus: list[int] = []
    seconds: list[int] = []
    with (usage / "alibaba" / "v2023_pods_default.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            n = int(row["num_gpu"] or 0)
            if n < 1 or not row["deletion_time"] or not row["scheduled_time"]:
                continue
            span = int(row["deletion_time"]) - int(row["scheduled_time"])
            if span > 0:
                gpus.append(n)
                seconds.append(span)
    with (usage / "lucid" / "model_gpu_profiles.csv").open(newline="") as fh:
        util = [float(r["gpu_util"]) / 100.0 for r in csv.DictReader(fh)]
    with (usage / "acme" / "cluster_summary.csv").open(newline="") as fh:
        cap = max(int(float(r["max_gpu"])) for r in csv.DictReader(fh) if r["max_gpu"])
    return Profiles(gpus, seconds, util, cap)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _elapsed(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    core = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{core}" if days else core


class _Writer:
    """Keeps every generated row list plus the ground truth in one place."""

    def __init__(self, rng: random.Random, profiles: Profiles) -> None:
        self.rng = rng
        self.profiles = profiles
        self.focus: list[list[str]] = []
        self.cur: list[dict[str, object]] = []
        self.sacct: list[list[str]] = []
        self.dcgm: list[list[str]] = []
        self.truth: list[PlantedRun] = []
        self.job_id = 5000

    # FOCUS ---------------------------------------------------------------------------------
    def focus_instance(
        self, account: str, resource: str, itype: str, gpus: int, start: datetime, hours: int
    ) -> None:
        sku = json.dumps({"GpuCount": gpus, "InstanceType": itype, "x_Tenancy": "shared"})
        for h in range(hours):
            t0 = start + timedelta(hours=h)
            cost = f"{gpus * 2.1:.2f}"
            self.focus.append(
                [
                    cost,
                    "BA-9000",
                    "Neocloud Reseller LLC",
                    "USD",
                    _ts(START + timedelta(days=31)),
                    _ts(START),
                    "Usage",
                    f"{itype} on-demand",
                    _ts(t0 + timedelta(hours=1)),
                    _ts(t0),
                    "1",
                    "Hours",
                    cost,
                    cost,
                    "Neocloud",
                    "Neocloud",
                    "us-central",
                    resource,
                    "Virtual Machine",
                    "Compute",
                    "GPU Cloud",
                    f"SKU-{itype}",
                    sku,
                    account,
                    f"{account} workspace",
                    "RunInstances",
                ]
            )

    # CUR -----------------------------------------------------------------------------------
    def cur_instance(
        self, account: str, resource: str, itype: str, gpus: int, start: datetime, hours: int
    ) -> None:
        for h in range(hours):
            t0 = start + timedelta(hours=h)
            self.cur.append(
                {
                    "identity_line_item_id": f"li-{len(self.cur):08d}",
                    "identity_time_interval": f"{_ts(t0)}/{_ts(t0 + timedelta(hours=1))}",
                    "bill_payer_account_id": "999900001111",
                    "line_item_usage_account_id": account,
                    "line_item_line_item_type": "Usage",
                    "line_item_usage_start_date": t0,
                    "line_item_usage_end_date": t0 + timedelta(hours=1),
                    "line_item_product_code": "AmazonEC2",
                    "line_item_usage_type": f"USE1-BoxUsage:{itype}",
                    "line_item_resource_id": resource,
                    "line_item_usage_amount": 1.0,
                    "line_item_unblended_cost": round(gpus * 3.9, 4),
                    "line_item_iam_principal": f"arn:aws:iam::{account}:role/ml",
                    "product_instance_type": itype,
                    "product_region_code": "us-east-1",
                    "pricing_term": "OnDemand",
                    "product": [("gpu", str(gpus)), ("region", "us-east-1")],
                }
            )

    # Slurm + DCGM --------------------------------------------------------------------------
    def slurm_job(
        self,
        account: str,
        gpus: int,
        gres: str,
        start: datetime,
        seconds: int,
        util: float,
        running: bool = False,
    ) -> str:
        self.job_id += 1
        job = str(self.job_id)
        nodes = max(1, math.ceil(gpus / 8))
        nodelist = f"gpu[{self.job_id % 900:03d}-{self.job_id % 900 + nodes - 1:03d}]"
        end = "Unknown" if running else start.strftime("%Y-%m-%dT%H:%M:%S")
        if not running:
            end = (start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
        tres = (
            f"billing={gpus * 8},cpu={gpus * 8},gres/gpu={gpus},gres/gpu:{gres}={gpus},node={nodes}"
        )
        common = [account, f"u-{account}", "gpu", tres, str(nodes), str(nodes), nodelist]
        when = [start.strftime("%Y-%m-%dT%H:%M:%S"), end, _elapsed(seconds), str(seconds)]
        state = "RUNNING" if running else "COMPLETED"
        self.sacct.append([job, job, "job", *common, *when, state, "", "clusterA"])
        usage = f"cpu=01:00:00,gres/gpumem=60000M,gres/gpuutil={round(util * 100)},mem=10G"
        self.sacct.append(
            [f"{job}.0", f"{job}.0", "python", *common, *when, state, usage, "clusterA"]
        )
        return job

    def dcgm_series(
        self,
        host: str,
        gpu_index: int,
        start: datetime,
        hours: int,
        tensor: float,
        util: float,
        *,
        job: str = "",
        namespace: str = "",
        pod: str = "",
        bursty: bool = False,
        link: float = 0.0,
    ) -> None:
        uuid = f"GPU-{host}-{gpu_index}"
        for h in range(hours):
            t = _ts(start + timedelta(hours=h))
            wobble = 0.5 + 0.5 * math.sin(2 * math.pi * h / 24) if bursty else 1.0
            values = {
                "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": round(tensor * wobble, 4),
                "DCGM_FI_DEV_GPU_UTIL": round(min(100.0, util * 100 * wobble), 1),
                "DCGM_FI_DEV_FB_USED": 72000 if not bursty else 41000,
                "DCGM_FI_DEV_FB_FREE": 9000 if not bursty else 40000,
                "DCGM_FI_DEV_POWER_USAGE": round(650 * (0.6 + 0.4 * util * wobble), 1),
            }
            if link:
                values["DCGM_FI_PROF_NVLINK_TX_BYTES"] = link * (1 + 0.3 * ((h % 3) - 1))
            for metric, value in values.items():
                self.dcgm.append(
                    [
                        t,
                        metric,
                        f"{value}",
                        str(gpu_index),
                        uuid,
                        host,
                        H100_MODEL,
                        namespace,
                        pod,
                        "main" if pod else "",
                        job,
                    ]
                )


def _plant(w: _Writer, scale: float) -> None:
    rng = w.rng
    cap = w.profiles.max_job_gpus
    end_all = START + timedelta(days=DAYS)
    # Billing data only (no telemetry): a steady gang of H100 instances in FOCUS, and a steady
    # p5 cluster in a CUR linked account behind a payer (the reseller pattern).
    billing = (
        ("acct-frontier-1", "focus", w.focus_instance, "vm-ft1-", [8, 16, 32], (1, 3), (3, 6)),
        ("444455556666", "cur", w.cur_instance, "i-0train", [8, 12, 16], (4, 7), (2, 4)),
    )
    for account, source, write, prefix, sizes, first_day, days in billing:
        n = rng.choice(sizes)
        start = START + timedelta(days=rng.randint(*first_day))
        if source == "focus":  # FOCUS runs start at any hour of the day
            start += timedelta(hours=rng.randint(0, 23))
        hours = rng.randint(*days) * 24
        for i in range(n):
            write(account, f"{prefix}{i:04d}", "p5.48xlarge", 8, start, hours)
        end = start + timedelta(hours=hours)
        w.truth.append(
            PlantedRun(account, source, "training", n * 8, "H100-SXM", _ts(start), _ts(end), False)
        )
    # Slurm: one big finished job and one still running at the end of the window.
    for account, running in (("lab-llm", False), ("lab-frontier", True)):
        gpus = min(cap, rng.choice([256, 512, 1024]))
        if running:
            start = end_all - timedelta(days=rng.randint(4, 6))
            seconds = int((end_all - start).total_seconds())
        else:
            start = START + timedelta(days=rng.randint(2, 5))
            seconds = rng.randint(3, 6) * 86400
        util = rng.uniform(0.9, 0.99)
        job = w.slurm_job(account, gpus, "h100", start, seconds, util, running=running)
        tensor = rng.uniform(0.35, 0.55)
        for g in range(8):  # telemetry from the first node is enough to characterise the job
            w.dcgm_series(
                f"gpu{int(job) % 900:03d}",
                g,
                start,
                seconds // HOUR,
                tensor,
                util,
                job=job,
                link=4.0e10,
            )
        w.truth.append(
            PlantedRun(
                account,
                "sacct",
                "training",
                gpus,
                "H100-SXM",
                _ts(start),
                _ts(start + timedelta(seconds=seconds)),
                running,
            )
        )
    del scale


def _background(w: _Writer, scale: float) -> None:
    rng = w.rng
    profiles = w.profiles
    end_all = START + timedelta(days=DAYS)
    # Inference fleets (FOCUS and CUR): replicas following a daily load curve.
    fleets = max(2, round(6 * scale))
    for f in range(fleets):
        account = f"acct-serve-{f:02d}"
        itype, gpus = rng.choice([("g6.xlarge", 1), ("g5.12xlarge", 4), ("p5.48xlarge", 8)])
        base = rng.randint(2, 8)
        for h in range(DAYS * 24):
            load = 0.55 + 0.45 * math.sin(2 * math.pi * (h % 24) / 24)
            replicas = max(1, round(base * load))
            for r in range(replicas):
                t0 = START + timedelta(hours=h)
                target = w.focus_instance if f % 2 == 0 else w.cur_instance
                acct = account if f % 2 == 0 else f"7777{f:08d}"
                target(acct, f"{acct}-r{r}", itype, gpus, t0, 1)
        if f % 2 == 1:
            w.truth.append(
                PlantedRun(f"7777{f:08d}", "cur", "inference", base * gpus, "", "", "", False)
            )
        else:
            w.truth.append(
                PlantedRun(account, "focus", "inference", base * gpus, "", "", "", False)
            )
    # Slurm labs: job sizes and durations resampled from the Alibaba 2023 pod trace, GPU
    # utilisation from the Lucid profiles.
    labs = max(2, round(8 * scale))
    for lab in range(labs):
        account = f"lab-{lab:02d}"
        for _ in range(max(1, round(30 * scale))):
            i = rng.randrange(len(profiles.job_gpus))
            gpus = profiles.job_gpus[i]
            seconds = max(60, min(profiles.job_seconds[i], 2 * 86400))
            start = START + timedelta(seconds=rng.randrange(DAYS * 86400 - seconds))
            util = rng.choice(profiles.train_util)
            w.slurm_job(account, gpus, rng.choice(["a100", "h100", "l4"]), start, seconds, util)
    # Kubernetes inference pods with bursty tensor use, and a namespace mining on H100s.
    for p in range(max(1, round(3 * scale))):
        start = START + timedelta(days=rng.randint(0, 3))
        for g in range(2):
            w.dcgm_series(
                f"k8s-{p}",
                g,
                start,
                48,
                0.18,
                0.6,
                namespace="team-chat",
                pod=f"vllm-{p}",
                bursty=True,
            )
    miner_start = end_all - timedelta(days=5)
    for g in range(8):
        w.dcgm_series("rig-01", g, miner_start, 72, 0.0, 1.0, namespace="crypto-x", pod="xmr-0")
    w.truth.append(
        PlantedRun(
            "crypto-x",
            "dcgm",
            "other",
            8,
            "H100-SXM",
            _ts(miner_start),
            _ts(miner_start + timedelta(hours=72)),
            False,
        )
    )


@dataclass(frozen=True)
class Generated:
    files: dict[str, Path]
    truth: list[PlantedRun]


def generate(
    outdir: Path, seed: int = 0, scale: float = 1.0, shared: Path | None = None
) -> Generated:
    """Write focus.csv, cur.parquet, sacct.txt, dcgm.csv and truth.json into ``outdir``."""
    if not (math.isfinite(scale) and 0 <= scale <= _MAX_SCALE):
        raise OptionError(f"scale {scale!r}: give a number from 0 to {_MAX_SCALE:g}")
    if outdir.exists() and not outdir.is_dir():
        raise OptionError(f"{outdir} is a file, not a folder")
    try:
        profiles = load_profiles(shared)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the public traces the generator draws from are missing ({exc.filename}); "
            "set $COMPUTEKYC_SHARED to the shared data folder"
        ) from exc
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"cannot create {outdir}: {exc.strerror}") from exc
    w = _Writer(random.Random(seed), profiles)
    _plant(w, scale)
    _background(w, scale)
    files = {
        "focus": outdir / "focus.csv",
        "cur": outdir / "cur.parquet",
        "sacct": outdir / "sacct.txt",
        "dcgm": outdir / "dcgm.csv",
    }
    with files["focus"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FOCUS_COLUMNS)
        writer.writerows(w.focus)
    with files["sacct"].open("w", newline="") as fh:
        fh.write("|".join(SACCT_COLUMNS) + "\n")
        fh.writelines("|".join(row) + "\n" for row in w.sacct)
    with files["dcgm"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(DCGM_COLUMNS)
        writer.writerows(w.dcgm)
    _write_cur(w.cur, files["cur"])
    truth_path = outdir / "truth.json"
    truth_path.write_text(json.dumps([asdict(t) for t in w.truth], indent=2))
    return Generated(files, w.truth)


def _write_cur(rows: list[dict[str, object]], path: Path) -> None:
    schema = pa.schema(
        [
            ("identity_line_item_id", pa.string()),
            ("identity_time_interval", pa.string()),
            ("bill_payer_account_id", pa.string()),
            ("line_item_usage_account_id", pa.string()),
            ("line_item_line_item_type", pa.string()),
            ("line_item_usage_start_date", pa.timestamp("ms", tz="UTC")),
            ("line_item_usage_end_date", pa.timestamp("ms", tz="UTC")),
            ("line_item_product_code", pa.string()),
            ("line_item_usage_type", pa.string()),
            ("line_item_resource_id", pa.string()),
            ("line_item_usage_amount", pa.float64()),
            ("line_item_unblended_cost", pa.float64()),
            ("line_item_iam_principal", pa.string()),
            ("product_instance_type", pa.string()),
            ("product_region_code", pa.string()),
            ("pricing_term", pa.string()),
            ("product", pa.map_(pa.string(), pa.string())),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
