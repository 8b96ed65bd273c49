"""Reports over HTTP, for roles holding ``reports.read``: evidence packs of an alert or a case,
and the screening report of a scan.

Each report is one route function below, grouped by report; other reports (training runs,
certification) are added to the same router in their own section.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from computekyc.api.deps import AppSettings, ReportReader, attachment
from computekyc.api.problems import RESPONSES
from computekyc.audit import Actor
from computekyc.reports import ReportFormat
from computekyc.services import reports as service
from computekyc.settings import Settings

router = APIRouter(responses=RESPONSES, tags=["Reports"])
MAX_ID = 2_147_483_647
ZIP = "application/zip"


def _ok(description: str, *media_types: str) -> dict[int | str, dict[str, object]]:
    """The 200 answer documented with the content types the route really sends."""
    return {200: {"description": description, "content": {m: {} for m in media_types}}}


PACK = _ok("The evidence pack (ZIP, signed manifest)", ZIP)
TABLES = _ok(
    "The screening report",
    *(ReportFormat(f).media_type.split(";")[0] for f in ("csv", "xlsx", "parquet")),
)


# -- evidence packs ------------------------------------------------------------------------------
def _pack(settings: Settings, actor: Actor, ref: service.PackRef) -> Response:
    pack = service.evidence_pack(settings, actor, ref)
    return attachment(pack.data, ZIP, pack.file_name)


@router.get("/reports/alerts/{alert_id}/evidence", response_class=Response, responses=PACK)
def alert_evidence_pack(
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: ReportReader, settings: AppSettings
) -> Response:
    """The signed evidence pack (ZIP) of one alert; `computekyc report verify` checks it."""
    return _pack(settings, actor, service.PackRef("alert", alert_id))


@router.get("/reports/cases/{case_id}/evidence", response_class=Response, responses=PACK)
def case_evidence_pack(
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: ReportReader, settings: AppSettings
) -> Response:
    """The signed evidence pack (ZIP) of a case and all its alerts."""
    return _pack(settings, actor, service.PackRef("case", case_id))


# -- the screening report ------------------------------------------------------------------------
@router.get("/reports/screening", response_class=Response, responses=TABLES)
def screening_report(
    actor: ReportReader,
    settings: AppSettings,
    format: Annotated[Literal["csv", "xlsx", "parquet"], Query()] = "csv",
    scan: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Every screened subject and hit of a scan (the latest by default): CSV with a BOM, XLSX
    with a summary sheet, or Parquet."""
    chosen = ReportFormat(format)
    report = service.screening_report(settings, actor, chosen, scan_id=scan)
    return attachment(report.data, chosen.media_type, report.file_name)
