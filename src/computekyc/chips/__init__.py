"""The accelerator catalogue: chips, what providers call them, and their ECCN classification.

Public API (used by ``usage`` and ``ownership``):

- :class:`Chip`, :func:`catalogue`, :func:`get_chip`
- :func:`resolve` -> :class:`Allocation` (chip + count from an instance type, k8s label, Slurm
  gres name or DCGM modelName); :class:`UnknownHardware` for names it does not know
- :func:`classify` -> :class:`Classification` (3A090.a / 3A090.b / None, 4A090, flags, reasons,
  status controlled / not controlled / review)
- :func:`suggest` (closest known names), :func:`assumed_chip` (the chip an unknown name is
  counted as, by vendor class)
"""

from __future__ import annotations

from computekyc.chips.catalogue import CatalogueError, catalogue, find_chip, get_chip
from computekyc.chips.classes import Assumed, VendorClass, assumed_chip, vendor_class
from computekyc.chips.model import (
    PRECISION_BITS,
    Allocation,
    Chip,
    Classification,
    HardwareKind,
    UnknownHardware,
)
from computekyc.chips.resolve import known_names, resolve, suggest
from computekyc.chips.rules import (
    FLAG_CONSUMER,
    FLAG_GAIN_AI,
    FLAG_GP10,
    FLAG_IS_INFORMED,
    FLAG_JAN_2026,
    FLAG_PD_UNKNOWN,
    FLAG_UNPUBLISHED,
    RULES,
    STATUS_CONTROLLED,
    STATUS_NOT_CONTROLLED,
    STATUS_REVIEW,
    classify,
    rule_in_force,
)

__all__ = [
    "FLAG_CONSUMER",
    "FLAG_GAIN_AI",
    "FLAG_GP10",
    "FLAG_IS_INFORMED",
    "FLAG_JAN_2026",
    "FLAG_PD_UNKNOWN",
    "FLAG_UNPUBLISHED",
    "PRECISION_BITS",
    "RULES",
    "STATUS_CONTROLLED",
    "STATUS_NOT_CONTROLLED",
    "STATUS_REVIEW",
    "Allocation",
    "Assumed",
    "CatalogueError",
    "Chip",
    "Classification",
    "HardwareKind",
    "UnknownHardware",
    "VendorClass",
    "assumed_chip",
    "catalogue",
    "classify",
    "find_chip",
    "get_chip",
    "known_names",
    "resolve",
    "rule_in_force",
    "suggest",
    "vendor_class",
]
