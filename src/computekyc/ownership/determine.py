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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from computekyc.ownership.graph import OwnershipGraph
from computekyc.ownership.items import Item
from computekyc.ownership.listgraph import party_key
from computekyc.ownership.model import (
    Customer,
    Determination,
    Holder,
    ListEntry,
    RuleResult,
    worst,
)
from computekyc.ownership.rules import Rule, RuleSet
from computekyc.ownership.screener import Screener

# Graph relations that mean ownership or control of the child (director-of is not ownership;
# ultimately-consolidated-by is read only for the ultimate-parent test, so stakes never double).
OWNERSHIP_RELATIONS = {"owner", "parent", "consolidated-by", "branch-of", "subsidiary-of"}
MAX_DEPTH = 12

Predicate = Callable[[ListEntry], bool]


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


def _screen_holder(holder: Holder, screener: Screener, rules: RuleSet, on: date) -> None:
    seen: set[str] = set()
    found: list[ListEntry] = []
    for scheme, value in holder.identifiers.items():
        found.extend(screener.by_identifier(scheme, value))
    found.extend(screener.screen(holder.name, holder.country, holder.type))
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
            listings.append(entry)
        elif entry.score >= rules.possible_threshold:
            possible.append(entry)
    holder.listings = listings
    holder.possible = possible


def _graph_keys(holder: Holder, graph: OwnershipGraph) -> list[str]:
    keys: list[str] = []
    for scheme, value in holder.identifiers.items():
        keys.extend(k for k in graph.find(scheme, value) if k not in keys)
    # Identity, not restriction: a listing that did not stand on the date still names the node.
    for entry in [*holder.listings, *holder.lapsed]:
        key = party_key(entry.party_id)
        if key in graph.nodes and key not in keys:
            keys.append(key)
    return keys


def _graph_parents(keys: list[str], graph: OwnershipGraph, on: date) -> list[Holder]:
    """Parents of the graph nodes on a date; of several statements of one stake, the latest wins."""
    best: dict[str, Any] = {}
    for key in keys:
        for edge in graph.parents(key, on):
            if edge.relation not in OWNERSHIP_RELATIONS or edge.parent in keys:
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
                identifiers={s: v for s, v in node.identifiers},
                origin=edge.source,
                evidence=f"{edge.evidence}; {edge.relation}{period}",
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
                    identifiers={s: v for s, v in node.identifiers},
                    origin=edge.source,
                    evidence=edge.evidence,
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
    notes: list[str] = field(default_factory=list)


def build_tree(
    customer: Customer,
    screener: Screener,
    rules: RuleSet,
    on: date,
    graph: OwnershipGraph | None = None,
) -> Tree:
    """Screen every declared node; where nothing is declared above a node, ask the graph."""
    tree = Tree(root=customer.root)
    tree.directors = [(d, "declared by customer") for d in customer.root.directors]

    def visit(holder: Holder, depth: int, path: frozenset[str]) -> None:
        _screen_holder(holder, screener, rules, on)
        if graph is not None:
            keys = [k for k in _graph_keys(holder, graph) if k not in path]
            if depth == 0:
                tree.ultimate_from_graph = _graph_ultimate(keys, graph, on)
                tree.directors.extend(_graph_directors(keys, graph, on))
                _fill_headquarters(holder, keys, graph, tree)
            if not holder.owners and depth < MAX_DEPTH:
                holder.owners = _graph_parents(keys, graph, on)
            path = path | set(keys)
        total = sum(o.share or 0.0 for o in holder.owners)
        if total > 100.0 + 1e-6:
            tree.notes.append(
                f"stated stakes in {holder.name} add up to {total:g}% on {on}: sources disagree"
            )
        if depth < MAX_DEPTH:
            for owner in holder.owners:
                visit(owner, depth + 1, path)

    visit(customer.root, 0, frozenset())
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
        step["listed"] = [f"{e.source} {e.party_id}" for e in entries]
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


def _in_force(rule: Rule, on: date) -> tuple[bool, str]:
    period = rule.period(on)
    return period.status == "in_force", f"{period.status} on {on}: {period.why}"


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
    cap = assess(tree.root, listed, threshold, is_root=True)
    result = RuleResult(key, rule.version, rule.title, in_force, why, False, "clear", "")
    result.paths, result.entries = cap.paths + cap.unknown, cap.entries
    if cap.captured:
        # Most-restrictive owner: of the parties behind the counted stakes, the lowest rank.
        owner = min(cap.binding, key=lambda e: _rank(e, rule))
        who = f"most restrictive owner {owner.name} ({owner.source} {owner.party_id})"
        if owner.license_requirement:
            who += f": {owner.license_requirement}"
        if in_force:
            result.applies, result.status = True, status
            result.reason = (
                f"{cap.aggregate:g}% owned in aggregate by {what} parties (≥ {threshold:g}%); {who}"
            )
        else:
            flag = (
                f"majority ({cap.aggregate:g}%) {what} ownership while the rule is not in force "
                f"({rule.period(on).status}); {who}"
            )
            result.status, result.reason, result.red_flags = "review", flag, [flag]
        return result
    flags = _minority_flags(cap, rules, what)
    if flags:
        result.status, result.reason, result.red_flags = "review", "; ".join(flags), flags
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


