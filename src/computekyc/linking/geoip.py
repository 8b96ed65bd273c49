"""Offline IP → country from Tor's geoip files (the IPFire Location database, as shipped in
Debian's ``tor-geoipdb``): lines ``first,last,CC``, IPv4 as integers, IPv6 as addresses.

The database is found from, in order: the folder the caller names (``--geoip DIR``, else the
settings' ``geoip_dir`` from ``$COMPUTEKYC_GEOIP_DIR``), Debian's ``/usr/share/tor/geoip`` +
``geoip6``. Every signal built on it states which files and which generation date it used,
because IP allocations move and an analyst must be able to reproduce it.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import socket
from array import array
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from computekyc.exc import StateError
from computekyc.settings import GEOIP_ENV

DEBIAN_V4 = Path("/usr/share/tor/geoip")
DEBIAN_V6 = Path("/usr/share/tor/geoip6")
_GENERATED = re.compile(r"^#\s*Generated:\s*(.+?)\s*$")
_VENDOR = re.compile(r"^#\s*Vendor:\s*(.+?)\s*$")


class GeoIPNotFound(StateError, FileNotFoundError):
    pass


def _candidates(directory: Path) -> tuple[Path, Path]:
    """A folder holds either the shared names (ipfire_geoip_v4/_v6) or Tor's (geoip/geoip6)."""
    for v4, v6 in (("ipfire_geoip_v4", "ipfire_geoip_v6"), ("geoip", "geoip6")):
        if (directory / v4).is_file():
            return directory / v4, directory / v6
    raise GeoIPNotFound(f"no geoip database in {directory} (expected ipfire_geoip_v4 or geoip)")


def locate(directory: Path | str | None = None) -> tuple[Path, Path]:
    """The (v4, v6) files: the folder given (the caller's option or settings), else Debian's
    tor paths."""
    if directory is not None:
        return _candidates(Path(directory))
    if DEBIAN_V4.is_file():
        return DEBIAN_V4, DEBIAN_V6
    raise GeoIPNotFound(
        f"no IP→country database: pass --geoip DIR, set ${GEOIP_ENV}, "
        "or install Debian's tor-geoipdb (/usr/share/tor/geoip)"
    )


@dataclass(frozen=True, slots=True)
class GeoIPSource:
    """What an analyst needs to reproduce a lookup."""

    v4_path: str
    v6_path: str
    vendor: str
    generated: str  # ISO date of the database export

    def describe(self) -> dict[str, str]:
        return {
            "database": f"{self.vendor} Location (Tor geoip format)",
            "generated": self.generated,
            "files": f"{self.v4_path}, {self.v6_path}",
        }


def _header(path: Path) -> tuple[str, str]:
    vendor, generated = "unknown", "unknown"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            if m := _GENERATED.match(line):
                try:
                    stamp = datetime.strptime(m[1], "%a, %d %b %Y %H:%M:%S %Z")
                    generated = stamp.date().isoformat()
                except ValueError:
                    generated = m[1]
            elif m := _VENDOR.match(line):
                vendor = m[1]
    return vendor, generated


class GeoIP:
    """Range lookups by binary search over the sorted ``first`` column."""

    def __init__(self, v4_path: Path, v6_path: Path) -> None:
        vendor, generated = _header(v4_path)
        self.source = GeoIPSource(str(v4_path), str(v6_path), vendor, generated)
        self._v4_path, self._v6_path = v4_path, v6_path
        self._v4: tuple[array[int], array[int], list[str]] | None = None
        self._v6: tuple[list[int], list[int], list[str]] | None = None

    def _load_v4(self) -> tuple[array[int], array[int], list[str]]:
        if self._v4 is None:
            firsts, lasts, ccs = array("Q"), array("Q"), []
            with self._v4_path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("#") or not line.strip():
                        continue
                    a, b, cc = line.rstrip("\n").split(",")
                    firsts.append(int(a))
                    lasts.append(int(b))
                    ccs.append(cc)
            self._v4 = (firsts, lasts, ccs)
        return self._v4

    def _load_v6(self) -> tuple[list[int], list[int], list[str]]:
        if self._v6 is None:
            firsts: list[int] = []
            lasts: list[int] = []
            ccs: list[str] = []
            if self._v6_path.is_file():
                with self._v6_path.open(encoding="utf-8") as handle:
                    for line in handle:
                        if line.startswith("#") or not line.strip():
                            continue
                        a, b, cc = line.rstrip("\n").split(",")
                        firsts.append(int(ipaddress.IPv6Address(a)))
                        lasts.append(int(ipaddress.IPv6Address(b)))
                        ccs.append(cc)
            self._v6 = (firsts, lasts, ccs)
        return self._v6

    def country(self, ip: str) -> str | None:
        """ISO alpha-2 of the range holding ``ip``; None when unknown, reserved or ``??``."""
        # Fast path for dotted IPv4 (the common case): inet_pton is strict (four decimal parts,
        # no leading zeros) and ~10x faster than ipaddress; anything else falls through to it.
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
        except (OSError, ValueError):
            pass
        else:
            firsts, lasts, ccs = self._v4 or self._load_v4()
            i = bisect.bisect_right(firsts, value) - 1
            if i < 0 or value > lasts[i] or ccs[i] == "??":
                return None
            return ccs[i]
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        value = int(address)
        if address.version == 4:
            firsts, lasts, ccs = self._load_v4()
            i = bisect.bisect_right(firsts, value) - 1
            hit = i >= 0 and value <= lasts[i]
        else:
            firsts6, lasts6, ccs = self._load_v6()
            i = bisect.bisect_right(firsts6, value) - 1
            hit = i >= 0 and value <= lasts6[i]
        if not hit or ccs[i] == "??":
            return None
        return ccs[i]


@lru_cache(maxsize=4)
def _open(v4: Path, v6: Path) -> GeoIP:
    return GeoIP(v4, v6)


def open_geoip(directory: Path | str | None = None) -> GeoIP:
    """The process-wide reader for the located database (parsed once, lazily per family)."""
    return _open(*locate(directory))
