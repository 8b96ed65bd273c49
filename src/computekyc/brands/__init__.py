"""What listed firms run: their internet domains, cloud services, apps and product names, and a
matcher that finds them in a provider's own records (account domains, resource names and tags,
invoice descriptions)."""

from computekyc.brands.match import (
    FootprintHit,
    FootprintMatcher,
    Signal,
    host_of,
    resolve_listed,
    tokens,
)
from computekyc.brands.table import (
    TABLE_FILE,
    FootprintKind,
    FootprintRow,
    Strength,
    load_rows,
    packaged_rows,
    parse_table,
)

__all__ = [
    "TABLE_FILE",
    "FootprintHit",
    "FootprintKind",
    "FootprintMatcher",
    "FootprintRow",
    "Signal",
    "Strength",
    "host_of",
    "load_rows",
    "packaged_rows",
    "parse_table",
    "resolve_listed",
    "tokens",
]
