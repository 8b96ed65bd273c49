"""The training-run and certification reports over HTTP (permission ``reports.read``).

The same service and rendering as ``computekyc report training-runs|certification``: JSON,
HTML with its charts inline, or PDF; each report made is recorded in the audit log with a
signed checkpoint, as the token's user.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from computekyc.api.deps import AppSettings
from computekyc.api.problems import RESPONSES
from computekyc.api.scans import _folder
from computekyc.api.security import needs
from computekyc.audit import Actor
from computekyc.users import Permission

router = APIRouter(tags=["Reports"], responses=RESPONSES)
ReportReader = Annotated[Actor, Depends(needs(Permission.REPORTS_READ))]
Format = Literal["json", "html", "pdf"]
ProviderDir = Annotated[
    str, Query(min_length=1, max_length=4096, description="the provider folder on the server")
]


def _answer(content: bytes, fmt: str, name: str) -> Response:
    from computekyc.reports import MEDIA_TYPES

    headers = (
        {} if fmt == "json" else {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/reports/training-runs")
def training_runs(
    actor: ReportReader,
    settings: AppSettings,
    provider_dir: ProviderDir,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    format: Format = "json",
) -> Response:
    """Runs and cumulative threshold crossings of the period, with who ran them (the
    ``report training-runs`` document; JSON follows docs/schemas/training-runs.schema.json)."""
    from computekyc.reports import render, training_runs_html
    from computekyc.services.reports_runs import training_runs_report

    report = training_runs_report(
        settings, _folder(provider_dir, "provider_dir"), first, last, actor=actor
    )
    content = render(report, format, training_runs_html)
    return _answer(content, format, f"training-runs-{first}-{last}")


@router.get("/reports/certification")
def certification(
    actor: ReportReader,
    settings: AppSettings,
    provider_dir: ProviderDir,
    year: Annotated[int, Query(ge=2000, le=9999)],
    format: Format = "json",
) -> Response:
    """The annual program summary (the ``report certification`` document)."""
    from computekyc.reports import certification_html, render
    from computekyc.services.reports_runs import certification_report

    report = certification_report(
        settings, _folder(provider_dir, "provider_dir"), year, actor=actor
    )
    return _answer(render(report, format, certification_html), format, f"certification-{year}")
