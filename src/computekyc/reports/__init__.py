"""Reports a regulator or auditor can rely on: evidence packs (signed, self-checking archives
of one alert or case), their verification, and the screening report of a scan (CSV, XLSX,
Parquet). Pure: the service layer (:mod:`computekyc.services.reports`) gathers the data."""

from computekyc.reports.evidence import (
    MANIFEST,
    PACK_FORMAT,
    SIGNATURE,
    AuditProof,
    json_member,
    sign_pack,
    write_zip,
)
from computekyc.reports.screening import COLUMNS, ReportFormat, render, summary_of
from computekyc.reports.verify import PackFinding, PackReport, verify_pack

__all__ = [
    "COLUMNS",
    "MANIFEST",
    "PACK_FORMAT",
    "SIGNATURE",
    "AuditProof",
    "PackFinding",
    "PackReport",
    "ReportFormat",
    "json_member",
    "render",
    "sign_pack",
    "summary_of",
    "verify_pack",
    "write_zip",
]
