"""Determinations: may this customer rent this item on this date — and if not, why?

Pure functions over a customer's ownership tree. :func:`determine` screens every node of the tree
(declared owners, plus parents the ownership graph knows from GLEIF, FtM or list data), then
applies each rule of the timeline in force on the date:

- ``listed_customer`` — the customer itself is listed;
- ``ofac_50`` — ≥50% owned, directly or indirectly, individually or in aggregate, by blocked
  persons; a chain passes only through entities that are themselves blocked;
- ``bis_affiliates`` — the same test against Entity List, MEU and §744.8 SDN owners, with its
  suspension window; the most restrictive owner's licence requirement is reported;
- ``hq_advanced_computing`` — 3A090/4A090 items to an entity headquartered, or whose ultimate
  parent is headquartered, in Country Group D:5 or Macau;
- ``shared_directors`` and ``possible_matches`` — red flags short of a rule.

Every result names the rule version, whether the rule was in force on the date and why, the
ownership paths with shares, and the list entries (with snapshot id) it rests on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from computekyc.ownership.graph import OwnershipGraph, identifier_key
from computekyc.ownership.items import Item
from computekyc.ownership.listgraph import party_key
from computekyc.ownership.model import (
    Customer,
    Determination,
    Holder,
    ListEntry,
    RuleResult,
    Status,
    worst,
)
from computekyc.ownership.rules import Rule, RuleSet
from computekyc.ownership.screener import Screener

# Graph relations that mean ownership or control of the child (director-of is not ownership;
# ultimately-consolidated-by is read only for the ultimate-parent test, so stakes never double).
OWNERSHIP_RELATIONS = {"owner", "parent", "consolidated-by", "branch-of", "subsidiary-of"}
# Relations that state control without a share: such a parent is presumed to control.
CONTROL_RELATIONS = {
    "parent", "ultimate_parent", "consolidated-by", "ultimately-consolidated-by", "branch-of",
    "subsidiary-of",
}  # fmt: skip

Predicate = Callable[[ListEntry], bool]
T = TypeVar("T")


# --------------------------------------------------------------------------- tree building


class CachedScreener:
    """Memoises a screener per (name, country, type): owners recur across customers."""

    def __init__(self, inner: Screener, size: int = 200_000) -> None:
        self.inner = inner
        self.snapshot_id = inner.snapshot_id
        self._screen = lru_cache(maxsize=size)(self._raw_screen)
        self._ident = lru_cache(maxsize=size)(self._raw_ident)

    def _raw_screen(
        self, name: str, country: str | None, type: str | None
    ) -> tuple[ListEntry, ...]:
        return tuple(self.inner.screen(name, country, type))

    def _raw_ident(self, scheme: str, value: str) -> tuple[ListEntry, ...]:
        return tuple(self.inner.by_identifier(scheme, value))

    def screen(self, name: str, country: str | None, type: str | None) -> list[ListEntry]:
        return list(self._screen(name, country, type))

    def by_identifier(self, scheme: str, value: str) -> list[ListEntry]:
        return list(self._ident(scheme, value))


def _identifier_keys(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """identifier_key → scheme, for comparing what a customer and a listing say."""
    return {identifier_key(scheme, value): identifier_key(scheme, "") for scheme, value in pairs}


def _corroboration(holder: Holder, entry: ListEntry, rules: RuleSet) -> str | None:
    """Why a name match may not restrict yet (None when it may).

    A listed person's name alone does not tell them apart from everyone else of that name: a
    second attribute the list gives must agree (OFAC FAQ 5). Nationality or country alone is not
    enough for a name common on the lists. Entity names are specific enough to stand unless an
    identifier of the same scheme differs.
    """
    if entry.how != "name":
        return None
    held = _identifier_keys(holder.identifiers.items())
    listed = _identifier_keys(entry.identifiers)
    differ = [
        f"{scheme.rstrip(':')} differs" for key, scheme in held.items()
        if key not in listed and scheme in listed.values()
    ]  # fmt: skip
    person = "individual" in (entry.party_type, holder.type)
    if not person:
        return "; ".join(differ) + ": probably another party" if differ else None
    strong = [f"identifier {key}" for key in held if key in listed]
    dob = holder.date_of_birth
    if dob and entry.dates_of_birth:
        if any(d.startswith(dob) or dob.startswith(d) for d in entry.dates_of_birth):
            strong.append(f"date of birth {dob}")
        else:
            differ.append(f"date of birth {dob} vs listed {', '.join(entry.dates_of_birth)}")
    if differ:
        return "; ".join(differ) + ": probably another person of that name"
    if strong:
        return None
    common = bool(entry.name_parts) and all(
        n >= rules.common_name_part for _, n in entry.name_parts
    )
    parts = ", ".join(f"{p!r} on {n} listed persons" for p, n in entry.name_parts)
    weak = bool(holder.country) and holder.country in entry.countries
    if weak and not common:
        return None
    offered = [
        what
        for what, present in (
            ("date of birth", entry.dates_of_birth),
            ("identifier", entry.identifiers),
            ("nationality/address country", entry.countries),
        )
        if present
    ]
    if weak:
        return (
            f"common name ({parts}): country {holder.country} alone does not tell the person "
            "apart; a date of birth or an identifier must agree"
        )
    if offered:
        return f"name only: the list gives {', '.join(offered)}, none supplied or agreeing" + (
            f"; common name ({parts})" if common else ""
        )
    if common:
        return f"name only, and a common name ({parts}); the list gives nothing else to compare"
    return None


def _screen_holder(holder: Holder, screener: Screener, rules: RuleSet, on: date) -> None:
    seen: set[str] = set()
    found: list[ListEntry] = []
    for scheme, value in holder.identifiers.items():
        found.extend(screener.by_identifier(scheme, value))
    found.extend(screener.screen(holder.name, holder.country, holder.type))
    if not found:  # most nodes: nothing matched
        holder.listings = []
        holder.possible = []
        return
    listings: list[ListEntry] = []
    possible: list[ListEntry] = []
    for entry in sorted(found, key=lambda e: (-e.score, e.how != "identifier")):
        if entry.party_id in seen:
            continue
        seen.add(entry.party_id)
        if not entry.in_force(on):
            # Removed from the list (e.g. a 1260H tranche that ended, an expired ISN measure)
            # or listed only later: evidence for the analyst, never a restriction on that date.
            if entry.score >= rules.match_threshold:
                holder.lapsed.append(entry)
            continue
        if entry.score >= rules.match_threshold:
            why = _corroboration(holder, entry, rules)
            if why is None:
                listings.append(entry)
            else:
                holder.uncorroborated.append((entry, why))
        elif entry.score >= rules.possible_threshold:
            possible.append(entry)
    holder.listings = listings
    holder.possible = possible


def _graph_keys(holder: Holder, graph: OwnershipGraph) -> list[str]:
    keys: list[str] = [holder.graph_key] if holder.graph_key in graph.nodes else []
    for scheme, value in holder.identifiers.items():
        keys.extend(k for k in graph.find(scheme, value) if k not in keys)
    # Identity, not restriction: a listing that did not stand on the date still names the node.
    for entry in [*holder.listings, *holder.lapsed]:
        key = party_key(entry.party_id)
        if key in graph.nodes and key not in keys:
            keys.append(key)
    return keys


def _graph_parents(
    holder: Holder, keys: list[str], graph: OwnershipGraph, on: date, problems: list[str]
) -> list[Holder]:
    """Parents of the graph nodes on a date; of several statements of one stake, the latest wins.
    Statements that cannot be true (self-ownership, a share of -300%) go to ``problems``."""
    best: dict[str, Any] = {}
    for key in keys:
        for edge in graph.parents(key, on):
            if edge.relation not in OWNERSHIP_RELATIONS:
                continue
            if edge.problem:
                problems.append(f"{edge.evidence} ({holder.name!r}): {edge.problem}")
            if edge.parent in keys:
                if not edge.problem:
                    problems.append(f"{edge.evidence}: {holder.name!r} is stated to own itself")
                continue
            old = best.get(edge.parent)
            rank = (edge.valid_from or date.min, edge.share or -1.0)
            if old is None or rank > (old.valid_from or date.min, old.share or -1.0):
                best[edge.parent] = edge
    holders: list[Holder] = []
    for parent_key, edge in best.items():
        node = graph.nodes.get(parent_key)
        if node is None:
            continue
        period = f" from {edge.valid_from}" if edge.valid_from else ""
        holders.append(
            Holder(
                name=node.name,
                type=node.type,
                country=node.country,
                headquarters_country=node.headquarters_country,
                share=edge.share,
                relation=edge.relation,
                identifiers={s: v for s, v in node.identifiers},
                origin=edge.source,
                evidence=f"{edge.evidence}; {edge.relation}{period}",
                graph_key=parent_key,
            )
        )
    return holders


def _graph_ultimate(keys: list[str], graph: OwnershipGraph, on: date) -> Holder | None:
    for key in keys:
        for edge in graph.parents(key, on):
            if edge.relation == "ultimately-consolidated-by" and edge.parent in graph.nodes:
                node = graph.nodes[edge.parent]
                return Holder(
                    name=node.name,
                    country=node.country,
                    headquarters_country=node.headquarters_country,
                    relation=edge.relation,
                    identifiers={s: v for s, v in node.identifiers},
                    origin=edge.source,
                    evidence=edge.evidence,
                    graph_key=edge.parent,
                )
    return None


def _graph_directors(keys: list[str], graph: OwnershipGraph, on: date) -> list[tuple[str, str]]:
    """(director name, evidence) for every director-of edge onto the node."""
    found: list[tuple[str, str]] = []
    for key in keys:
        for edge in graph.parents(key, on):
            if edge.relation == "director-of" and edge.parent in graph.nodes:
                found.append((graph.nodes[edge.parent].name, edge.evidence))
    return found


def _fill_headquarters(holder: Holder, keys: list[str], graph: OwnershipGraph, tree: Tree) -> None:
    """Take the customer's headquarters from its LEI record when the customer left it out."""
    if holder.headquarters_country:
        return
    for key in keys:
        node = graph.nodes.get(key)
        if node is not None and node.headquarters_country:
            holder.headquarters_country = node.headquarters_country
            tree.notes.append(
                f"headquarters {node.headquarters_country} taken from {node.source} record {key}"
            )
            return


