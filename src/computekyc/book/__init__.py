"""The customer book: a provider folder of customers, accounts and usage files, imported as
content-hashed revisions so each scan knows which records are new, changed or removed."""

from computekyc.book.reader import (
    Book,
    BookAccount,
    BookCustomer,
    content_hash,
    parse_book_customer,
    read_book,
)
from computekyc.book.store import BookImport, RecordDelta, plan_import, write_import

__all__ = [
    "Book",
    "BookAccount",
    "BookCustomer",
    "BookImport",
    "RecordDelta",
    "content_hash",
    "parse_book_customer",
    "plan_import",
    "read_book",
    "write_import",
]
