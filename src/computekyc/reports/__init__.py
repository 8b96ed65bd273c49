"""Reports a regulator or auditor can rely on: the document logic, charts and rendering.

Training runs and certification (this part): :func:`training_runs_html`,
:func:`certification_html` and :func:`render` (JSON, HTML with inline SVG charts, PDF via
WeasyPrint); the criteria each report applies, with their public sources, in
``reports/data/criteria.yaml`` (:func:`training_criteria`, :func:`certification_criteria`).
The database orchestration lives in ``services.reports_runs``.
"""

from computekyc.reports.criteria import (
    CertificationCriteria,
    TrainingCriteria,
    certification_criteria,
    training_criteria,
)
from computekyc.reports.render import (
    FORMATS,
    MEDIA_TYPES,
    certification_html,
    pdf,
    render,
    training_runs_html,
)

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "CertificationCriteria",
    "TrainingCriteria",
    "certification_criteria",
    "certification_html",
    "pdf",
    "render",
    "training_criteria",
    "training_runs_html",
]
