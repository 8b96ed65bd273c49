"""The customer book: a provider folder of customers, accounts and usage files, imported as
content-hashed revisions so each scan knows which records are new, changed or removed."""

from computekyc.book.reader import (
    Book,
    BookAccount,
    BookCustomer,
    book_files,
    content_hash,
    parse_book_customer,
    provider_name,
    read_book,
    usage_files,
)
from computekyc.book.store import BookImport, RecordDelta, plan_import, write_import

__all__ = [
    "Book",
    "BookAccount",
    "BookCustomer",
    "BookImport",
    "RecordDelta",
    "book_files",
    "content_hash",
    "parse_book_customer",
    "plan_import",
    "provider_name",
    "read_book",
    "usage_files",
    "write_import",
]