@dataclass(slots=True)
class Tree:
    root: Holder
    ultimate_from_graph: Holder | None = None
    directors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # information (where a fact came from)
    # Ownership data that could not be traced to its end or cannot be true: each one a review.
    problems: list[str] = field(default_factory=list)
    # Every node, the root first (set once the tree is built: the rules read it many times).
    nodes: list[Holder] = field(default_factory=list)


def build_tree(
    customer: Customer,
    screener: Screener,
    rules: RuleSet,
    on: date,
    graph: OwnershipGraph | None = None,
) -> Tree:
    """Screen every declared node; where nothing is declared above a node, ask the graph.

    Owners are followed to the top: a cycle in the graph data stops the trace with a review
    problem naming it, and so does the safety limit ``rules.max_depth`` — never silently.
    """
    tree = Tree(root=customer.root)
    tree.directors = [(d, "declared by customer") for d in customer.root.directors]

    def visit(holder: Holder, depth: int, path: tuple[tuple[str, str], ...]) -> None:
        _screen_holder(holder, screener, rules, on)
        keys: list[str] = []
        if graph is not None:
            keys = _graph_keys(holder, graph)
            loop = None
            if keys and path:
                above = {key: name for key, name in path}
                loop = next((k for k in keys if k in above), None)
            if loop is not None:
                names = [name for _, name in path[[k for k, _ in path].index(loop) :]]
                tree.problems.append(
                    "ownership cycle in the graph data: "
                    + " ← ".join(repr(n) for n in [*reversed(names), holder.name])
                    + ": the stakes around it cannot be traced to an ultimate owner"
                )
                return
            if depth == 0:
                tree.ultimate_from_graph = _graph_ultimate(keys, graph, on)
                tree.directors.extend(_graph_directors(keys, graph, on))
                _fill_headquarters(holder, keys, graph, tree)
            if not holder.owners:
                holder.owners = _graph_parents(holder, keys, graph, on, tree.problems)
        if not holder.owners:
            return
        if depth >= rules.max_depth:
            tree.problems.append(
                f"ownership trace stopped after {depth} levels (safety limit) at "
                f"{holder.name!r}: its {len(holder.owners)} owner(s) were not examined"
            )
            holder.owners = []
            return
        total = sum(o.share or 0.0 for o in holder.owners)
        if total > 100.0 + 1e-6:
            tree.problems.append(
                f"stated stakes in {holder.name!r} add up to {total:g}% on {on}: "
                "the sources disagree or a share is wrong"
            )
        if keys:
            path = path + tuple((k, holder.name) for k in keys)
        for owner in holder.owners:
            visit(owner, depth + 1, path)

    visit(customer.root, 0, ())
    tree.nodes = _walk(customer.root)
    return tree


