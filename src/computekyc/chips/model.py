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
# the operation" = the largest input bit length). TF32 inputs are carried in 32-bit registers and
# counted at 32 bits (the reading that never under-counts). On NVIDIA and AMD parts TF32 runs at
# half the 16-bit rate, so TF32 x 32 ties the 16-bit figure; AWS Trainium/Inferentia run TF32 at
# the BF16 rate, so there TF32 decides the TPP and the reason line says so.
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

# The precision training is costed at (compute accounting): BF16, which large training runs use,
# else the next one the chip publishes.
TRAINING_PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "tf32", "fp32")

# Precisions a chip lacking BF16 can substitute, for accounting only (pre-Ampere parts run the
# same tensor path in FP16).
_ACCOUNTING_FALLBACK: dict[str, str] = {"bf16": "fp16"}

HardwareKind = Literal["chip", "instance_type", "k8s_label", "gres", "dcgm_model"]


class UnknownHardware(InputError, LookupError):
    """A name that is not a catalogued chip, instance type, label, gres type or DCGM model.

    ``suggestions`` holds the closest known names (best first), also named in the message."""

    def __init__(self, message: str, *, suggestions: tuple[str, ...] = ()) -> None:
        self.suggestions = suggestions
        if suggestions:
            message += "; closest known names: " + ", ".join(suggestions)
        super().__init__(message)


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
    # Figures the vendor has not published (estimates or absent): answers resting on them are
    # `review`, never a clear.
    unpublished: tuple[str, ...] = ()
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
        return PRECISION_BITS[self.tpp_precision] if self.dense_tops else 0

    @property
    def tpp_known(self) -> bool:
        """False when the vendor publishes no dense compute figure (no TPP can be computed)."""
        return bool(self.dense_tops)

    @property
    def tpp(self) -> float:
        """TPP = 2 x MacTOPS x bit length = dense TOPS x bit length, max over precisions.

        0.0 when no compute figure is public: callers check :attr:`tpp_known` first."""
        if not self.dense_tops:
            return 0.0
        return self.dense_tops[self.tpp_precision] * self.bit_length_for_tpp

    @property
    def estimated(self) -> bool:
        """Does any figure rest on an estimate rather than a published number?"""
        return bool(self.unpublished)

    @property
    def performance_density(self) -> float | None:
        """TPP / applicable die area; None when the die area or the TPP is not published."""
        if not self.die_area_mm2 or not self.tpp_known:
            return None
        return self.tpp / self.die_area_mm2

    @property
    def training_precision(self) -> str:
        """The precision training is costed at ("" when the chip publishes none of them)."""
        return next((p for p in TRAINING_PRECISIONS if p in self.dense_tops), "")

    @property
    def training_ops_per_second(self) -> float:
        """Dense ops/s at :attr:`training_precision` (0.0 when no figure is public)."""
        precision = self.training_precision
        return self.dense_tops[precision] * 1e12 if precision else 0.0

    @property
    def peak_precision(self) -> str:
        """The highest-throughput dense precision of 8 bits or more (FP8 where the chip has it):
        the chip's "theoretical maximum" integer or floating-point operations per second."""
        usable = [p for p in TPP_TIE_ORDER if p in self.dense_tops and PRECISION_BITS[p] >= 8]
        if not usable:
            return ""
        return max(usable, key=lambda p: self.dense_tops[p])

    @property
    def peak_dense_ops_per_second(self) -> float:
        """Theoretical maximum dense operations per second, at :attr:`peak_precision`."""
        precision = self.peak_precision
        return self.dense_tops[precision] * 1e12 if precision else 0.0

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
    tpp: float | None
    performance_density: float | None
    memory_bandwidth_gbps: float | None
    eccn: str | None
    system_eccn: str | None
    flags: list[str]
    reasons: list[str]
    rule_version: str
    # controlled | not controlled | review (figures not public or density unknown in the band
    # where it decides: never a clear).
    status: str = "not controlled"
    tpp_known: bool = True
