"""The screening index: candidate generation over every listed name, scoring, explanations.

Candidates come from an inverted index, never from a scan of all parties. Keys are

* ``t:word``    every distinctive word of every reading of every listed name;
* ``d:word``    its one-letter deletions (words of 5+ letters), so a one-edit typo still meets it;
* ``s:skel``    consonant skeletons, for queries romanised from Arabic, Hebrew or Thai;
* ``j:joined``  the whole name without spaces, for merged and split words (SiemensAG);
* ``g:word``    the words of names made only of generic words (CETC's expansion);
* ``i:value``   identifiers (USCC, LEI, ISIN …), which find a party whatever its name.

Each query word votes for the names it meets, weighted by its rarity (rarest first; a word on
hundreds of names only adds to names a rarer word met). Of the best-voted names, those whose
score cannot reach the threshold whatever the fuzzy details (an upper bound from the votes) are
dropped, and the rest, at most MAX_CANDIDATES parties, are scored in full. The index is
read-only once built, so one instance can serve many threads; ``screen_many(workers=N)`` forks.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import math
import multiprocessing as mp
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from computekyc.bulk import beside, read_cache, save_pickle
from computekyc.lists.model import Identifier, Party, PartyType
from computekyc.screening.scoring import (
    CONFLICT_COST,
    CONFLICT_WEIGHT,
    DEFAULT_THRESHOLD,
    EXTRA_COST,
    KIND_WEIGHT,
    Explanation,
    Memo,
    best_match,
    explain,
)
from computekyc.screening.text import (
    DISTINCTIVE,
    GENERIC,
    LEGAL,
    NAME,
    NUMBER,
    PATRONYMIC,
    VOWEL_POOR,
    Analysis,
    Token,
    analyze,
)
from computekyc.screening.vocab import extra_alias_path

INDEX_FORMAT = 1
MAX_CANDIDATES = 24
MAX_EXAMINED = 4 * MAX_CANDIDATES
MAX_POSTINGS = 4000  # keys on more names than this only vote when nothing rarer does
COMMON_HIT = 300  # a word on more names than this only adds to names a rarer word met
COMMON_DF = 20  # a word on more names than this starts to weigh less
# A word's weight moves in steps of half an octave of its frequency, not with every name: a list
# update that adds a few names carrying a common word leaves the word's weight as it was, and so
# every stored answer that rests on it (delta screening re-checks only words that change step).
RARITY_STEPS_PER_OCTAVE = 2
TYPE_FACTOR = 0.8
# A vessel or aircraft named with one word (HORIZON, ZEPHYR) met as one word of a longer name
# (Horizon Digital GmbH): craft take common words for names, and a firm or a person is not a craft.
CRAFT_WORD_FACTOR = 0.75
_CRAFT = (PartyType.VESSEL, PartyType.AIRCRAFT)
COUNTRY_FACTOR = 0.9
DOB_FACTOR = 0.75
ID_CONFLICT_FACTOR = 0.7
CONTEXT_MAX_RAISE = 0.05  # the most that country and birth date can add to a name score
_WEIGHED = (NAME, PATRONYMIC)  # the kinds whose weight depends on rarity
BOUND_MARGIN = 0.05  # slack for fuzzy matches whose two words weigh differently
# The cheapest rates at which the scoring formula charges leftover distinctive words.
_BOUND_CONFLICT = 2 * CONFLICT_COST * CONFLICT_WEIGHT[PATRONYMIC]
_BOUND_EXTRA = EXTRA_COST[PATRONYMIC]

_ID_CLEAN = re.compile(r"[\s\-./]")


def _clean_id(value: str) -> str:
    return _ID_CLEAN.sub("", value).upper()


@dataclass(slots=True)
class Hit:
    party_id: str
    name: str  # the party's primary listed name
    matched_name: str  # the name or alias that matched
    source: str
    programs: list[str]
    score: float
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "name": self.name,
            "matched_name": self.matched_name,
            "source": self.source,
            "programs": self.programs,
            "score": self.score,
            "explanation": self.explanation.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Query:
    """One name to screen, with whatever else the caller knows about it."""

    name: str
    country: str | None = None
    type: str | None = None  # entity | individual
    date_of_birth: str | None = None
    identifiers: Mapping[str, str] | Sequence[Identifier] | None = None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _id_values(identifiers: Mapping[str, str] | Sequence[Identifier] | None) -> dict[str, str]:
    if not identifiers:
        return {}
    if isinstance(identifiers, Mapping):
        return {_clean_id(v): k.lower() for k, v in identifiers.items() if v}
    return {_clean_id(i.value): i.scheme.lower() for i in identifiers if i.value}


def vocab_digest() -> str:
    """The version of the code and tables that analyse and index names."""
    digest = hashlib.sha256(str(INDEX_FORMAT).encode())
    package = resources.files("computekyc.screening")
    # The code that analyses and indexes names is part of the key too: a cache written by
    # another version of it would hold other tokens, or other fields.
    for name in ("text.py", "scoring.py", "index.py", "vocab.py", "chinese.py", "eastasian.py"):
        digest.update(package.joinpath(name).read_bytes())
    data = package.joinpath("data")
    for name in sorted(p.name for p in data.iterdir() if p.name.endswith((".csv", ".tsv"))):
        digest.update(data.joinpath(name).read_bytes())
    extra = extra_alias_path()  # an analyst's own aliases change the index too
    if extra is not None:
        digest.update(extra.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FormReach:
    """What an index's candidate search reads of one form of a query name, kept so that a name
    can be checked against a small index without being analysed again
    (:meth:`ScreeningIndex.may_hit`)."""

    # Per distinctive word (repeats kept: each votes): its lookup term (``w:WORD\0SKELETON``),
    # its kind's weight, and the word when its weight also depends on its rarity, else "".
    words: tuple[tuple[str, float, str], ...]
    supporting: float  # the kind weights of the other words (the bound counts them matched)
    # Lookup terms of names always scored when met: the joined name, and the words of a form
    # without distinctive words (``g:`` and, for Han generic words, ``t:`` keys).
    forced: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FormReach, (self.words, self.supporting, self.forced))  # see NameKeys


def word_rarity(names: int | None) -> float:
    """The weight factor of a word on ``names`` listed names (None: on ``COMMON_DF`` or fewer):
    1.0 for rare words, 0.12 less per octave above ``COMMON_DF``, down to 0.4; read at the middle
    of the word's half-octave step (see ``RARITY_STEPS_PER_OCTAVE``)."""
    if names is None or names <= COMMON_DF:
        return 1.0
    steps = RARITY_STEPS_PER_OCTAVE
    octaves = (math.floor(math.log2(names / COMMON_DF) * steps) + 0.5) / steps
    return max(0.4, round(1.0 - 0.12 * octaves, 6))