# --------------------------------------------------------------------------- the 50% engine


@dataclass(slots=True)
class Capture:
    """How far listed parties own a node under one rule's definition of 'listed'."""

    captured: bool = False
    aggregate: float = 0.0  # percent held directly by captured owners
    effective: float = 0.0  # look-through listed share, also through non-captured owners
    max_single: float = 0.0
    paths: list[list[dict[str, Any]]] = field(default_factory=list)
    unknown: list[list[dict[str, Any]]] = field(default_factory=list)
    entries: list[ListEntry] = field(default_factory=list)
    binding: list[ListEntry] = field(default_factory=list)  # entries behind counted stakes


def _step(holder: Holder, entries: list[ListEntry] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"name": holder.name, "share": holder.share, "source": holder.origin}
    if holder.evidence:
        step["evidence"] = holder.evidence
    if entries:
        step["listed"] = [f"{e.source} {e.party_id} ({e.date_note()})" for e in entries]
    return step


def assess(
    holder: Holder, listed: Predicate, threshold: float, *, is_root: bool = False
) -> Capture:
    """Apply the 50% test to a node; a listed root is left to the listed-customer rule."""
    direct = [e for e in holder.listings if listed(e)]
    if direct and not is_root:
        return Capture(True, 100.0, 100.0, 100.0, [[_step(holder, direct)]], [], direct, direct)
    out = Capture()
    here = _step(holder)
    for owner in holder.owners:
        sub = assess(owner, listed, threshold)
        if not (sub.paths or sub.unknown):
            continue
        out.entries.extend(e for e in sub.entries if e not in out.entries)
        out.unknown.extend([*p, here] for p in sub.unknown)
        if sub.captured and owner.share is None:
            out.unknown.extend([*p, here] for p in sub.paths)
            continue
        share = owner.share or 0.0
        out.paths.extend([*p, here] for p in sub.paths)
        if sub.captured:
            out.binding.extend(e for e in sub.binding if e not in out.binding)
            out.aggregate += share
            out.effective += share
            out.max_single = max(out.max_single, share)
        else:
            out.effective += share * sub.effective / 100.0
            out.max_single = max(out.max_single, share * sub.effective / 100.0)
    out.captured = out.aggregate >= threshold - 1e-9
    if out.captured:
        out.effective = 100.0
    return out


# Per rule and date: every determination of a batch asks the same few rules about one date.
# Keyed by identity (rules hold dicts: they have no hash), with the objects kept to pin the ids.
_PER_DATE: dict[tuple[int, int, date], tuple[object, object, Any]] = {}


