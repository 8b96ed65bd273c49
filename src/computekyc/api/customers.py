"""One customer of the book over HTTP: record, determinations per chip, accounts, linked
entities with their evidence, alerts (``services.customers``)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from computekyc.api.deps import AppSettings, Screener
from computekyc.api.problems import RESPONSES
from computekyc.services.customers import customer_detail

router = APIRouter(tags=["Customers"], responses=RESPONSES)
CustomerId = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/customers/{customer_id}")
def get_customer(
    customer_id: CustomerId,
    actor: Screener,
    settings: AppSettings,
    provider: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    """The customer as the provider's latest book revision holds it, with the determinations
    per chip of the latest scan (rules, evidence, list snapshot, rule versions), its accounts,
    the entities they are linked into (links with evidence), its alerts and any status set by a
    confirmed alert. ``provider`` is needed only when several books hold the id (409)."""
    return customer_detail(settings, customer_id, provider).to_dict()
