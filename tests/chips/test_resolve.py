"""Resolving instance types, k8s labels, Slurm gres names and DCGM models to chip + count."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from computekyc.chips import UnknownHardware, assumed_chip, catalogue, known_names, resolve
from computekyc.chips.catalogue import read_data_file

REQUIRED_CHIPS = (
    "H100 SXM",
    "H100 PCIe",
    "H800",
    "H20",
    "H200",
    "B200",
    "B300",
    "GB300",
    "A100",
    "A800",
    "L40S",
    "L20",
    "RTX 4090",
    "RTX 4090D",
    "MI250X",
    "MI300X",
    "MI308X",
    "MI325X",
    "Gaudi 2",
    "Gaudi 3",
    "Ascend 910B",
    "Ascend 910C",
)


@pytest.mark.parametrize("name", REQUIRED_CHIPS)
def test_issue_chip_list_is_catalogued(name: str) -> None:
    allocation = resolve(name)
    assert allocation.kind == "chip" and allocation.count == 1


@pytest.mark.parametrize(
    ("name", "chip", "count", "kind"),
    [
        ("p4d.24xlarge", "A100-SXM-40GB", 8, "instance_type"),
        ("p4de.24xlarge", "A100-SXM", 8, "instance_type"),
        ("p5.48xlarge", "H100-SXM", 8, "instance_type"),
        ("p5e.48xlarge", "H200", 8, "instance_type"),
        ("p5en.48xlarge", "H200", 8, "instance_type"),
        ("p6-b200.48xlarge", "B200", 8, "instance_type"),
        ("p6e-gb200.36xlarge", "GB200", 4, "instance_type"),
        ("g5.48xlarge", "A10G", 8, "instance_type"),
        ("g6e.12xlarge", "L40S", 4, "instance_type"),
        ("g4dn.xlarge", "T4", 1, "instance_type"),
        ("ml.p5.48xlarge", "H100-SXM", 8, "instance_type"),
        ("Standard_ND96isr_H100_v5", "H100-SXM", 8, "instance_type"),
        ("ND96isr_H100_v5", "H100-SXM", 8, "instance_type"),
        ("standard_nc24ads_a100_v4", "A100-PCIe", 1, "instance_type"),
        ("Standard_ND96isr_MI300X_v5", "MI300X", 8, "instance_type"),
        ("a2-ultragpu-8g", "A100-SXM", 8, "instance_type"),
        ("a3-megagpu-8g", "H100-SXM", 8, "instance_type"),
        ("a3-ultragpu-8g", "H200", 8, "instance_type"),
        ("a4-highgpu-8g", "B200", 8, "instance_type"),
        ("g2-standard-96", "L4", 8, "instance_type"),
        ("NVIDIA-H100-80GB-HBM3", "H100-SXM", 1, "k8s_label"),
        ("nvidia.com/gpu.product=NVIDIA-A100-SXM4-40GB-SHARED", "A100-SXM-40GB", 1, "k8s_label"),
        ("NVIDIA-GeForce-RTX-4090-D", "RTX-4090D", 1, "k8s_label"),
        ("NVIDIA H100 80GB HBM3", "H100-SXM", 1, "dcgm_model"),
        ("NVIDIA A100-SXM4-80GB", "A100-SXM", 1, "dcgm_model"),
        ("Tesla T4", "T4", 1, "dcgm_model"),
        ("gres/gpu:h100", "H100-SXM", 1, "gres"),
        ("gres/gpu:h100=8", "H100-SXM", 8, "gres"),
        ("gres/gpu:a100-sxm4-80gb=4", "A100-SXM", 4, "gres"),
        ("gpu:mi300x:8", "MI300X", 8, "gres"),
        ("gres/gpu:H800", "H800", 1, "gres"),
        ("8x H100", "H100-SXM", 8, "chip"),
    ],
)
def test_resolve(name: str, chip: str, count: int, kind: str) -> None:
    allocation = resolve(name)
    assert (allocation.chip.id, allocation.count, allocation.kind) == (chip, count, kind)


def test_every_mapped_name_resolves_to_its_own_kind() -> None:
    for kind, names in known_names().items():
        for name in names:
            assert resolve(name).kind == kind, name


def test_allocation_carries_its_source() -> None:
    assert resolve("p5.48xlarge").source.startswith("https://aws.amazon.com/ec2/instance-types/p5")
    assert "GPU Feature Discovery" in resolve("NVIDIA-H100-80GB-HBM3").source


def test_instance_counts_are_sourced() -> None:
    for family in read_data_file("hardware_names.yaml")["instance_types"]:
        assert family["source"].startswith("https://"), family
        assert all(spec["count"] >= 1 for spec in family["types"].values())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("GPU-series-1", "not a catalogued chip, cloud instance type"),
        ("p9.48xlarge", "unknown hardware 'p9.48xlarge'"),
        ("gres/gpu:zz9", "unknown Slurm GRES type 'zz9'"),
        ("gres/gpu:1g.10gb", "MIG slice"),
        ("nvidia.com/mig-3g.40gb", "MIG profile"),
    ],
)
def test_unknown_names_refused_with_reason(name: str, message: str) -> None:
    with pytest.raises(UnknownHardware, match=message):
        resolve(name)


def _models(path: Path, column: str) -> set[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def test_alibaba_trace_gpu_models(shared: Path) -> None:
    """Real node inventories: disclosed models resolve; Alibaba's anonymised codes are refused."""
    usage = shared / "data" / "usage" / "alibaba"
    models = _models(usage / "v2026_spot_gpu_nodes.csv", "gpu_model") | _models(
        usage / "v2023_gpu_nodes.csv", "model"
    )
    resolved = {}
    refused = set()
    for model in models:
        try:
            resolved[model] = resolve(model).chip.id
        except UnknownHardware as exc:
            assert model in str(exc)
            refused.add(model)
    assert resolved["H800"] == "H800" and resolved["A800-SXM4-80GB"] == "A800-SXM"
    assert resolved["A100-SXM4-80GB"] == "A100-SXM" and resolved["V100M32"] == "V100-SXM2"
    assert {"T4", "P100", "A10", "V100M16"} <= set(resolved)
    # G1/G2/G3 and GPU-series-N are undisclosed internal codes (v2023 README): never guessed.
    assert refused == {m for m in models if m.startswith(("G", "GPU-series"))}