def _per_date(rule: Rule, other: object, on: date) -> Any:
    found = _PER_DATE.get((id(rule), id(other), on))
    return found[2] if found is not None and found[0] is rule and found[1] is other else None


def _remember(rule: Rule, other: object, on: date, value: T) -> T:
    if len(_PER_DATE) > 1024:
        _PER_DATE.clear()
    _PER_DATE[(id(rule), id(other), on)] = (rule, other, value)
    return value


def _in_force(rule: Rule, on: date) -> tuple[bool, str]:
    found: tuple[bool, str] | None = _per_date(rule, None, on)
    if found is None:
        period = rule.period(on)
        found = _remember(
            rule, None, on, (period.status == "in_force", f"{period.status} on {on}: {period.why}")
        )
    return found


def _rank(entry: ListEntry, rule: Rule) -> int:
    text = f"{entry.license_requirement or ''} {entry.license_policy or ''}".lower()
    for spec in rule.params.get("restrictiveness", []):
        if spec["source"] == entry.source and str(spec.get("contains", "")).lower() in text:
            return int(spec["rank"])
    return 99


def _minority_flags(cap: Capture, rules: RuleSet, what: str) -> list[str]:
    flags: list[str] = []
    if cap.unknown:
        flags.append(
            f"{what} owner(s) hold an undisclosed share (consolidation or named parent): "
            "establish the percentage"
        )
    if cap.effective >= rules.just_under:
        flags.append(f"aggregate {what} ownership {cap.effective:g}% is just under 50%")
    elif (
        cap.max_single >= rules.significant_minority or cap.effective >= rules.significant_minority
    ):
        flags.append(
            f"significant minority {what} ownership: largest {cap.max_single:g}%, "
            f"look-through {cap.effective:g}%"
        )
    return flags


def _fifty_percent(
    key: str, tree: Tree, rules: RuleSet, on: date, listed: Predicate, what: str, status: str
) -> RuleResult:
    """The 50% test shared by OFAC and the Affiliates Rule, with the red flags short of it."""
    rule = rules.rule(key)
    in_force, why = _in_force(rule, on)
    threshold = float(rule.params["threshold"])
    # Nobody in the tree listed (most customers): the test finds nothing, no need to walk it.
    cap = (
        assess(tree.root, listed, threshold, is_root=True)
        if threshold <= 1e-9 or any(h.listings for h in tree.nodes[1:])
        else Capture()
    )
    result = RuleResult(key, rule.version, rule.title, in_force, why, False, Status.CLEAR, "")
    result.paths, result.entries = cap.paths + cap.unknown, cap.entries
    if cap.captured:
        # Most-restrictive owner: of the parties behind the counted stakes, the lowest rank.
        owner = min(cap.binding, key=lambda e: _rank(e, rule))
        who = (
            f"most restrictive owner {owner.name} ({owner.source} {owner.party_id}, "
            f"{owner.date_note()})"
        )
        if owner.license_requirement:
            who += f": {owner.license_requirement}"
        if in_force:
            result.applies, result.status = True, Status(status)
            result.reason = (
                f"{cap.aggregate:g}% owned in aggregate by {what} parties (≥ {threshold:g}%); {who}"
            )
        else:
            flag = (
                f"majority ({cap.aggregate:g}%) {what} ownership while the rule is not in force "
                f"({rule.period(on).status}); {who}"
            )
            result.status, result.reason, result.red_flags = Status.REVIEW, flag, [flag]
        return result
    flags = _minority_flags(cap, rules, what)
    if flags:
        result.status, result.reason, result.red_flags = Status.REVIEW, "; ".join(flags), flags
    elif cap.paths:
        result.reason = f"{what} parties own {cap.effective:g}% (below every threshold)"
    else:
        result.reason = f"no owner matched a {what} party"
    return result


def _ofac(tree: Tree, rules: RuleSet, on: date) -> RuleResult:
    sources = set(rules.rule("ofac_50").params["owner_sources"])
    return _fifty_percent(
        "ofac_50", tree, rules, on, lambda e: e.source in sources, "blocked (SDN)", "blocked"
    )


def _affiliates(tree: Tree, rules: RuleSet, on: date) -> RuleResult:
    params = rules.rule("bis_affiliates").params
    sources, programs = set(params["owner_sources"]), set(params.get("sdn_programs", []))

    def listed(entry: ListEntry) -> bool:
        return entry.source in sources or (
            entry.source == "SDN" and any(p in programs for p in entry.programs)
        )

    what = "Entity List/MEU/§744.8 SDN"
    return _fifty_percent("bis_affiliates", tree, rules, on, listed, what, "license_required")


MAX_CLIMBS = 64  # possible ways up to an ultimate parent examined before asking for review


@dataclass(slots=True)
class Climb:
    """One way up from the customer through controlling owners to an ultimate parent entity."""

    chain: list[Holder]  # the customer first, the ultimate parent last
    presumed: list[str] = field(default_factory=list)  # steps taken on a presumption of control
    ambiguous: list[str] = field(default_factory=list)  # steps where several owners could control
    person: Holder | None = None  # an individual in control above the top entity

    @property
    def top(self) -> Holder:
        return self.chain[-1]


