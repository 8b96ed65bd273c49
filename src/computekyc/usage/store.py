"""Where ingested usage lives: a Parquet dataset and a DuckDB catalogue in a folder the caller
gives (the service layer: ``$COMPUTEKYC_HOME/usage``).

Layout (one file per ingested source, keyed by the source's content hash):

- ``rows/<hash>.parquet``      normalised usage rows (the dataset both engines read);
- ``rejects/<hash>.parquet``   rejected rows: file, line, reason;
- ``manifest/<hash>.json``     the ingest report; written last, so it marks a finished ingest;
- ``usage.duckdb``             views ``usage`` and ``rejects`` over the Parquet files, for analysts.

Each file is written to ``tmp/`` and renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from computekyc.usage.schema import sql_literal, usage_select


class UsageStore:
    """The usage dataset of one computekyc home."""

    def __init__(self, root: Path, threads: int | None = None) -> None:
        self.root = root
        self.threads = threads  # DuckDB threads; None: one per core
        for sub in ("rows", "rejects", "manifest", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def rows_dir(self) -> Path:
        return self.root / "rows"

    @property
    def rejects_dir(self) -> Path:
        return self.root / "rejects"

    @property
    def rows_glob(self) -> str:
        return str(self.rows_dir / "*.parquet")

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def connect(self, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection set up for this store's data.

        UTC session (naive timestamps in provider files are UTC, never local time); bounded
        memory, spilling to ``tmp/``; no progress bar, which would write into --json output;
        ``threads`` threads when set (``$COMPUTEKYC_THREADS``, passed in)."""
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = {sql_literal(str(self.tmp_dir))}")
        con.execute("SET enable_progress_bar = false")
        if self.threads is not None:
            con.execute(f"SET threads = {self.threads}")
        return con

    def has_rows(self) -> bool:
        return any(self.rows_dir.glob("*.parquet"))

    def manifest(self, key: str) -> dict[str, Any] | None:
        path = self.root / "manifest" / f"{key}.json"
        if not path.exists():
            return None
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded

    def manifests(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted((self.root / "manifest").glob("*.json"))]

    def tmp_path(self, key: str, kind: str) -> Path:
        return self.tmp_dir / f"{key}.{kind}.parquet"

    def publish(self, tmp: Path, kind: str, key: str) -> Path:
        """Move a finished temp file into ``rows``/``rejects`` atomically."""
        final = self.root / kind / f"{key}.parquet"
        os.replace(tmp, final)
        return final

    def write_manifest(self, key: str, report: dict[str, Any]) -> None:
        tmp = self.tmp_dir / f"{key}.json"
        tmp.write_text(json.dumps(report, indent=2, sort_keys=True))
        os.replace(tmp, self.root / "manifest" / f"{key}.json")

    def create_usage_view(self, con: duckdb.DuckDBPyConnection) -> bool:
        """View ``usage`` on ``con``: every usage column, NULL where a rows file leaves one out;
        False when nothing is ingested yet."""
        if not self.has_rows():
            return False
        source = f"read_parquet({sql_literal(self.rows_glob)}, union_by_name = true)"
        present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        con.execute(f"CREATE OR REPLACE VIEW usage AS SELECT {usage_select(present)} FROM {source}")
        return True

    def refresh_catalogue(self) -> None:
        """(Re)create the views ``usage`` and ``rejects`` in ``usage.duckdb``, the database
        analysts open."""
        con = duckdb.connect(str(self.root / "usage.duckdb"))
        try:
            self.create_usage_view(con)
            if any(self.rejects_dir.glob("*.parquet")):
                glob = sql_literal(str(self.rejects_dir / "*.parquet"))
                con.execute(f"CREATE OR REPLACE VIEW rejects AS SELECT * FROM read_parquet({glob})")
        finally:
            con.close()


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (streamed), the key that makes ingestion idempotent."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
