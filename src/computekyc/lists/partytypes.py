"""One vocabulary for the kind of a party: every word our inputs use → :class:`PartyType`.

Customer records say ``entity``/``individual`` or ``company``/``person``; FollowTheMoney files
name schemata (``Person``, ``Company``, ``Organization``, ``LegalEntity``, ``PublicBody``,
``Vessel``, ``Airplane``; https://followthemoney.tech/explorer/schemata/); list files use their
own words. They all map here, and anything else is an input error listing the accepted words,
never a silent default.
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
    "vessel": PartyType.VESSEL,
    "aircraft": PartyType.AIRCRAFT,
    "airplane": PartyType.AIRCRAFT,
}
ACCEPTED = (
    "entity, legal_entity, organization, organisation, company, public_body, "
    "individual, person, vessel, aircraft, airplane (FtM schema names such as LegalEntity too)"
)


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
        raise exc.InputError(
            f"unknown party type {word!r}; accepted: {ACCEPTED}", file=file, line=line, field=field
        )
    return found