def _controllers(node: Holder) -> list[Holder]:
    """Owners that may control ``node``: a majority owner; else parents stated as such (GLEIF
    consolidation, 1260H/EL parent, a declared parent); else owners named without a share, who
    are presumed to control until a share says otherwise."""
    majority = [o for o in node.owners if o.share is not None and o.share > 50.0]
    if majority:
        return majority
    stated = [o for o in node.owners if o.relation in CONTROL_RELATIONS]
    return stated or [o for o in node.owners if o.share is None]


def _basis(owner: Holder) -> str | None:
    """Why an owner is taken as controlling when that rests on a presumption (else None)."""
    if owner.share is not None and owner.share > 50.0:
        return None
    if owner.relation in CONTROL_RELATIONS:
        return None
    return f"{owner.name!r} is named without a share and is presumed to control"


def climbs(tree: Tree) -> tuple[list[Climb], bool]:
    """Every way up to an ultimate parent (entities only: a person is not headquartered), and
    whether there were more than :data:`MAX_CLIMBS` of them."""
    out: list[Climb] = []

    def up(node: Holder, climb: Climb, seen: frozenset[int]) -> None:
        candidates = [c for c in _controllers(node) if id(c) not in seen]
        if not candidates or len(out) >= MAX_CLIMBS:
            out.append(climb)
            return
        several = (
            [f"several owners may control {node.name!r}: {', '.join(c.name for c in candidates)}"]
            if len(candidates) > 1
            else []
        )
        for owner in candidates:
            basis = _basis(owner)
            step = Climb(
                climb.chain,
                climb.presumed + ([basis] if basis else []),
                climb.ambiguous + several,
            )
            if owner.type == "individual":
                step.person = owner
                out.append(step)
            else:
                step.chain = [*climb.chain, owner]
                up(owner, step, seen | {id(owner)})

    up(tree.root, Climb([tree.root]), frozenset({id(tree.root)}))
    for climb in out:
        if climb.top is tree.root and tree.ultimate_from_graph is not None:
            climb.chain = [tree.root, tree.ultimate_from_graph]
    return out, len(out) >= MAX_CLIMBS


def ultimate_parent(tree: Tree) -> tuple[Holder, list[dict[str, Any]]]:
    """The ultimate parent of the first way up, with its chain (customer first)."""
    first = climbs(tree)[0][0]
    return first.top, [_step(h) for h in first.chain]


def _home(holder: Holder) -> tuple[str | None, str]:
    """Where a holder is headquartered (else incorporated; a person: a national of), and the
    words that say so."""
    if holder.type == "individual":
        return holder.country, f"a national of {holder.country}"
    if holder.headquarters_country:
        return holder.headquarters_country, f"headquartered in {holder.headquarters_country}"
    if holder.country:
        return holder.country, f"incorporated in {holder.country} (no headquarters given)"
    return None, "of unknown headquarters"


def _d5_held(node: Holder, countries: AbstractSet[str]) -> tuple[float, list[str]]:
    """Look-through percent of ``node`` held by D:5/Macau owners, and who holds it."""
    total, who = 0.0, []
    for owner in node.owners:
        if owner.share is None:
            continue
        home, _ = _home(owner)
        if home in countries:
            total += owner.share
            who.append(f"{owner.name} {owner.share:g}% ({home})")
        else:
            sub, _ = _d5_held(owner, countries)
            if sub:
                total += owner.share * sub / 100.0
                who.append(f"{owner.name} {owner.share:g}% of which {sub:g}% D:5/Macau-held")
    return total, who


def _hq_flags(
    climbs_found: list[Climb], countries: AbstractSet[str], consequence: str
) -> tuple[list[str], list[str]]:
    """(licence findings, review flags) of the headquarters test along every way up."""
    hits: list[str] = []
    flags: list[str] = []
    root = climbs_found[0].chain[0]
    nodes: list[Holder] = []
    for climb in climbs_found:
        nodes.extend(h for h in climb.chain if all(h is not n for n in nodes))
        top = climb.top
        if top is not root:
            home, how = _home(top)
            text = f"ultimate parent {top.name} {how}"
            presumed = "".join(f"; {p}" for p in climb.presumed)
            if home is None:
                flags.append(f"headquarters of the ultimate parent {top.name!r} unknown{presumed}")
            elif home in countries and climb.ambiguous:
                flags.append(
                    f"{text} may be the ultimate parent ({'; '.join(climb.ambiguous)}): "
                    f"if it controls, {consequence}"
                )
            elif home in countries:
                hits.append(text + presumed)
            for middle in climb.chain[1:-1]:
                mid_home, mid_how = _home(middle)
                if mid_home in countries:
                    flags.append(
                        f"intermediate parent {middle.name} {mid_how}: verify that "
                        f"{top.name!r} is the ultimate parent; if not, {consequence}"
                    )
        person = climb.person
        if person is not None and person.country in countries:
            stake = "no share stated" if person.share is None else f"{person.share:g}%"
            flags.append(
                f"individual {person.name!r} ({stake}, a national of {person.country}) controls "
                f"{top.name!r}: the headquarters test covers entities only; a D:5/Macau national "
                "in control is a red flag to review"
            )
    for node in nodes:
        declared = node.headquarters_country
        if node.country in countries and declared and declared not in countries:
            flags.append(
                f"{node.name!r} is incorporated in {node.country} but declares headquarters in "
                f"{declared}: if it is in fact headquartered in {node.country}, {consequence}"
            )
        if hits:
            continue
        joint = [
            o for o in node.owners if o.share == 50.0 and _home(o)[0] in countries
        ]  # fmt: skip
        held, who = _d5_held(node, countries)
        if joint:
            owner = joint[0]
            flags.append(
                f"50/50 joint venture: {owner.name} ({_home(owner)[0]}) holds 50% of "
                f"{node.name!r}: if it consolidates or controls it, it is the ultimate parent "
                f"and {consequence}"
            )
        elif held >= 50.0:
            flags.append(
                f"D:5/Macau owners hold {held:g}% of {node.name!r} together ({'; '.join(who)}) "
                f"with no single majority: if they act together or one controls the others, "
                f"{consequence}"
            )
    return hits, list(dict.fromkeys(flags))


