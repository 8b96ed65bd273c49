"""Screening real names against the whole real mirror, indexed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from computekyc.lists import Identifier, Party, PartyType
from computekyc.screening import DEFAULT_THRESHOLD, Hit, Query, ScreeningIndex

HIKVISION = "hikvision"


def _hikvision_sources(hits: list[Hit]) -> set[str]:
    return {h.source for h in hits if HIKVISION in h.name.lower()}


@pytest.mark.parametrize(
    "query",
    [
        "Hikvision",
        "HIKVISION",
        "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "Hangzhou Hikvision Digital Technology Company Limited",
        "海康威视",
        "杭州海康威视数字技术股份有限公司",
        "Hangzhou Hikvison Digital Technology",  # typo
    ],
)
def test_hikvision_by_brand_full_name_and_chinese_name(
    mirror_index: ScreeningIndex, query: str
) -> None:
    hits = mirror_index.screen(query)
    # Listed on the Entity List, the OFAC NS-CMIC list, DoD 1260H and the FCC Covered List.
    assert {"EL", "CMIC", "1260H", "FCC"} <= _hikvision_sources(hits)
    assert HIKVISION in hits[0].name.lower()
    for hit in hits:
        assert hit.score >= DEFAULT_THRESHOLD
        assert hit.explanation.matches and hit.explanation.summary()


def test_chinese_legal_name_finds_the_listed_english_name(mirror_index: ScreeningIndex) -> None:
    hits = mirror_index.screen("江西洪都航空工业股份有限公司")
    top = hits[0]
    assert "hongdu" in top.name.lower()
    assert {"CMIC", "1260H"} <= {h.source for h in hits if "hongdu" in h.name.lower()}
    how = {m.how for m in top.explanation.matches}
    assert "translated" in how and "transliterated" in how


def test_cyrillic_query_finds_the_sdn_listing(mirror_index: ScreeningIndex) -> None:
    hits = mirror_index.screen("Ротенберг Аркадий Романович", type="individual")
    sdn = [h for h in hits if h.source == "SDN"]
    assert sdn and sdn[0].name.upper().startswith("ROTENBERG, ARKADY")
    assert sdn[0].score >= 0.9
    assert all(m.how.startswith("transliterated") for m in sdn[0].explanation.matches)
    assert "SDN" in {h.source for h in mirror_index.screen("Владимир Путин")}


@pytest.mark.parametrize(
    "decoy",
    [
        "Hangzhou Digital Technology Co., Ltd.",
        "Shenzhen Technology International Trading Co., Ltd.",
        "China Digital Technology Group",
        "Beijing Electronics Technology Co., Ltd.",
        "Global Trading International LLC",
    ],
)
def test_generic_word_decoys_do_not_hit(mirror_index: ScreeningIndex, decoy: str) -> None:
    hits = mirror_index.screen(decoy)
    assert not _hikvision_sources(hits)
    assert hits == [], [(h.name, h.score, h.explanation.summary()) for h in hits]


def test_explanations_on_every_hit(mirror_index: ScreeningIndex) -> None:
    for query in ("Huawei", "中芯国际", "Sugon", "ZTE Corporation"):
        hits = mirror_index.screen(query)
        assert hits, query
        for hit in hits:
            data = hit.to_dict()
            assert set(data) == {
                "party_id", "name", "matched_name", "source", "programs", "score", "explanation"
            }  # fmt: skip
            assert data["explanation"]["matches"]


def test_candidates_come_from_the_index_not_a_scan(mirror_index: ScreeningIndex) -> None:
    from computekyc.screening.index import MAX_CANDIDATES
    from computekyc.screening.text import analyze

    assert len(mirror_index.names) > 50_000
    for query in ("Hikvision", "Mohammad Ali", "Vladimir Putin", "Acme Widgets Ltd"):
        entries = mirror_index._candidates(analyze(query), {})
        assert len({mirror_index.names[e][0] for e in entries}) <= MAX_CANDIDATES


def _party(**kw: object) -> Party:
    base: dict[str, object] = {
        "party_id": "T-1",
        "source": "TEST",
        "name": "Ivan Petrovich Sidorov",
    }
    base.update(kw)
    return Party(**base)  # type: ignore[arg-type]


def test_context_raises_and_lowers_scores() -> None:
    person = _party(type=PartyType.INDIVIDUAL, countries=["RU"], dates_of_birth=["1960-05-01"])
    company = _party(
        party_id="T-2",
        name="Sidorov Trading LLC",
        type=PartyType.ENTITY,
        identifiers=[Identifier("uscc", "91330000733796106P", "CN")],
    )
    index = ScreeningIndex.build([person, company])
    plain = index.screen("Ivan Sidorov", threshold=0.0)[0].score
    same = index.screen("Ivan Sidorov", country="RU", date_of_birth="1960-05-01", threshold=0.0)
    assert same[0].score > plain and same[0].explanation.raised_by
    other = index.screen("Ivan Sidorov", country="FR", date_of_birth="1985", threshold=0.0)
    assert other[0].score < plain
    assert any("birth" in n for n in other[0].explanation.lowered_by)
    typed = index.screen("Ivan Sidorov", type="entity", threshold=0.0)[0]
    assert typed.score < plain and any("type" in n for n in typed.explanation.lowered_by)
    by_id = index.screen("Some Other Name", identifiers={"uscc": "91330000733796106P"})
    assert by_id and by_id[0].party_id == "T-2" and by_id[0].score >= 0.99


def test_batch_keeps_input_order_and_is_thread_safe(mirror_index: ScreeningIndex) -> None:
    names = ["Huawei", "Nobody Special GmbH", "海康威视", "Vladimir Putin", "ZTE"] * 4
    expected = [[h.party_id for h in hits] for hits in mirror_index.screen_many(names)]
    assert expected[1] == [] and expected[0] and expected[2]
    results: dict[int, list[str]] = {}

    def work(i: int) -> None:
        results[i] = [h.party_id for h in mirror_index.screen_many([Query(names[i])])[0]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(names))] == expected


def test_disk_cache_round_trip(tmp_path: Path, mirror_parties: list[Party]) -> None:
    small = [p for p in mirror_parties if p.source in ("1260H", "FCC")]
    built = ScreeningIndex.cached(tmp_path, "snap-1", lambda: small)
    assert ScreeningIndex.cache_path(tmp_path, "snap-1").is_file()

    def fail() -> list[Party]:
        raise AssertionError("the cached index must not be rebuilt")

    loaded = ScreeningIndex.cached(tmp_path, "snap-1", fail)
    assert [h.party_id for h in loaded.screen("Hikvision")] == [
        h.party_id for h in built.screen("Hikvision")
    ]


def test_forked_batch_equals_serial_batch(
    mirror_index: ScreeningIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    from computekyc.screening import index as index_module

    monkeypatch.setattr(index_module, "PARALLEL_MIN", 10)
    monkeypatch.setattr(index_module, "CHUNK", 7)
    listed = [name for _, name, _ in mirror_index.names[::997]][:50]
    names = [*listed, "Nobody Special GmbH"]
    serial = mirror_index.screen_many(names)
    seen: list[int] = []
    forked = mirror_index.screen_many(names, progress=seen.append, workers=2)
    assert sum(seen) == len(names)
    assert [[(h.party_id, h.score) for h in hits] for hits in forked] == [
        [(h.party_id, h.score) for h in hits] for hits in serial
    ]
    assert forked[-1] == [] and all(forked[:-1])


def test_index_postings_and_word_counts_as_made_name_by_name(
    mirror_index: ScreeningIndex,
) -> None:
    """The index posts each name's keys once per name it meets (a name on several lists is
    analysed and keyed once): the same postings, in the same order, and the same word counts
    as keying every name of every party afresh."""
    from collections import Counter

    from computekyc.screening.index import COMMON_DF
    from computekyc.screening.text import DISTINCTIVE

    postings: dict[str, list[int]] = {}
    freq: Counter[str] = Counter()
    for entry, (_, _, analysis) in enumerate(mirror_index.names):
        words: set[str] = set()
        for form in analysis.forms:
            for key in ScreeningIndex._keys(form.tokens):
                bucket = postings.setdefault(key, [])
                if not bucket or bucket[-1] != entry:
                    bucket.append(entry)
            words.update(t.text for t in form.tokens if t.kind in DISTINCTIVE)
        freq.update(words)
    names = [name for _, name, _ in mirror_index.names]
    assert len(set(names)) < len(names)  # names met more than once were keyed once
    made = {k: v for k, v in mirror_index.postings.items() if not k.startswith("i:")}
    assert list(made) == list(postings) and made == postings
    assert mirror_index.doc_freq == {w: n for w, n in freq.items() if n > COMMON_DF}
