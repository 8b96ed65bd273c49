"""Restricted-party lists: the party model, format readers, the snapshot store, downloads.

Public, pure API (no database): :func:`read_file`, :func:`read_files`, :func:`read_mirror`,
:func:`parties_from`. The store lives in :mod:`computekyc.lists.store`.

The names below are imported on first use: ``computekyc lists status`` reads
:mod:`computekyc.lists.snapshots` alone and must not pay for the model and the format readers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from computekyc.lists.model import Address, Alias, Identifier, ParentRef, Party, PartyType
    from computekyc.lists.parsing import ListFormatError, ParsedFile, Problem
    from computekyc.lists.partytypes import holder_type, party_type
    from computekyc.lists.reader import detect, parties_from, read_file, read_files, read_mirror

_HOME = {
    "Address": "model",
    "Alias": "model",
    "Identifier": "model",
    "ParentRef": "model",
    "Party": "model",
    "PartyType": "model",
    "ListFormatError": "parsing",
    "ParsedFile": "parsing",
    "Problem": "parsing",
    "holder_type": "partytypes",
    "party_type": "partytypes",
    "detect": "reader",
    "parties_from": "reader",
    "read_file": "reader",
    "read_files": "reader",
    "read_mirror": "reader",
}

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
    "holder_type",
    "parties_from",
    "party_type",
    "read_file",
    "read_files",
    "read_mirror",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
