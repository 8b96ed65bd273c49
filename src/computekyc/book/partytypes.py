"""Party-type words a provider's records use, mapped to the two the engines know.

Providers export ``organization``, ``company``, ``legal_entity`` or FollowTheMoney schema names
(``Company``, ``Organization``, ``Person``…) where determinations expect ``entity`` or
``individual``. Unknown words are refused (naming the field) rather than guessed.
"""

from __future__ import annotations

ENTITY = "entity"
INDIVIDUAL = "individual"

_WORDS = {
    "entity": ENTITY,
    "organization": ENTITY,
    "organisation": ENTITY,
    "company": ENTITY,
    "legal_entity": ENTITY,
    "legalentity": ENTITY,
    "publicbody": ENTITY,
    "public_body": ENTITY,
    "person": INDIVIDUAL,
    "individual": INDIVIDUAL,
}

ACCEPTED = tuple(sorted(_WORDS))


def party_type(word: str) -> str | None:
    """``entity`` or ``individual`` for a party-type word (case and FtM spelling ignored)."""
    return _WORDS.get(word.strip().lower().replace("-", "_").replace(" ", "_"))
