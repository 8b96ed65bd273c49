"""Record content in the book: stored per revision, card numbers never, older rows filled in
by the next import; one migration head; a customer before any scan says so."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from computekyc.book import plan_import, read_book, write_import
from computekyc.book.schema import book_records
from computekyc.services.customers import NO_CONTENT, customer_detail
from computekyc.settings import Settings
from computekyc.workflow import open_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "provider"
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number


def _import(settings: Settings, folder: Path) -> int:
    book = read_book(folder)
    with open_database(settings).begin() as connection:
        return write_import(connection, book, plan_import(connection, book))


@pytest.fixture
def provider(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    shutil.copy(EXAMPLE / "customers.jsonl", folder)
    shutil.copy(EXAMPLE / "accounts.jsonl", folder)
    return folder


def test_the_workflow_migrations_have_one_head() -> None:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("computekyc.workflow") / "migrations")
    )
    assert ScriptDirectory.from_config(config).get_heads() == ["0003_book_content"]


def test_each_revision_stores_what_the_book_holds(tmp_path: Path, provider: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = _import(settings, provider)
    detail = customer_detail(settings, "c-109")
    assert detail.revision == detail.record_revision == first
    assert detail.record is not None and detail.record["name"]
    assert [a.account_id for a in detail.accounts][:2] == ["a-109", "a-109-1"]
    assert all(a.record and a.record["customer_id"] == "c-109" for a in detail.accounts)
    # No scan yet: no determinations, and the detail says why (never an empty "clear").
    assert detail.scan is None and any("no scan" in n for n in detail.notes)

    lines = (provider / "customers.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["addresses"] = [*record.get("addresses", []), f"card {CARD} on file"]
    record["internal_crm_notes"] = "not a field the book reads"
    lines[0] = json.dumps(record)
    (provider / "customers.jsonl").write_text("\n".join(lines) + "\n")
    second = _import(settings, provider)
    assert second > first
    changed = customer_detail(settings, record["id"])
    assert changed.revision == changed.record_revision == second
    assert changed.record is not None
    assert "internal_crm_notes" not in changed.record
    stored = json.dumps(changed.record)
    assert "4111" not in stored  # masked to the last four digits
    assert changed.record["addresses"][-1].startswith("card <card") and "1111" in stored
    with open_database(settings).connect() as connection:
        texts = connection.execute(select(book_records.c.content)).scalars().all()
    assert not any(CARD in (t or "") or CARD.replace(" ", "") in (t or "") for t in texts)


def test_rows_stored_before_content_are_filled_by_the_next_import(
    tmp_path: Path, provider: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    revision = _import(settings, provider)
    with open_database(settings).begin() as connection:  # as a database migrated from 0002
        connection.execute(update(book_records).values(content=None, owner_id=None))
    before = customer_detail(settings, "c-105")
    assert before.record is None and NO_CONTENT in before.notes and before.accounts == []
    assert _import(settings, provider) == revision  # unchanged book: no new revision
    after = customer_detail(settings, "c-105")
    assert after.record is not None and after.record["id"] == "c-105"
    assert [a.account_id for a in after.accounts] == ["a-105"]
    assert NO_CONTENT not in after.notes