def _score_bound(matched: float, w_query: float, w_cand: float, supporting: float) -> float:
    """The score bound of :meth:`ScreeningIndex._bound` for one form. It never falls as
    ``matched`` grows (each matched unit adds 2 to the numerator and takes more off the
    charged leftovers than it adds), so votes counted generously bound it from above; it never
    rises as ``w_cand`` grows (a heavier name leaves more unmatched)."""
    left_q = w_query - matched if w_query > matched else 0.0
    left_c = w_cand - matched * 1.25 if w_cand > matched * 1.25 else 0.0
    conflict = left_q if left_q < left_c else left_c
    numerator = 2 * (matched + supporting)
    denominator = (
        numerator + _BOUND_CONFLICT * conflict + _BOUND_EXTRA * (left_q + left_c - 2 * conflict)
    )
    return numerator / denominator if denominator else 1.0


# The index cache files being written by forked processes: the call that waits for each.
_saves: list[Callable[[], None]] = []
_saves_lock = threading.Lock()


def pickle_beside(path: Path, value: object) -> None:
    """``value`` pickled into ``path`` (atomically) by a forked process while this one goes
    on: for the command line only, never inside a server; :func:`wait_for_index_saves` waits."""
    join = beside(lambda: save_pickle(path, value), fork=True)
    with _saves_lock:
        _saves.append(join)


def wait_for_index_saves() -> None:
    """Wait until every index cache file this process set a forked process writing is whole."""
    with _saves_lock:
        joins = list(_saves)
        _saves.clear()
    for join in joins:
        join()


