"""The chip catalogue's value types: a chip, an allocation of chips, a classification.

Everything a classification rests on (TPP, performance density) is *derived* here from the
catalogue's raw figures, so no ECCN is ever typed into the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from computekyc.exc import InputError

# Bit length of the multiply's inputs, per precision (Technical Note 1 to 3A090: "bit length of
# the operation" = the largest input bit length). TF32 inputs are carried in 32-bit registers; on
# every catalogued chip TF32 x 32 ties the 16-bit figure, so the choice never changes the max.
PRECISION_BITS: dict[str, int] = {
    "fp64": 64,
    "fp32": 32,
    "tf32": 32,
    "bf16": 16,
    "fp16": 16,
    "fp8": 8,
    "int8": 8,
    "fp4": 4,
    "int4": 4,
}

# Order used to break TPP ties (the TPP is the same either way): 8- then 16-bit first, the figures
# datasheets and regulatory.md quote (H100 "FP8 1,978.9 TF", A100 "INT8 624"), so reasons match.
TPP_TIE_ORDER: tuple[str, ...] = (
    *("fp8", "int8", "fp16", "bf16"),
    *("fp4", "int4", "tf32", "fp32", "fp64"),
)

# Precisions a chip lacking BF16 can substitute, for accounting only (pre-Ampere parts run the
# same tensor path in FP16).
_ACCOUNTING_FALLBACK: dict[str, str] = {"bf16": "fp16"}

HardwareKind = Literal["chip", "instance_type", "k8s_label", "gres", "dcgm_model"]


class UnknownHardware(InputError, LookupError):
    """A name that is not a catalogued chip, instance type, label, gres type or DCGM model."""


@dataclass(frozen=True)
class Chip:
    """One accelerator SKU with its published figures and where each figure comes from."""

    id: str
    vendor: str
    name: str
    dense_tops: dict[str, float]
    die_area_mm2: float | None
    memory_bandwidth_gbps: float | None
    interconnect_bandwidth_gbps: float | None
    datacenter: bool
    sources: dict[str, str]
    designed_in: str = "US"
    aliases: tuple[str, ...] = ()
    notes: str = ""
    # Filled by the catalogue loader: dense BF16 ops/s of the H100 SXM reference chip.
    reference_bf16_ops: float = field(default=0.0, compare=False, repr=False)

    def __hash__(self) -> int:
        # Chips are keyed by their catalogue id (the figure dicts are not hashable).
        return hash(self.id)

    @property
    def tpp_precision(self) -> str:
        """The precision that gives the highest TPP (the one 3A090 uses)."""
        best = ""
        best_tpp = -1.0
        for precision in TPP_TIE_ORDER:
            if precision in self.dense_tops:
                value = self.dense_tops[precision] * PRECISION_BITS[precision]
                if value > best_tpp:
                    best, best_tpp = precision, value
        return best

    @property
    def bit_length_for_tpp(self) -> int:
        return PRECISION_BITS[self.tpp_precision]

    @property
    def tpp(self) -> float:
        """TPP = 2 x MacTOPS x bit length = dense TOPS x bit length, max over precisions."""
        return self.dense_tops[self.tpp_precision] * self.bit_length_for_tpp

    @property
    def performance_density(self) -> float | None:
        """TPP / applicable die area; None when the die area is not published."""
        if not self.die_area_mm2:
            return None
        return self.tpp / self.die_area_mm2

    def peak_ops_per_second(self, precision: str = "bf16") -> float:
        """Dense peak operations per second at ``precision`` (TOPS x 1e12)."""
        key = precision.lower()
        if key not in self.dense_tops and key in _ACCOUNTING_FALLBACK:
            key = _ACCOUNTING_FALLBACK[key]
        if key not in self.dense_tops:
            known = ", ".join(sorted(self.dense_tops))
            raise ValueError(f"{self.id} has no dense {precision} figure (has: {known})")
        return self.dense_tops[key] * 1e12

    @property
    def h100_equivalents(self) -> float:
        """Dense BF16 throughput relative to one H100 SXM (for compute accounting)."""
        if self.reference_bf16_ops <= 0:
            raise ValueError("chip was not loaded from the catalogue: no H100 reference figure")
        return self.peak_ops_per_second("bf16") / self.reference_bf16_ops


@dataclass(frozen=True)
class Allocation:
    """What a provider sees, resolved: ``count`` chips of ``chip``."""

    chip: Chip
    count: int
    matched: str
    kind: HardwareKind
    source: str = ""  # where the name -> chip/count mapping comes from (provider spec page)


@dataclass(frozen=True)
class Classification:
    """An ECCN determination for one chip (per IC) on a date, with the numbers behind it."""

    chip_id: str
    count: int
    as_of: date
    tpp: float
    performance_density: float | None
    memory_bandwidth_gbps: float | None
    eccn: str | None
    system_eccn: str | None
    flags: list[str]
    reasons: list[str]
    rule_version: str
