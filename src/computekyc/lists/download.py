"""Download the current official list files and load them as one snapshot.

Files land in a temporary folder under the downloads folder the caller gives (the service
layer: ``$COMPUTEKYC_HOME/downloads``) laid out like an offline mirror (``csl/``, ``ofac/``,
``un/``); only when every file arrived is the folder loaded (and kept, renamed by date). Any
network failure removes the partial folder and changes nothing.

A mirror URL (``$COMPUTEKYC_LISTS_MIRROR_URL``, passed in by the caller) points the download at
an internal HTTP mirror laid out the same way (base URL + relative path) instead of the
official sites.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from computekyc.exc import StateError
from computekyc.lists.store import ListStore, LoadResult

if TYPE_CHECKING:
    import httpx

_OFAC = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"
OFFICIAL: dict[str, str] = {
    "csl/consolidated.csv": (
        "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv"
    ),
    "ofac/sdn.csv": _OFAC + "SDN.CSV",
    "ofac/alt.csv": _OFAC + "ALT.CSV",
    "ofac/add.csv": _OFAC + "ADD.CSV",
    "ofac/sdn_comments.csv": _OFAC + "SDN_COMMENTS.CSV",
    "ofac/cons_prim.csv": _OFAC + "CONS_PRIM.CSV",
    "ofac/cons_alt.csv": _OFAC + "CONS_ALT.CSV",
    "ofac/cons_add.csv": _OFAC + "CONS_ADD.CSV",
    "ofac/cons_comments.csv": _OFAC + "CONS_COMMENTS.CSV",
    "un/consolidated.xml": "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
}


class DownloadError(StateError, RuntimeError):
    """A list file could not be fetched; nothing was loaded."""


def sources(base: str | None = None) -> dict[str, str]:
    """Relative mirror path → URL: official, or under the mirror URL ``base``."""
    if not base:
        return dict(OFFICIAL)
    return {rel: base.rstrip("/") + "/" + rel for rel in OFFICIAL}


def fetch(
    urls: dict[str, str],
    target: Path,
    timeout: float = 60.0,
    show_progress: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> list[Path]:
    """Fetch every URL into ``target/<relative path>``; raises :class:`DownloadError`.

    ``transport`` lets tests serve files without a network (``httpx.MockTransport``).
    """
    import httpx  # here, not at the top: every `lists` command imports this module

    written: list[Path] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with (
        Progress(*columns, disable=not show_progress, transient=False) as progress,
        httpx.Client(timeout=timeout, follow_redirects=True, transport=transport) as client,
    ):
        for rel, url in urls.items():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            task = progress.add_task(rel, total=None)
            try:
                with client.stream("GET", url) as response:
                    response.raise_for_status()
                    size = response.headers.get("Content-Length")
                    progress.update(task, total=int(size) if size and size.isdigit() else None)
                    with open(dest, "wb") as handle:
                        for chunk in response.iter_bytes(1 << 16):
                            handle.write(chunk)
                            progress.advance(task, len(chunk))
            except httpx.HTTPStatusError as exc:
                raise DownloadError(
                    f"{url}: the server answered HTTP {exc.response.status_code}"
                ) from exc
            except httpx.HTTPError as exc:
                raise DownloadError(
                    f"{url}: {type(exc).__name__}: {exc or 'network error'}"
                ) from exc
            written.append(dest)
    return written


def update(
    store: ListStore,
    downloads: Path,
    *,
    force: bool = False,
    urls: dict[str, str] | None = None,
    show_progress: bool = True,
    transport: httpx.BaseTransport | None = None,
) -> LoadResult:
    """Download the official files (or ``urls``) into ``downloads`` and load them into
    ``store``; on any failure nothing changes."""
    downloads.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix="partial-", dir=downloads))
    folder = temp
    try:
        fetch(urls or sources(), temp, show_progress=show_progress, transport=transport)
        # Renamed before loading so the store records the path the files keep.
        folder = downloads / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        temp.rename(folder)
        result = store.load_mirror(folder, force=force)
        if not result.created:
            shutil.rmtree(folder, ignore_errors=True)  # same content as active: keep no copy
        return result
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
