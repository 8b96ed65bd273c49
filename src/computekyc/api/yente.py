"""yente's ``/match`` request and answer shapes, mapped onto computekyc's screening.

A yente client works unchanged: the body ``{"queries": {"k": {"schema", "properties"}}}`` with
FollowTheMoney property names, and the answer ``responses.k.results[]`` with ``id``, ``caption``,
``schema``, ``properties``, ``datasets``, ``score``, ``match`` and ``explanations``. Added: the
list snapshot and rule versions every answer was computed on, and the token-by-token explanation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

from computekyc.lists import Party, PartyType
from computekyc.lists.countries import country_code
from computekyc.screening import Hit, Query

PERSON_SCHEMAS = {"Person"}
ENTITY_SCHEMAS = {"Company", "Organization", "LegalEntity", "PublicBody"}
OTHER_SCHEMAS = {"Vessel": PartyType.VESSEL, "Airplane": PartyType.AIRCRAFT}
SCHEMAS = sorted(PERSON_SCHEMAS | ENTITY_SCHEMAS | set(OTHER_SCHEMAS) | {"Thing"})
NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias")
COUNTRY_PROPERTIES = ("country", "nationality", "jurisdiction", "citizenship", "mainCountry")
ID_PROPERTIES = (
    "idNumber",
    "registrationNumber",
    "taxNumber",
    "leiCode",
    "innCode",
    "ogrnCode",
    "swiftBic",
    "imoNumber",
    "passportNumber",
    "vatCode",
)
MAX_VALUES = 50  # values a property may carry in one query
MAX_VALUE_LENGTH = 500


Value = Annotated[str, StringConstraints(max_length=MAX_VALUE_LENGTH)]
NameValue = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_VALUE_LENGTH, pattern=r"\S")
]
Schema = Literal[
    "Person", "Company", "Organization", "LegalEntity", "PublicBody", "Vessel", "Airplane", "Thing"
]


class ExampleProperties(BaseModel):
    """FollowTheMoney properties: ``name`` is needed (a list or one string); others as given."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[
        str,
        Annotated[
            list[Annotated[str, StringConstraints(max_length=MAX_VALUE_LENGTH)]],
            Field(max_length=MAX_VALUES),
        ]
        | Annotated[str, StringConstraints(max_length=MAX_VALUE_LENGTH)],
    ] = Field(init=False)

    name: Annotated[list[NameValue], Field(min_length=1, max_length=MAX_VALUES)] | NameValue


class EntityExample(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(None, max_length=200)
    schema_: Schema = Field(..., alias="schema", examples=["Company"])
    properties: ExampleProperties = Field(..., examples=[{"name": ["Hikvision"]}])

    _props: dict[str, Any] | None = PrivateAttr(None)

    def props(self) -> dict[str, Any]:
        """The properties as plain values (dumped once: every reader of a query asks)."""
        if self._props is None:
            self._props = self.properties.model_dump()
        return self._props


class EntityMatchQuery(BaseModel):
    weights: dict[str, float] = Field(default_factory=dict)
    config: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    queries: dict[str, EntityExample]


def _values(props: dict[str, Any], prop: str) -> list[str]:
    raw = props.get(prop)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    return [v.strip() for v in items if isinstance(v, str) and v.strip()]


def check_example(example: EntityExample) -> str | None:
    """Why an example cannot be matched, or None."""
    if example.schema_ not in SCHEMAS:
        return f"schema {example.schema_!r} is not one of {', '.join(SCHEMAS)}"
    for prop, raw in example.props().items():
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            return f"property {prop!r} must be a string or a list of strings"
        if len(items) > MAX_VALUES:
            return f"property {prop!r} has {len(items)} values (at most {MAX_VALUES})"
        if any(len(v) > MAX_VALUE_LENGTH for v in items):
            return f"property {prop!r} has a value over {MAX_VALUE_LENGTH} characters"
    if not any(_values(example.props(), p) for p in NAME_PROPERTIES):
        return "the query has no name (properties.name)"
    return None


def echo(example: EntityExample) -> dict[str, Any]:
    """The query as understood: lists of values, countries as ISO codes (as yente echoes it)."""
    given = example.props()
    props: dict[str, list[str]] = {}
    for prop in given:
        items = _values(given, prop)
        if prop in COUNTRY_PROPERTIES:
            items = [(country_code(v) or v).lower() for v in items]
        props[prop] = items
    return {"id": example.id, "schema": example.schema_, "properties": props}


def party_type_of(schema: str) -> str | None:
    if schema in PERSON_SCHEMAS:
        return str(PartyType.INDIVIDUAL)
    if schema in ENTITY_SCHEMAS:
        return str(PartyType.ENTITY)
    if schema in OTHER_SCHEMAS:
        return str(OTHER_SCHEMAS[schema])
    return None


def queries_of(example: EntityExample) -> list[Query]:
    """One screening query per name the example gives, carrying its other facts."""
    given = example.props()
    countries = [
        code for p in COUNTRY_PROPERTIES for c in _values(given, p) if (code := country_code(c))
    ]
    births = _values(given, "birthDate")
    identifiers = {p: v for p in ID_PROPERTIES for v in _values(given, p)[:1]}
    kind = party_type_of(example.schema_)
    names: list[str] = []
    for prop in NAME_PROPERTIES:
        for name in _values(given, prop):
            if name not in names:
                names.append(name)
    return [
        Query(
            name,
            countries[0] if countries else None,
            kind,
            births[0] if births else None,
            identifiers or None,
        )
        for name in names
    ]


def schema_of(party: Party) -> str:
    return {
        PartyType.INDIVIDUAL: "Person",
        PartyType.ENTITY: "LegalEntity",
        PartyType.VESSEL: "Vessel",
        PartyType.AIRCRAFT: "Airplane",
    }.get(party.type, "LegalEntity")


def entity_of(party: Party) -> dict[str, Any]:
    """A listed party in FollowTheMoney's entity shape, as yente returns it."""
    props: dict[str, list[str]] = {"name": [party.name]}
    aliases = [a.name for a in party.aliases if a.name and a.name != party.name]
    optional = {
        "alias": aliases,
        "country": [c.lower() for c in party.all_countries()],
        "birthDate": party.dates_of_birth,
        "birthPlace": party.places_of_birth,
        "address": [a.text for a in party.addresses if a.text],
        "program": party.programs,
        "idNumber": [i.value for i in party.identifiers],
        "listingDate": [party.listed_on] if party.listed_on else [],
        "endDate": [party.delisted_on] if party.delisted_on else [],
        "sourceUrl": [party.source_url] if party.source_url else [],
        "notes": [party.remarks] if party.remarks else [],
    }
    props.update({k: v for k, v in optional.items() if v})
    return {
        "id": party.party_id,
        "caption": party.name,
        "schema": schema_of(party),
        "properties": props,
        "datasets": [party.source],
        "referents": [],
        "target": True,
        "first_seen": None,
        "last_seen": None,
        "last_change": None,
    }


def scored(party: Party, hit: Hit, threshold: float) -> dict[str, Any]:
    entity = entity_of(party)
    entity["score"] = hit.score
    entity["match"] = hit.score >= threshold
    entity["explanations"] = {
        "name": {
            "score": hit.score,
            "weight": 1.0,
            "matched_name": hit.matched_name,
            "summary": hit.explanation.summary(),
            "tokens": hit.explanation.to_dict(),
        }
    }
    return entity
