"""One vocabulary for the kind of a party: every word our inputs use → :class:`PartyType`.

Customer records say ``entity``/``individual`` or ``company``/``person``; FollowTheMoney files
name schemata (``Person``, ``Company``, ``Organization``, ``LegalEntity``, ``PublicBody``,
``Vessel``, ``Airplane``; https://followthemoney.tech/explorer/schemata/); list files use their
own words. They all map here, and anything else is an input error listing the accepted words,
never a silent default. Customers, owners, directors and cloud account holders are an entity or
an individual (:func:`holder_type`); list parties may also be vessels and aircraft.
"""

from __future__ import annotations

from computekyc import exc
from computekyc.lists.model import PartyType

# Keys are folded: lower case, without spaces, hyphens or underscores ("legal_entity",
# "LegalEntity" and "legal-entity" are one word).
_WORDS: dict[str, PartyType] = {
    "entity": PartyType.ENTITY,
    "legalentity": PartyType.ENTITY,
    "organization": PartyType.ENTITY,
    "organisation": PartyType.ENTITY,
    "company": PartyType.ENTITY,
    "publicbody": PartyType.ENTITY,
    "individual": PartyType.INDIVIDUAL,
    "person": PartyType.INDIVIDUAL,
    "naturalperson": PartyType.INDIVIDUAL,
    "vessel": PartyType.VESSEL,
    "aircraft": PartyType.AIRCRAFT,
    "airplane": PartyType.AIRCRAFT,
}
ACCEPTED = (
    "entity, legal_entity, organization, organisation, company, public_body, "
    "individual, person, natural_person, vessel, aircraft, airplane (FtM schema names such as "
    "LegalEntity too)"
)


_SHOWN = 60  # characters of an unknown word echoed in the error


def _fold(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch not in " -_")


def party_type(
    word: object,
    *,
    file: str | None = None,
    line: int | None = None,
    field: str | None = None,
) -> PartyType:
    """The product's party type for a word from any input; InputError for an unknown word."""
    found = (_WORDS.get(word) or _WORDS.get(_fold(word))) if isinstance(word, str) else None
    if found is None:
        shown = repr(word) if len(repr(word)) <= _SHOWN else repr(word)[: _SHOWN - 1] + "…"
        raise exc.InputError(
            f"unknown party type {shown}; accepted: {ACCEPTED}", file=file, line=line, field=field
        )
    return found


HOLDER_TYPES = (PartyType.ENTITY, PartyType.INDIVIDUAL)


def holder_type(
    word: object,
    *,
    file: str | None = None,
    line: int | None = None,
    field: str | None = None,
) -> PartyType:
    """The type of a customer, owner, director or account holder: an entity or an individual.
    An unknown word, or a vessel or aircraft, is an InputError."""
    kind = party_type(word, file=file, line=line, field=field)
    if kind not in HOLDER_TYPES:
        raise exc.InputError(
            f"a customer, owner or account holder is an entity or an individual, not a {kind}",
            file=file,
            line=line,
            field=field,
        )
    return kind
