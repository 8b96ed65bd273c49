"""Reports a regulator or auditor can rely on: the document logic, charts and rendering.

- Evidence packs (signed, self-checking archives of one alert or case) and their verification;
  the screening report of a scan (CSV, XLSX, Parquet): :func:`render_screening`.
- Training runs and certification: :func:`training_runs_html`, :func:`certification_html` and
  :func:`render` (JSON, HTML with inline SVG charts, PDF via WeasyPrint); the criteria each
  report applies, with their public sources, in ``reports/data/criteria.yaml``.

Pure: the service layer (``services.reports``, ``services.reports_runs``) gathers the data.
"""

from computekyc.reports.criteria import (
    CertificationCriteria,
    TrainingCriteria,
    certification_criteria,
    training_criteria,
)
from computekyc.reports.evidence import (
    MANIFEST,
    PACK_FORMAT,
    SIGNATURE,
    AuditProof,
    json_member,
    sign_pack,
    write_zip,
)
from computekyc.reports.render import (
    FORMATS,
    MEDIA_TYPES,
    certification_html,
    pdf,
    render,
    training_runs_html,
)
from computekyc.reports.screening import COLUMNS, ReportFormat, summary_of
from computekyc.reports.screening import render as render_screening
from computekyc.reports.verify import PackFinding, PackReport, verify_pack

__all__ = [
    "COLUMNS",
    "FORMATS",
    "MANIFEST",
    "MEDIA_TYPES",
    "PACK_FORMAT",
    "SIGNATURE",
    "AuditProof",
    "CertificationCriteria",
    "PackFinding",
    "PackReport",
    "ReportFormat",
    "TrainingCriteria",
    "certification_criteria",
    "certification_html",
    "json_member",
    "pdf",
    "render",
    "render_screening",
    "sign_pack",
    "summary_of",
    "training_criteria",
    "training_runs_html",
    "verify_pack",
    "write_zip",
]
