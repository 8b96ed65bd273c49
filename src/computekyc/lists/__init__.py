"""Restricted-party lists: the party model, format readers, the snapshot store, downloads.

Public, pure API (no database): :func:`read_file`, :func:`read_files`, :func:`read_mirror`,
:func:`parties_from`. The store lives in :mod:`computekyc.lists.store`.
"""

from computekyc.lists.model import Address, Alias, Identifier, ParentRef, Party, PartyType
from computekyc.lists.parsing import ListFormatError, ParsedFile, Problem
from computekyc.lists.partytypes import party_type
from computekyc.lists.reader import detect, parties_from, read_file, read_files, read_mirror

__all__ = [
    "Address",
    "Alias",
    "Identifier",
    "ListFormatError",
    "ParentRef",
    "ParsedFile",
    "Party",
    "PartyType",
    "Problem",
    "detect",
    "parties_from",
    "party_type",
    "read_file",
    "read_files",
    "read_mirror",
]