def _hq_countries(rule: Rule, rules: RuleSet, on: date) -> frozenset[str]:
    """The countries of the headquarters test on a date (the same for a whole batch)."""
    found: frozenset[str] | None = _per_date(rule, rules.countries, on)
    if found is None:
        countries: set[str] = set(rule.params.get("extra_countries", []))
        for group in rule.params.get("country_groups", []):
            countries |= rules.countries.members(group, on)
        found = _remember(rule, rules.countries, on, frozenset(countries))
    return found


def _hq(
    tree: Tree,
    item: Item,
    rules: RuleSet,
    on: date,
    ways_up: tuple[list[Climb], bool] | None = None,
) -> RuleResult:
    rule = rules.rule("hq_advanced_computing")
    in_force, why = _in_force(rule, on)
    countries = _hq_countries(rule, rules, on)
    result = RuleResult(
        "hq_advanced_computing", rule.version, rule.title, in_force, why, False, Status.CLEAR, ""
    )
    caught = item.advanced_computing(list(rule.params["eccn_prefixes"]))
    eccn = item.eccn or "not 3A090/4A090"
    licensing = [f for f in item.flags if f in rule.params.get("review_flags", [])]
    consequence = (
        f"§742.6(a)(6)(iii)(A) requires a licence for {item.chip} ({item.eccn})"
        if caught
        else f"{item.chip} needs review ({', '.join(licensing) or 'outside 3A090'})"
    )
    root = tree.root
    hits: list[str] = []
    flags: list[str] = []
    if root.type == "individual":
        result.reason = "the customer is an individual: the headquarters test covers entities"
        if root.country in countries:
            flags.append(
                f"the customer is a national of {root.country} (D:5/Macau): a red flag to review"
            )
    else:
        found, too_many = ways_up if ways_up is not None else climbs(tree)
        result.paths = [[_step(h) for h in reversed(c.chain)] for c in found]
        home, how = _home(root)
        if home is None:
            flags.append("the customer's headquarters and country are unknown")
        elif home in countries:
            hits.append(f"customer {how}")
        if too_many:
            flags.append(f"more than {MAX_CLIMBS} possible ways up to an ultimate parent")
        more_hits, more_flags = _hq_flags(found, countries, consequence)
        hits.extend(more_hits)
        flags.extend(more_flags)
        if not hits and not flags:
            tops = "; ".join(f"{c.top.name} ({_home(c.top)[0] or '?'})" for c in found)
            result.reason = f"customer {home}; ultimate parent(s) {tops}: none in D:5 or Macau"
    if not (caught or licensing):
        if hits:
            result.reason = (
                f"{'; '.join(hits)}, but {item.chip} is {item.eccn or 'not 3A090/4A090'}"
            )
        elif flags:
            result.reason = (
                f"{item.chip} is {eccn}: the headquarters test does "
                f"not apply (unresolved: {'; '.join(flags)})"
            )
        return result
    if not in_force:
        if hits or flags:
            result.reason = f"{'; '.join(hits + flags)}, but the rule was not in force"
        return result
    if hits and caught:
        result.applies, result.status = True, Status.LICENSE_REQUIRED
        result.reason = f"{'; '.join(hits)} (D:5/Macau) and {item.chip} is {item.eccn}"
        result.red_flags = flags
        return result
    if hits:  # an is-informed chip outside 3A090
        flags = [f"{item.chip} flagged outside 3A090: {f}" for f in licensing] + flags
        result.reason = f"{'; '.join(hits)}, but {item.chip} is {eccn}; " + "; ".join(flags)
        result.status, result.red_flags = Status.REVIEW, flags
        return result
    if flags:
        result.status, result.red_flags = Status.REVIEW, flags
        result.reason = "; ".join(flags)
    return result


def _listed_customer(tree: Tree, rules: RuleSet, on: date) -> RuleResult:
    rule = rules.rule("listed_customer")
    in_force, why = _in_force(rule, on)
    by_source: dict[str, str] = rule.params.get("status_by_source", {})
    result = RuleResult(
        "listed_customer", rule.version, rule.title, in_force, why, False, Status.CLEAR, ""
    )
    entries = tree.root.listings
    if not entries:
        result.reason = "the customer matched no listing"
        return result
    result.entries = list(entries)
    result.applies = True
    result.status = worst(*(by_source.get(e.source, "review") for e in entries))
    result.reason = "; ".join(e.describe() for e in entries)
    result.paths = [[_step(tree.root, list(entries))]]
    return result