def ultimate_parent(tree: Tree) -> tuple[Holder, list[dict[str, Any]]]:
    """Climb majority (>50%) or consolidating parents; the top is the ultimate parent."""
    node, chain = tree.root, [_step(tree.root)]
    seen = {id(node)}
    while True:
        majority = [
            o
            for o in node.owners
            if (o.share is not None and o.share > 50.0)
            or (o.share is None and o.origin.startswith(("GLEIF", "1260H", "EL")))
        ]
        if not majority:
            break
        node = max(majority, key=lambda o: o.share or 0.0)
        if id(node) in seen:
            break
        seen.add(id(node))
        chain.append(_step(node))
    if node is tree.root and tree.ultimate_from_graph is not None:
        node = tree.ultimate_from_graph
        chain.append(_step(node))
    return node, chain


def _hq(tree: Tree, item: Item, rules: RuleSet, on: date) -> RuleResult:
    rule = rules.rule("hq_advanced_computing")
    in_force, why = _in_force(rule, on)
    countries: set[str] = set(rule.params.get("extra_countries", []))
    for group in rule.params.get("country_groups", []):
        countries |= rules.countries.members(group, on)
    result = RuleResult(
        "hq_advanced_computing", rule.version, rule.title, in_force, why, False, "clear", ""
    )
    root = tree.root
    if root.type == "individual":
        result.reason = "the customer is an individual: the headquarters test covers entities"
        return result
    parent, chain = ultimate_parent(tree)
    result.paths = [list(reversed(chain))]
    hq_root = root.headquarters_country or root.country
    hq_parent = parent.headquarters_country or parent.country
    hits = []
    if hq_root in countries:
        basis = "headquarters" if root.headquarters_country else "country (no headquarters given)"
        hits.append(f"customer {basis} {hq_root}")
    if parent is not root and hq_parent in countries:
        hits.append(f"ultimate parent {parent.name} headquartered in {hq_parent}")
    caught = item.advanced_computing(list(rule.params["eccn_prefixes"]))
    if hq_root is None and hq_parent is None:
        result.status, result.reason = (
            "review",
            "headquarters country unknown for customer and parents",
        )
    elif not hits:
        result.reason = (
            f"customer HQ {hq_root or '?'}; ultimate parent {parent.name} HQ {hq_parent or '?'}: "
            "neither in D:5 or Macau"
        )
    elif not caught:
        result.reason = f"{'; '.join(hits)}, but {item.chip} is {item.eccn or 'not 3A090/4A090'}"
        licensing = [f for f in item.flags if f in rule.params.get("review_flags", [])]
        if licensing:
            flags = [f"{item.chip} flagged outside 3A090: {f}" for f in licensing]
            result.status, result.red_flags = "review", flags
            result.reason += "; " + "; ".join(flags)
    elif in_force:
        result.applies, result.status = True, "license_required"
        result.reason = f"{'; '.join(hits)} (D:5/Macau) and {item.chip} is {item.eccn}"
    else:
        result.reason = f"{'; '.join(hits)}, but the rule was not in force"
    return result


def _listed_customer(tree: Tree, rules: RuleSet, on: date) -> RuleResult:
    rule = rules.rule("listed_customer")
    in_force, why = _in_force(rule, on)
    by_source: dict[str, str] = rule.params.get("status_by_source", {})
    result = RuleResult(
        "listed_customer", rule.version, rule.title, in_force, why, False, "clear", ""
    )
    entries = tree.root.listings
    if not entries:
        result.reason = "the customer matched no listing"
        return result
    result.entries = list(entries)
    result.applies = True
    result.status = worst(*(by_source.get(e.source, "review") for e in entries))
    result.reason = "; ".join(
        f"{e.source} {e.party_id} {e.name!r} ({e.how} match {e.score:.2f})" for e in entries
    )
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
    flagged = bool(found) and status_if_found != "clear"
    result = RuleResult(
        rule, "1", title, True, why, flagged, status_if_found if found else "clear", ""
    )
    result.entries = [e for _, e in found]
    result.reason = "; ".join(describe(h, e) for h, e in found) or none
    return result


def _possible(tree: Tree) -> RuleResult:
    return _matches_result(
        [(h, e) for h in _walk(tree.root) for e in h.possible],
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
        [(h, e) for h in _walk(tree.root) for e in h.lapsed],
        "lapsed_listings",
        "Matches to listings not in force on the date (removed, expired or later)",
        "always applied (information only)",
        "clear",
        lambda h, e: (
            f"{h.name!r} ~ {e.source} {e.party_id} {e.name!r}: listed {e.listed_on or '?'}, "
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
        "clear",
        "no director matched a listed party",
    )
    reasons: list[str] = []
    for name, evidence in tree.directors:
        for entry in screener.screen(name, None, "individual"):
            if entry.score >= rules.match_threshold and entry.in_force(on):
                result.entries.append(entry)
                reasons.append(f"director {name!r} ({evidence}) is {entry.source} {entry.party_id}")
    if reasons:
        result.applies, result.status = True, "review"
        result.reason = "; ".join(reasons)
        result.red_flags = reasons
    return result


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
    results = [
        _listed_customer(tree, rules, as_of),
        _ofac(tree, rules, as_of),
        _affiliates(tree, rules, as_of),
        _hq(tree, item, rules, as_of),
        _directors(tree, screener, rules, as_of),
        _possible(tree),
        _lapsed(tree, as_of),
    ]
    status = worst(*(r.status for r in results))
    findings = [f"{r.rule}: {r.reason}" for r in results if r.status != "clear"]
    if tree.notes:
        findings.extend(tree.notes)
    explanation = (
        f"{status.upper()} for {item.chip} on {as_of}: " + " | ".join(findings)
        if status != "clear"
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