@dataclass(slots=True)
class ScreeningIndex:
    parties: list[Party]
    names: list[tuple[int, str, Analysis]] = field(default_factory=list)  # party, name, analysis
    postings: dict[str, list[int]] = field(default_factory=dict)
    doc_freq: dict[str, int] = field(default_factory=dict)  # only words on > COMMON_DF names
    weights: list[float] = field(default_factory=list)  # per name: its distinctive words' weight
    snapshot_id: str | None = None
    # rarity() per word, made on first use (the scorer asks it for every token of every pair).
    _rarity: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        parties: Iterable[Party],
        snapshot_id: str | None = None,
        doc_freq: Mapping[str, int] | None = None,
        previous: ScreeningIndex | None = None,
    ) -> ScreeningIndex:
        """Index every name and alias of ``parties`` (any iterable of :class:`Party`).

        ``doc_freq``: word frequencies of another (larger) index to weigh words by, so that an
        index over a few parties (a list diff) scores exactly as the whole snapshot's would.
        ``previous``: an index built by this same code and vocabulary (an older snapshot's):
        the analyses of names it already holds are taken from it instead of made again — most
        names of a new snapshot are those of the last one."""
        known: dict[str, Analysis] = (
            {name: analysis for _, name, analysis in previous.names} if previous else {}
        )
        index = cls(parties=list(parties), snapshot_id=snapshot_id)
        postings: dict[str, list[int]] = {}
        freq: Counter[str] = Counter()
        tokens: dict[Token, Token] = {}

        found = postings.get
        names = index.names
        # A name's blocking keys (over all its forms) and distinctive words, once per name:
        # many names are on several lists (the CSL repeats the SDN); a word's keys once per word.
        seen: dict[str, tuple[tuple[str, ...], set[str]]] = {}
        word_keys: dict[tuple[str, str], tuple[str, ...]] = {}
        for p_idx, party in enumerate(index.parties):
            first = len(names)
            for name in party.all_names():
                if not name or not name.strip():
                    continue
                analysis = known.get(name) or _interned(analyze(name), tokens)
                entry = len(names)
                names.append((p_idx, name, analysis))
                made = seen.get(name)
                if made is None:
                    keys: dict[str, None] = {}  # in the order the forms post them
                    words: set[str] = set()
                    for form in analysis.forms:
                        keys.update(dict.fromkeys(index._keys(form.tokens, word_keys)))
                        words.update(t.text for t in form.tokens if t.kind in DISTINCTIVE)
                    made = seen[name] = (tuple(keys), words)
                # Entries only grow: a name's entry is never in a bucket yet.
                for key in made[0]:
                    bucket = found(key)
                    if bucket is None:
                        postings[key] = [entry]
                    else:
                        bucket.append(entry)
                freq.update(made[1])
            if len(names) > first:
                for ident in party.identifiers:
                    if ident.value:
                        # A party's two identifiers of one value are posted once.
                        bucket = postings.setdefault("i:" + _clean_id(ident.value), [])
                        if not bucket or bucket[-1] != first:
                            bucket.append(first)
        index.postings = postings
        index.doc_freq = (
            dict(doc_freq)
            if doc_freq is not None
            else {w: n for w, n in freq.items() if n > COMMON_DF}
        )
        weight_of: dict[str, float] = {}  # a name's weight, once per name
        weights = index.weights
        for _, name, analysis in names:
            weight = weight_of.get(name)
            if weight is None:
                weight = weight_of[name] = min(
                    sum(index._token_weight(t) for t in form.tokens if t.kind in _WEIGHED)
                    for form in analysis.forms
                )
            weights.append(weight)
        return index

    @staticmethod
    def _keys(
        tokens: tuple[Any, ...], word_keys: dict[tuple[str, str], tuple[str, ...]] | None = None
    ) -> set[str]:
        """The posting keys of one form's tokens; ``word_keys``: each word's own keys, kept
        across the names of a build."""
        keys: set[str] = set()
        distinctive = [t for t in tokens if t.kind in DISTINCTIVE and t.kind != NUMBER]
        for t in distinctive:
            if word_keys is None:
                keys.update(ScreeningIndex._word_keys(t.text, t.skel))
                continue
            own = word_keys.get((t.text, t.skel))
            if own is None:
                own = word_keys[(t.text, t.skel)] = ScreeningIndex._word_keys(t.text, t.skel)
            keys.update(own)
        if not distinctive:
            keys.update("g:" + t.text for t in tokens if t.kind != LEGAL)
        joined = "".join(t.text.replace(" ", "") for t in tokens if t.kind != LEGAL)
        if len(joined) >= 5:
            keys.add("j:" + joined)
        return keys

    @staticmethod
    def _word_keys(text: str, skel: str) -> tuple[str, ...]:
        """The keys one distinctive word posts: itself, its one-letter deletions (5+ letters),
        its consonant skeleton."""
        keys = ["t:" + text]
        if len(text) >= 5:
            keys.extend("d:" + d for d in _deletions(text))
        if len(skel) >= 2:
            keys.append("s:" + skel)
        return tuple(keys)

    @staticmethod
    def reach_forms(analysis: Analysis) -> tuple[FormReach, ...]:
        """Per form of a query name, what :meth:`may_hit` needs (see :class:`FormReach`)."""
        forms: list[FormReach] = []
        for form in analysis.forms:
            tokens = form.tokens
            words: list[tuple[str, float, str]] = []
            forced: set[str] = set()
            for t in tokens:
                if t.kind in DISTINCTIVE and t.kind != NUMBER:
                    skel = t.skel if t.script in VOWEL_POOR and len(t.skel) >= 2 else ""
                    weighed = t.text if t.kind in _WEIGHED else ""
                    words.append((f"w:{t.text}\0{skel}", KIND_WEIGHT[t.kind], weighed))
            if not words:
                forced.update("g:" + t.text for t in tokens if t.kind != LEGAL)
                forced.update("t:" + t.text for t in tokens if t.script == "han")
            forced.add("j:" + "".join(t.text.replace(" ", "") for t in tokens if t.kind != LEGAL))
            forced.add("j:" + "".join(t.text.replace(" ", "") for t in tokens))
            supporting = sum(KIND_WEIGHT[t.kind] for t in tokens if t.kind not in _WEIGHED)
            forms.append(FormReach(tuple(words), supporting, tuple(sorted(forced))))
        return tuple(forms)

    def may_hit(
        self,
        forms: Sequence[FormReach],
        threshold: float,
        memo: dict[str, tuple[frozenset[int], float]] | None = None,
    ) -> bool:
        """Whether screening the name of ``forms`` against this index may give any hit at
        ``threshold``; False only when it cannot: no name it can meet is always scored, and
        the score bound of every name its words meet (each word counted as matched on every
        posting key it may read, typo neighbours included) stays under the threshold, as the
        candidate search itself would find. ``memo``: :meth:`term_entries`, across queries."""
        memo = memo if memo is not None else {}
        known = memo.get
        postings = self.postings
        cut = threshold - CONTEXT_MAX_RAISE - BOUND_MARGIN
        for form in forms:
            for term in form.forced:
                if term in postings:  # a posting key itself (term_keys), never an empty one
                    return True
            met: list[tuple[float, tuple[frozenset[int], float]]] = []
            w_query = 0.0
            for term, weight, weighed in form.words:
                w = weight * self.rarity(weighed) if weighed else weight
                w_query += w
                found = known(term) or self.term_entries(term, memo)
                if found[0]:
                    met.append((w, found))
            if len(met) == 1:
                # One word meets: the bound falls as a name weighs more, so the lightest of
                # the names it meets bounds them all.
                w, (_, lightest) = met[0]
                if _score_bound(w, w_query, lightest, form.supporting) >= cut:
                    return True
                continue
            matched: dict[int, float] = {}
            for w, (entries, _) in met:
                for entry in entries:
                    matched[entry] = matched.get(entry, 0.0) + w
            for entry, votes in matched.items():
                if _score_bound(votes, w_query, self.weights[entry], form.supporting) >= cut:
                    return True
        return False

    def term_entries(
        self, term: str, memo: dict[str, tuple[frozenset[int], float]]
    ) -> tuple[frozenset[int], float]:
        """The names a lookup term of :meth:`reach_forms` meets, and the least weight among
        them (kept in ``memo``)."""
        found = memo.get(term)
        if found is None:
            postings = self.postings
            met: set[int] = set()
            for key in ScreeningIndex.term_keys(term):
                met.update(postings.get(key, ()))
            weights = self.weights
            found = memo[term] = (frozenset(met), min((weights[e] for e in met), default=0.0))
        return found

    @staticmethod
    def term_keys(term: str) -> set[str]:
        """The posting keys a lookup term of :meth:`reach_forms` reads: ``w:WORD\0SKELETON`` a
        distinctive word (skeleton only in a vowel-poor script) reads those of
        :meth:`_word_hits`, typo neighbours always included (a superset); any other term is a
        posting key itself."""
        if not term.startswith("w:"):
            return {term}
        text, skel = term[2:].split("\0", 1)
        keys = {"t:" + text, "d:" + text}
        if len(text) >= 5:
            for d in _deletions(text):
                keys.add("d:" + d)
                keys.add("t:" + d)
        if skel:
            keys.add("s:" + skel)
        return keys

    def rarity(self, word: str) -> float:
        """1.0 for words on few listed names, down to 0.4 for the commonest (Mohammad, Ali):
        :func:`word_rarity` of the word's frequency."""
        known = self._rarity.get(word)
        if known is not None:
            return known
        value = word_rarity(self.doc_freq.get(word))
        if len(self._rarity) < _RARITY_MEMO:
            self._rarity[word] = value
        return value

    # -- caching --------------------------------------------------------------------------------
    @staticmethod
    def cache_path(home: Path, snapshot_id: str) -> Path:
        return home / "screening" / f"index-{snapshot_id}-{vocab_digest()}.pickle"

    def save(self, path: Path) -> None:
        # Atomic, through a temp file of its own: two commands building the same snapshot's
        # index at once (a batch job and an analyst) never rename each other's half-written file.
        save_pickle(path, self)

    @classmethod
    def _load_or_none(cls, path: Path) -> ScreeningIndex | None:
        """Our own cache file under $COMPUTEKYC_HOME (read with the collector paused: it would
        otherwise walk the growing heap of index objects many times over); a stale or broken
        cache is None, and rebuilt."""
        found = read_cache(path)
        return found if isinstance(found, cls) else None

    @classmethod
    def cached(
        cls,
        home: Path,
        snapshot_id: str,
        parties: Callable[[], Iterable[Party]],
        *,
        save_beside: bool = False,
        reusing: Callable[[ScreeningIndex], Iterable[Party] | None] | None = None,
    ) -> ScreeningIndex:
        """The index of a list snapshot, from the disk cache when present, else built and saved
        (reusing the name analyses of the newest cached index of this code and vocabulary).

        ``save_beside``: the cache file is written by a forked process while this one goes on
        (for the command line only, never inside a server); :func:`wait_for_index_saves`
        waits for it. ``reusing(previous)``: the parties, made with the help of the newest
        cached index (its parties are mostly the snapshot's), or None when it cannot help."""
        path = cls.cache_path(home, snapshot_id)
        if path.is_file():
            found = cls._load_or_none(path)
            if found is not None:
                return found
        digest = path.stem.rsplit("-", 1)[-1]
        older = sorted(
            (p for p in path.parent.glob(f"index-*-{digest}.pickle") if p != path),
            key=lambda p: p.stat().st_mtime,
        )
        previous = cls._load_or_none(older[-1]) if older else None
        made = reusing(previous) if reusing is not None and previous is not None else None
        index = cls.build(
            parties() if made is None else made, snapshot_id=snapshot_id, previous=previous
        )
        del previous
        for stale in path.parent.glob(f"index-{snapshot_id}-*.pickle"):
            stale.unlink(missing_ok=True)  # written by another version of the code or tables
        if save_beside:
            pickle_beside(path, index)
        else:
            index.save(path)
        return index

    # -- screening ------------------------------------------------------------------------------
    def _token_weight(self, t: Token) -> float:
        return KIND_WEIGHT[t.kind] * (self.rarity(t.text) if t.kind in (NAME, PATRONYMIC) else 1.0)

    def _word_hits(self, t: Token) -> set[int]:
        """The names a query word meets: exactly, by a one-letter typo, or by its skeleton."""
        postings = self.postings
        keys = {"t:" + t.text, "d:" + t.text}
        exact = postings.get("t:" + t.text)
        if len(t.text) >= 5 and (exact is None or len(exact) < COMMON_DF):
            # Typo neighbours only for words the lists do not already hold often: a
            # common word met exactly ("Mohammad") gains nothing from its variants.
            deletions = _deletions(t.text)
            keys.update("d:" + d for d in deletions)
            keys.update("t:" + d for d in deletions)
        if t.script in VOWEL_POOR and len(t.skel) >= 2:
            keys.add("s:" + t.skel)
        hit: set[int] = set()
        for key in keys:
            bucket = postings.get(key)
            if bucket is not None:
                hit.update(bucket)
        return hit

    def _candidates(
        self,
        query: Analysis,
        ids: dict[str, str],
        limit: float = 0.0,
        memo: dict[str, set[int]] | None = None,
    ) -> list[int]:
        """The names worth scoring (see the module docstring). ``memo``: the names each query
        word meets, kept across the queries of a batch (never changed once made)."""
        votes: dict[int, float] = {}
        per_form: list[tuple[float, float, dict[int, float]]] = []
        forced: set[int] = set()  # met by the joined name or an identifier: always scored
        postings = self.postings
        for form in query.forms:
            tokens = form.tokens
            distinctive = [t for t in tokens if t.kind in DISTINCTIVE and t.kind != NUMBER]
            hits: list[tuple[float, set[int]]] = []
            for t in distinctive:
                if memo is None:
                    hit = self._word_hits(t)
                else:
                    word = f"{t.text}\0{t.skel if t.script in VOWEL_POOR else ''}"
                    found = memo.get(word)
                    if found is None:
                        found = memo[word] = self._word_hits(t)
                    hit = found
                if hit:
                    hits.append((self._token_weight(t), hit))
            if not distinctive:
                for t in tokens:
                    if t.kind != LEGAL:
                        bucket = postings.get("g:" + t.text)
                        if bucket:
                            hits.append((0.5, set(bucket)))
                    if t.script == "han" and t.kind == GENERIC:
                        # A word the Chinese term table counts as generic (飞机 = aircraft, 机场
                        # = airport) that listed names carry as a name word: it votes like one.
                        bucket = postings.get("t:" + t.text)
                        if bucket:
                            hits.append((KIND_WEIGHT[NAME] * self.rarity(t.text), set(bucket)))
            joined = "".join(t.text.replace(" ", "") for t in tokens if t.kind != LEGAL)
            with_legal = "".join(t.text.replace(" ", "") for t in tokens)
            for key in ("j:" + joined, "j:" + with_legal):
                forced.update(postings.get(key, ()))
            form_votes: dict[int, float] = {}
            skipped: list[tuple[float, set[int]]] = []
            # Rarest words first; a common word then only adds to names a rarer word already
            # met, so "Mohammad" does not drag in thousands of names that lack the rest.
            hits.sort(key=lambda wh: len(wh[1]))
            for weight, hit in hits:
                if len(hit) > MAX_POSTINGS:
                    skipped.append((weight, hit))
                elif not form_votes:
                    form_votes = dict.fromkeys(hit, weight)  # = 0.0 + weight, in hit's order
                elif len(hit) > COMMON_HIT:
                    for entry in form_votes.keys() & hit:
                        form_votes[entry] += weight
                else:
                    so_far = form_votes.get
                    for entry in hit:
                        form_votes[entry] = so_far(entry, 0.0) + weight
            if not form_votes and skipped:
                # Only very common words ("Mohammad Ali"): names that have several of them.
                for weight, hit in skipped:
                    for entry in hit:
                        form_votes[entry] = form_votes.get(entry, 0.0) + weight
                top = max(w for w, _ in skipped)
                form_votes = {e: v for e, v in form_votes.items() if v > top}
            w_query = sum(self._token_weight(t) for t in distinctive)
            supporting = sum(
                KIND_WEIGHT[t.kind] for t in tokens if t.kind not in (NAME, PATRONYMIC)
            )
            per_form.append((w_query, supporting, form_votes))
            if not votes:
                votes = dict(form_votes)  # = 0.0 + vote, in the same order
            else:
                total = votes.get
                for entry, vote in form_votes.items():
                    votes[entry] = total(entry, 0.0) + vote
        for value in ids:
            forced.update(postings.get("i:" + value, ()))
        cut = limit - CONTEXT_MAX_RAISE - BOUND_MARGIN
        for entry in forced:
            votes[entry] = votes.get(entry, 0.0) + 10.0
        # Only the best-voted names are examined: a name further down cannot outvote them.
        # Among equal votes, names whose own weight is closest to the query's come first: of a
        # party's many aliases, the one of the query's length is the likeliest to score best.
        size = max((w for w, _, _ in per_form), default=0.0)
        ranked = self._ranked(votes, forced, size)
        if not ranked:
            return []
        # Names met by only a small share of the best vote are not worth scoring; forced names
        # (whole-name and identifier matches) are always scored and do not raise the floor.
        floor = 0.2 * max((v for e, v in ranked if e not in forced), default=0.0)
        chosen: list[int] = []
        per_party: dict[int, int] = {}
        for entry, vote in ranked:
            if len(per_party) >= MAX_CANDIDATES:
                break
            if vote < floor and entry not in forced:
                break  # forced names carry +10 and so all come first
            if entry not in forced and self._bound(entry, per_form) < cut:
                continue  # cannot reach the threshold whatever the fuzzy details
            party = self.names[entry][0]
            if per_party.get(party, 0) < 2:  # a party's two best-voted names are enough
                per_party[party] = per_party.get(party, 0) + 1
                chosen.append(entry)
        return chosen

    def _ranked(
        self, votes: dict[int, float], forced: set[int], size: float
    ) -> list[tuple[int, float]]:
        """The MAX_EXAMINED best-voted names, as :meth:`_candidates` examines them: the names
        below its floor (a fifth of the best vote of a name not forced) dropped first when that
        cannot change what it examines (see :func:`_rank_votes`)."""
        weights = self.weights
        if not PREFILTER or len(votes) <= MAX_EXAMINED or len(forced) >= MAX_EXAMINED:
            return _rank_votes(votes.items(), weights, size)
        # With fewer forced names than places, the ranking holds a name not forced, and the best
        # vote of those in it is the best of all: the floor is known before ranking.
        best = (
            max(votes.values())
            if not forced
            else max((v for e, v in votes.items() if e not in forced), default=0.0)
        )
        floor = 0.2 * best
        if any(votes[e] < floor for e in forced):
            return _rank_votes(votes.items(), weights, size)  # a forced name the floor stops at
        # The ranking cut at its first name under the floor: the same names in the same order.
        return _rank_votes([kv for kv in votes.items() if kv[1] >= floor], weights, size)

    def _bound(self, entry: int, per_form: list[tuple[float, float, dict[int, float]]]) -> float:
        """An upper bound of the name score from the votes alone, mirroring the scoring formula:
        every voting query word matched perfectly, every supporting word (generic, place,
        number, legal form) matched too, and only what must stay unmatched charged, at the
        cheapest rates."""
        best = 0.0
        w_cand = self.weights[entry]
        for w_query, supporting, form_votes in per_form:
            bound = _score_bound(form_votes.get(entry, 0.0), w_query, w_cand, supporting)
            if bound > best:
                best = bound
        return best

    def _context(
        self, score: float, party: Party, query: Query, ids: dict[str, str], exp: Explanation
    ) -> float:
        """Adjust a name score with what both sides say about type, country, birth date, ids."""
        for ident in party.identifiers:
            value = _clean_id(ident.value)
            if value in ids:
                exp.raised_by.append(f"identifier {ident.scheme} {ident.value} matches")
                return max(score, 0.99)
        schemes = {i.scheme.lower(): _clean_id(i.value) for i in party.identifiers}
        for value, scheme in ids.items():
            if scheme in schemes and schemes[scheme] != value and scheme in ("uscc", "lei"):
                score *= ID_CONFLICT_FACTOR
                exp.lowered_by.append(f"{scheme} differs: {value} vs {schemes[scheme]}")
                break
        qtype = (query.type or "").lower()
        ptype = str(party.type)
        known = ("entity", "individual", "vessel")
        if qtype in ("entity", "individual") and ptype in known and qtype != ptype:
            score *= TYPE_FACTOR
            exp.lowered_by.append(f"type differs: {qtype} vs listed {ptype}")
        if (
            party.type in _CRAFT
            and len(exp.matches) == 1
            and exp.unmatched_query
            and not exp.unmatched_candidate
        ):
            score *= CRAFT_WORD_FACTOR
            exp.lowered_by.append(
                f"the listed {party.type}'s one-word name is one word of a longer name"
            )
        if query.country:
            countries = party.all_countries()
            if countries:
                code = query.country.upper()
                if code in countries:
                    score = min(1.0, score + 0.02)
                    exp.raised_by.append(f"country {code} agrees")
                else:
                    score *= COUNTRY_FACTOR
                    exp.lowered_by.append(f"country {code} not in {','.join(countries)}")
        if query.date_of_birth and party.dates_of_birth:
            score = self._dob(score, query.date_of_birth, party.dates_of_birth, exp)
        return score

    @staticmethod
    def _dob(score: float, dob: str, listed: list[str], exp: Explanation) -> float:
        years = {d[:4] for d in listed if d[:4].isdigit()}
        if dob in listed:
            exp.raised_by.append(f"date of birth {dob} agrees")
            return min(1.0, score + 0.05)
        if dob[:4] in years:
            exp.raised_by.append(f"year of birth {dob[:4]} agrees")
            return min(1.0, score + 0.02)
        if years and dob[:4].isdigit() and all(abs(int(y) - int(dob[:4])) > 1 for y in years):
            exp.lowered_by.append(f"year of birth {dob[:4]} vs listed {','.join(sorted(years))}")
            return score * DOB_FACTOR
        return score

    def _name_scores(
        self,
        analysis: Analysis,
        ids: dict[str, str],
        limit: float,
        memo: dict[str, set[int]] | None = None,
    ) -> dict[int, tuple[float, int, Any]]:
        """Per candidate party, its best-scoring listed name: (name score, entry, scoring).
        Depends on the name (and identifiers) only, not on country, type or birth date."""
        best: dict[int, tuple[float, int, Any]] = {}
        # A name carried by several parties (a 1260H party once per tranche, a firm on three
        # lists) is one analysis object: it is scored once.
        # Equal words of listed names are one token object (see _interned): their similarity to
        # a query word is computed once per query.
        scored: dict[int, Any] = {}
        similar: Memo = {}
        for entry in self._candidates(analysis, ids, limit, memo):
            p_idx, _, cand = self.names[entry]
            found = scored.get(id(cand))
            if found is None:
                found = scored[id(cand)] = best_match(analysis, cand, self.rarity, similar)
            previous = best.get(p_idx)
            if previous is None or found[0].score > previous[0]:
                best[p_idx] = (found[0].score, entry, found)
        return best

    def _hits(
        self,
        query: Query,
        analysis: Analysis,
        ids: dict[str, str],
        limit: float,
        best: dict[int, tuple[float, int, Any]],
        explained: dict[int, Explanation] | None = None,
    ) -> list[Hit]:
        """The hits of one query from its name's scores: context, explanation, threshold.
        ``explained``: the explanations of this name's scores already made for another query of
        the batch (copied, then adjusted for this query's context)."""
        hits: list[Hit] = []
        for p_idx, (name_score, entry, (scored, qf, cf)) in best.items():
            party = self.parties[p_idx]
            if name_score + CONTEXT_MAX_RAISE < limit and not (
                ids and any(_clean_id(i.value) in ids for i in party.identifiers)
            ):
                continue  # context cannot lift it to the threshold: skip the explanation work
            if explained is None:
                exp = explain(scored, analysis, self.names[entry][2], qf, cf)
            else:
                made = explained.get(entry)
                if made is None:
                    made = explained[entry] = explain(
                        scored, analysis, self.names[entry][2], qf, cf
                    )
                exp = _copy_explanation(made)
            score = self._context(name_score, party, query, ids, exp)
            if score < limit:
                continue
            common = [m.candidate for m in exp.matches if self.rarity(m.candidate) < 0.8]
            if common and score < 1.0:
                exp.lowered_by.append("common on the lists, weighs less: " + ", ".join(common))
            matched = self.names[entry][1]
            programs = list(party.programs)
            hit = Hit(party.party_id, party.name, matched, party.source, programs, score, exp)
            hit.score = round(score, 4)
            hits.append(hit)
        hits.sort(key=lambda h: (-h.score, h.party_id))
        return hits

    def screen_query(self, query: Query, threshold: float | None = None) -> list[Hit]:
        limit = DEFAULT_THRESHOLD if threshold is None else threshold
        analysis = analyze(query.name)
        ids = _id_values(query.identifiers)
        return self._hits(query, analysis, ids, limit, self._name_scores(analysis, ids, limit))

    def screen_queries(
        self,
        queries: Sequence[Query],
        threshold: float | None = None,
        analyses: dict[str, Analysis] | None = None,
    ) -> list[list[Hit]]:
        """Screen many queries, each exactly as :meth:`screen_query` would: a name that several
        queries share (a director who is also an owner, the same name in two countries) is
        matched against the lists once, and each query then weighs its own country, type and
        birth date; candidate postings of recurring words are looked up once. ``analyses``:
        filled with each name's analysis (for callers that keep them)."""
        limit = DEFAULT_THRESHOLD if threshold is None else threshold
        memo: dict[str, set[int]] = {}
        scores: dict[str, dict[int, tuple[float, int, Any]]] = {}
        explanations: dict[str, dict[int, Explanation]] = {}
        # The hits of a name queried with nothing else (no country, type, birth date or id):
        # a repeat of it gets copies.
        bare: dict[str, list[Hit]] = {}
        out: list[list[Hit]] = []
        for query in queries:
            plain = not (query.country or query.type or query.date_of_birth or query.identifiers)
            made = bare.get(query.name) if plain else None
            if made is not None:
                out.append([_copy_hit(hit) for hit in made])
                continue
            analysis = analyze(query.name)
            if analyses is not None:
                analyses[query.name] = analysis
            ids = _id_values(query.identifiers)
            explained: dict[int, Explanation] | None = None
            if ids:
                best = self._name_scores(analysis, ids, limit, memo)
            else:
                found = scores.get(query.name)
                if found is None:
                    if len(scores) >= _NAME_MEMO:
                        scores.clear()
                        explanations.clear()
                        bare.clear()
                    found = scores[query.name] = self._name_scores(analysis, ids, limit, memo)
                best = found
                explained = explanations.setdefault(query.name, {})
            if len(memo) >= _TOKEN_MEMO:
                memo.clear()
            hits = self._hits(query, analysis, ids, limit, best, explained)
            if plain:
                bare[query.name] = hits
            out.append(hits)
        return out

    def screen(
        self,
        name: str,
        country: str | None = None,
        type: str | PartyType | None = None,
        date_of_birth: str | None = None,
        identifiers: Mapping[str, str] | Sequence[Identifier] | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        """Listed parties that ``name`` may be, best first, at or above ``threshold``."""
        kind = str(type) if type is not None else None
        return self.screen_query(Query(name, country, kind, date_of_birth, identifiers), threshold)

    def screen_many(
        self,
        queries: Iterable[Query | str],
        threshold: float | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
    ) -> list[list[Hit]]:
        """Screen many names; results in input order. ``progress(n)`` is called as queries
        finish. ``workers > 1`` screens in that many forked processes (Linux/macOS), which share
        this index copy-on-write; it pays off from a few thousand names."""
        items = [q if isinstance(q, Query) else Query(q) for q in queries]
        # Queries of one name side by side (results are put back in input order), so that a
        # name is matched once and its words' postings stay in the memo.
        order = sorted(range(len(items)), key=lambda i: items[i].name)
        grouped = [items[i] for i in order]
        if workers > 1 and len(items) >= PARALLEL_MIN and "fork" in mp.get_all_start_methods():
            found = self._screen_forked(grouped, threshold, progress, workers)
        else:
            found = []
            for start in range(0, len(grouped), CHUNK):
                chunk = self.screen_queries(grouped[start : start + CHUNK], threshold)
                found.extend(chunk)
                if progress is not None:
                    progress(len(chunk))
        out: list[list[Hit]] = [[] for _ in items]
        for position, hits in zip(order, found, strict=True):
            out[position] = hits
        return out

    def _screen_forked(
        self,
        items: list[Query],
        threshold: float | None,
        progress: Callable[[int], None] | None,
        workers: int,
    ) -> list[list[Hit]]:
        global _FORKED
        chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
        out: list[list[Hit]] = []
        with _FORK_LOCK:
            _FORKED = (self, threshold)
            # Frozen objects are skipped by the children's garbage collector, which would
            # otherwise write to every object of the index and copy all of its memory pages.
            gc.freeze()
            try:
                with mp.get_context("fork").Pool(workers) as pool:
                    for result in pool.imap(_screen_chunk, chunks):  # imap keeps input order
                        out.extend(result)
                        if progress is not None:
                            progress(len(result))
            finally:
                gc.unfreeze()
                _FORKED = None
        return out


# The index handed to forked workers: set just before the fork, so children inherit it.
_FORKED: tuple[ScreeningIndex, float | None] | None = None
_FORK_LOCK = threading.Lock()
PARALLEL_MIN = 2000
CHUNK = 250
_NAME_MEMO = 4096  # names whose scores a batch keeps (same names are screened side by side)
_TOKEN_MEMO = 200_000  # query words whose candidate postings a batch keeps


def _copy_explanation(exp: Explanation) -> Explanation:
    """A copy whose lists a query's context may extend without touching the original."""
    return Explanation(
        matches=list(exp.matches),
        ignored=list(exp.ignored),
        unmatched_query=list(exp.unmatched_query),
        unmatched_candidate=list(exp.unmatched_candidate),
        lowered_by=list(exp.lowered_by),
        raised_by=list(exp.raised_by),
        via=exp.via,
        segments=list(exp.segments),
    )


def _interned(analysis: Analysis, tokens: dict[Token, Token]) -> Analysis:
    """The analysis with each token replaced by the first equal token met in the index. A name
    with a word twice in one reading is left alone: the scorer tells those two apart by identity
    (the father's name after bin/ibn)."""
    if any(len(set(form.tokens)) < len(form.tokens) for form in analysis.forms):
        return analysis
    forms = tuple(
        replace(form, tokens=tuple(tokens.setdefault(t, t) for t in form.tokens))
        for form in analysis.forms
    )
    return replace(analysis, forms=forms)


def _copy_hit(hit: Hit) -> Hit:
    return Hit(
        hit.party_id,
        hit.name,
        hit.matched_name,
        hit.source,
        list(hit.programs),
        hit.score,
        _copy_explanation(hit.explanation),
    )


_RARITY_MEMO = 1_000_000  # words whose rarity an index keeps
# Drop the names under the candidate floor before ranking the votes (the same candidates, in the
# same order: tests compare both ways on real names).
PREFILTER = True


def _rank_votes(
    votes: Iterable[tuple[int, float]], weights: list[float], size: float
) -> list[tuple[int, float]]:
    """The best-voted names first; among equal votes, names whose own weight is closest to the
    query's; among names equal in both, the first voted first (as a stable sort keeps them).
    The position breaks every tie, so plain tuples rank without a key function."""
    ranked = [(v, -abs(weights[e] - size), -i, e) for i, (e, v) in enumerate(votes)]
    top = (
        heapq.nlargest(MAX_EXAMINED, ranked)
        if len(ranked) > MAX_EXAMINED
        else sorted(ranked, reverse=True)
    )
    return [(e, v) for v, _, _, e in top]


def _screen_chunk(chunk: list[Query]) -> list[list[Hit]]:
    assert _FORKED is not None, "worker started without an index"
    index, threshold = _FORKED
    return index.screen_queries(chunk, threshold)
