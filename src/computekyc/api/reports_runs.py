"""The training-run and certification reports over HTTP (permission ``reports.read``).

The same service and rendering as ``computekyc report training-runs|certification``: JSON,
HTML with its charts inline, or PDF; each report made is recorded in the audit log with a
signed checkpoint, as the token's user.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response

from computekyc.api.deps import AppSettings, ReportReader, attachment, server_folder
from computekyc.api.problems import RESPONSES

if TYPE_CHECKING:
    from computekyc.services.reports_runs import ReportFile

router = APIRouter(tags=["Reports"], responses=RESPONSES)
Format = Literal["json", "html", "pdf"]
ProviderDir = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=4096,
        description="the provider folder on the server, to show its records (each saying "
        "whether the latest scan imported it); default: the book as the latest scan imported it",
    ),
]


def _provider(text: str | None) -> Path | None:
    return None if text is None else server_folder(text, "provider_dir")


def _answer(found: "ReportFile", fmt: str) -> Response:
    # JSON is shown like any API answer; HTML and PDF are documents to save.
    if fmt == "json":
        return Response(found.data, media_type=found.media_type)
    return attachment(found.data, found.media_type, found.file_name)


@router.get("/reports/training-runs")
def training_runs(
    actor: ReportReader,
    settings: AppSettings,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    format: Format = "json",
    provider_dir: ProviderDir = None,
) -> Response:
    """Runs and cumulative threshold crossings of the period, with who ran them (the
    ``report training-runs`` document; JSON follows docs/schemas/training-runs.schema.json)."""
    from computekyc.services.reports_runs import training_runs_file

    found = training_runs_file(settings, _provider(provider_dir), first, last, format, actor=actor)
    return _answer(found, format)


@router.get("/reports/certification")
def certification(
    actor: ReportReader,
    settings: AppSettings,
    year: Annotated[int, Query(ge=2000, le=9999)],
    format: Format = "json",
    provider_dir: ProviderDir = None,
) -> Response:
    """The annual program summary (the ``report certification`` document)."""
    from computekyc.services.reports_runs import certification_file

    found = certification_file(settings, _provider(provider_dir), year, format, actor=actor)
    return _answer(found, format)