def test_catalogue_sources_cover_every_figure() -> None:
    for chip in catalogue().values():
        assert chip.sources.get("dense_tops"), chip.id
        if chip.die_area_mm2 is not None:
            assert chip.sources.get("die_area_mm2"), chip.id
        if chip.memory_bandwidth_gbps is not None:
            assert chip.sources.get("memory_bandwidth_gbps"), chip.id


@pytest.mark.parametrize(
    ("name", "chip", "count"),
    [
        ("trn2.48xlarge", "Trainium2", 16),
        ("trn1.32xlarge", "Trainium", 16),
        ("inf2.48xlarge", "Inferentia2", 12),
        ("ct5p-hightpu-4t", "TPUv5p", 4),
        ("ct6e-standard-8t", "TPUv6e", 8),
        ("ct5lp-hightpu-4t", "TPUv5e", 4),
        ("ND H100 v5", "H100-SXM", 8),
        ("ND MI300X v5", "MI300X", 8),
        ("BM.GPU.MI355X.8", "MI355X", 8),
        ("gx3d-160x1792x8gaudi3", "Gaudi3", 8),
        ("p4d.24xlarge", "A100-SXM-40GB", 8),
        ("a2-highgpu-8g", "A100-SXM-40GB", 8),
        ("a2-ultragpu-8g", "A100-SXM", 8),
        ("NVIDIA H200 NVL", "H200-NVL", 1),
        ("NVIDIA-GeForce-RTX-5090", "RTX-5090", 1),
        ("NVIDIA RTX 6000 Ada Generation", "RTX-6000-Ada", 1),
        ("nvidia.com/gpu.product=NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition", "RTX-PRO-6000", 1),
        ("NVIDIA A100-PCIE-40GB", "A100-PCIe-40GB", 1),
        ("gres/gpu:b100=8", "B100", 8),
        ("tpu-v5-lite-podslice", "TPUv5e", 1),
        ("Ascend 910", "Ascend910", 1),
        ("HL-388", "Gaudi3-HL388", 1),
    ],
)
def test_new_names_resolve(name: str, chip: str, count: int) -> None:
    allocation = resolve(name)
    assert (allocation.chip.id, allocation.count) == (chip, count)


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("H1OO", "H100 SXM"),
        ("MI355", "MI355X"),
        ("trn2.48xlarg", "trn2.48xlarge"),
        ("Trainium 2", "Trainium2"),
    ],
)
def test_unknown_names_suggest_the_closest(name: str, closest: str) -> None:
    with pytest.raises(UnknownHardware) as caught:
        resolve(name)
    assert closest in caught.value.suggestions[:3], caught.value.suggestions
    assert f"closest known names: {caught.value.suggestions[0]}" in str(caught.value)
    # One suggestion per chip or instance type: aliases of one chip are not repeated.
    assert len(caught.value.suggestions) == len(set(caught.value.suggestions)) <= 5


def test_nonsense_gets_no_suggestions() -> None:
    with pytest.raises(UnknownHardware) as caught:
        resolve("zzqx")
    assert caught.value.suggestions == () and "closest" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "vendor_class", "counted_as"),
    [
        ("MI455X", "amd-instinct", "MI355X"),
        ("Gaudi 4", "intel-gaudi", "Gaudi3"),
        ("trn3.48xlarge", "aws-neuron", "H100-SXM"),  # no AWS chip beats the floor
        ("tpu7x", "google-tpu", "H100-SXM"),
        ("Ascend 950PR", "huawei-ascend", "H100-SXM"),
        ("p7.48xlarge", "nvidia", None),  # the most capable catalogued NVIDIA part
        ("zz9.mystery", None, "H100-SXM"),
    ],
)
def test_unknown_names_are_counted_at_their_vendor_class(
    name: str, vendor_class: str | None, counted_as: str | None
) -> None:
    assumed = assumed_chip(name)
    assert assumed.vendor_class == vendor_class
    if counted_as:
        assert assumed.chip.id == counted_as
    floor = catalogue()["H100-SXM"]
    assert assumed.chip.training_ops_per_second >= floor.training_ops_per_second
    if vendor_class:
        best = max(
            (c for c in catalogue().values() if c.vendor == assumed.chip.vendor and c.tpp_known),
            key=lambda c: c.training_ops_per_second,
        )
        if assumed.chip.id != "H100-SXM":
            assert assumed.chip.training_ops_per_second == best.training_ops_per_second
    assert assumed.chip.id in assumed.reason