def _walk(holder: Holder) -> list[Holder]:
    out = [holder]
    for owner in holder.owners:
        out.extend(_walk(owner))
    return out


def _matches_result(
    found: list[tuple[Holder, ListEntry]],
    rule: str,
    title: str,
    why: str,
    status_if_found: str,
    describe: Callable[[Holder, ListEntry], str],
    none: str,
) -> RuleResult:
    """A rule whose outcome is the list of matched nodes itself (red flag or information)."""
    flagged = bool(found) and status_if_found != Status.CLEAR
    status = Status(status_if_found) if found else Status.CLEAR
    result = RuleResult(rule, "1", title, True, why, flagged, status, "")
    result.entries = [e for _, e in found]
    result.reason = "; ".join(describe(h, e) for h, e in found) or none
    return result


def _possible(tree: Tree) -> RuleResult:
    return _matches_result(
        [(h, e) for h in tree.nodes for e in h.possible],
        "possible_matches",
        "Possible list matches below the match threshold",
        "always applied",
        "review",
        lambda h, e: f"{h.name!r} ~ {e.source} {e.name!r} ({e.score:.2f})",
        "no near matches",
    )


def _lapsed(tree: Tree, on: date) -> RuleResult:
    """Listings that match but did not stand on the date: shown, never restricting."""
    return _matches_result(
        [(h, e) for h in tree.nodes for e in h.lapsed],
        "lapsed_listings",
        "Matches to listings not in force on the date (removed, expired or later)",
        "always applied (information only)",
        "clear",
        lambda h, e: (
            f"{h.name!r} ~ {e.source} {e.party_id} {e.name!r}: {e.date_note()}, "
            f"removed {e.delisted_on or '-'} (not in force on {on})"
        ),
        "none",
    )


def _directors(tree: Tree, screener: Screener, rules: RuleSet, on: date) -> RuleResult:
    result = RuleResult(
        "shared_directors",
        "1",
        "Directors or officers shared with listed parties",
        True,
        "always applied (red flag, BIS Affiliates Rule guidance and OFAC FAQ 398)",
        False,
        Status.CLEAR,
        "no director matched a listed party",
    )
    reasons: list[str] = []
    for name, evidence in tree.directors:
        for entry in screener.screen(name, None, "individual"):
            if entry.score >= rules.match_threshold and entry.in_force(on):
                result.entries.append(entry)
                reasons.append(f"director {name!r} ({evidence}) is {entry.describe()}")
    if reasons:
        result.applies, result.status = True, Status.REVIEW
        result.reason = "; ".join(reasons)
        result.red_flags = reasons
    return result


def _uncorroborated(tree: Tree, if_confirmed: str) -> RuleResult:
    """Name matches that would restrict but that no second attribute corroborates: review."""
    result = _matches_result(
        [(h, e) for h in tree.nodes for e, _ in h.uncorroborated],
        "uncorroborated_matches",
        "Name matches to listings not corroborated by a second attribute",
        "always applied (OFAC FAQ 5: compare date of birth, nationality, identifiers, address)",
        Status.REVIEW,
        lambda h, e: (
            f"{h.name!r} ~ {e.describe()}: "
            + next(why for entry, why in h.uncorroborated if entry is e)
        ),
        "no uncorroborated name match",
    )
    if result.entries:
        result.reason += f"; if confirmed: {if_confirmed}"
        result.red_flags = [result.reason]
    return result


def _ownership_data(tree: Tree) -> RuleResult:
    """Ownership data that could not be followed to its end or cannot be true: review."""
    problems = list(dict.fromkeys(tree.problems))
    return RuleResult(
        "ownership_data",
        "1",
        "Ownership data complete and consistent",
        True,
        "always applied (fail safe: an ownership trace that stops early, a cycle or an "
        "impossible share is reviewed, never cleared)",
        bool(problems),
        Status.REVIEW if problems else Status.CLEAR,
        "; ".join(problems) or "every ownership path traced to its end; shares consistent",
        red_flags=problems,
    )


def _rules(
    tree: Tree, item: Item, as_of: date, screener: Screener, rules: RuleSet
) -> list[RuleResult]:
    return [
        _listed_customer(tree, rules, as_of),
        _ofac(tree, rules, as_of),
        _affiliates(tree, rules, as_of),
        _hq(tree, item, rules, as_of),
        _directors(tree, screener, rules, as_of),
    ]


def _if_confirmed(tree: Tree, item: Item, as_of: date, screener: Screener, rules: RuleSet) -> str:
    """What the restricting rules would answer if every uncorroborated match were confirmed."""
    holders = [h for h in tree.nodes if h.uncorroborated]
    saved = [h.listings for h in holders]
    for holder in holders:
        holder.listings = [*holder.listings, *(e for e, _ in holder.uncorroborated)]
    try:
        results = _rules(tree, item, as_of, screener, rules)
    finally:
        for holder, listings in zip(holders, saved, strict=True):
            holder.listings = listings
    status = worst(*(r.status for r in results))
    why = [f"{r.rule}: {r.reason}" for r in results if r.status == status and r.applies]
    return f"{status.upper()} ({' | '.join(why) or 'no rule would apply'})"


def determine(
    customer: Customer,
    item: Item,
    as_of: date,
    screener: Screener,
    rules: RuleSet,
    graph: OwnershipGraph | None = None,
) -> Determination:
    """The determination for one customer, one item, one date (pure but for the screener)."""
    tree = build_tree(customer, screener, rules, as_of, graph)
    return _evaluate(customer, tree, item, as_of, screener, rules)


def determine_items(
    customer: Customer,
    items: Sequence[Item],
    as_of: date,
    screener: Screener,
    rules: RuleSet,
    graph: OwnershipGraph | None = None,
) -> list[Determination]:
    """:func:`determine` for each item in turn, with the same results. Building a tree screens
    its nodes and may fill in what the graph knows; where nothing was found or filled in (most
    customers), building it again would give the same tree, so it is built once, and the rules
    that do not depend on the item are evaluated once."""
    if not items:
        return []
    tree = build_tree(customer, screener, rules, as_of, graph)
    if len(items) == 1:
        return [_evaluate(customer, tree, items[0], as_of, screener, rules)]
    if not _rebuilds_alike(tree):
        first = _evaluate(customer, tree, items[0], as_of, screener, rules)
        return [first, *(determine(customer, i, as_of, screener, rules, graph) for i in items[1:])]
    common = _Common(
        listed=_listed_customer(tree, rules, as_of),
        ofac=_ofac(tree, rules, as_of),
        affiliates=_affiliates(tree, rules, as_of),
        climbs=climbs(tree) if tree.root.type != "individual" else None,
        directors=_directors(tree, screener, rules, as_of),
        uncorroborated=_uncorroborated(tree, ""),
        ownership=_ownership_data(tree),
        possible=_possible(tree),
        lapsed=_lapsed(tree, as_of),
    )
    return [_evaluate(customer, tree, i, as_of, screener, rules, common) for i in items]


def _rebuilds_alike(tree: Tree) -> bool:
    """Whether building the tree again would give the same tree: no node matched anything (a
    match may add graph keys and leaves lapsed and uncorroborated entries behind), the graph
    added no owner, director, ultimate parent or headquarters, and no trace was cut short."""
    if tree.ultimate_from_graph is not None or tree.notes or tree.problems:
        return False
    if len(tree.directors) != len(tree.root.directors):
        return False
    return not any(
        h.listings or h.possible or h.lapsed or h.uncorroborated or h.origin != "declared"
        for h in tree.nodes
    )


@dataclass(frozen=True, slots=True)
class _Common:
    """The results of one tree that do not depend on the item (see :func:`determine_items`)."""

    listed: RuleResult
    ofac: RuleResult
    affiliates: RuleResult
    climbs: tuple[list[Climb], bool] | None  # the ways up (None: the customer is a person)
    directors: RuleResult
    uncorroborated: RuleResult
    ownership: RuleResult
    possible: RuleResult
    lapsed: RuleResult


def _evaluate(
    customer: Customer,
    tree: Tree,
    item: Item,
    as_of: date,
    screener: Screener,
    rules: RuleSet,
    common: _Common | None = None,
) -> Determination:
    """Every rule on a built tree, and the determination they make."""
    if common is None:
        confirmed = (
            _if_confirmed(tree, item, as_of, screener, rules)
            if any(h.uncorroborated for h in tree.nodes)
            else ""
        )
        results = [
            *_rules(tree, item, as_of, screener, rules),
            _uncorroborated(tree, confirmed),
            _ownership_data(tree),
            _possible(tree),
            _lapsed(tree, as_of),
        ]
    else:
        results = [
            common.listed,
            common.ofac,
            common.affiliates,
            _hq(tree, item, rules, as_of, common.climbs),
            common.directors,
            common.uncorroborated,
            common.ownership,
            common.possible,
            common.lapsed,
        ]
    status = worst(*(r.status for r in results))
    findings = [f"{r.rule}: {r.reason}" for r in results if r.status != Status.CLEAR]
    undated = {
        e.party_id: e for r in results if r.status != Status.CLEAR for e in r.entries
        if not e.listed_on or e.date_note() != f"listed {e.listed_on}"
    }  # fmt: skip
    if undated:
        findings.append(
            "listing date unknown (listing kept in force): "
            + ", ".join(f"{e.source} {e.party_id}" for e in undated.values())
        )
    if tree.notes:
        findings.extend(tree.notes)
    explanation = (
        f"{status.upper()} for {item.chip} on {as_of}: " + " | ".join(findings)
        if status != Status.CLEAR
        else f"CLEAR for {item.chip} on {as_of}: no listing, listed ownership or D:5/Macau "
        "headquarters link found"
    )
    return Determination(
        id=customer.id,
        status=status,
        rules=results,
        explanation=explanation,
        item=item.to_dict(),
        as_of=as_of,
        rules_version=rules.version_tag(),
        snapshot_id=screener.snapshot_id,
    )
