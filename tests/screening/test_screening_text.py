"""Normalisation facts: scripts, legal forms, numbers, acronyms, Chinese segmentation."""

from __future__ import annotations

import pytest

from computekyc.screening import analyze
from computekyc.screening.text import (
    ACRONYM,
    ALIAS,
    GENERIC,
    LEGAL,
    LOCATION,
    NUMBER,
    TRANSLATED,
    TRANSLITERATED,
)


def _words(name: str) -> list[tuple[str, str]]:
    return [(t.text, t.kind) for t in analyze(name).tokens]


@pytest.mark.parametrize(
    ("name", "legal"),
    [
        ("Huawei Technologies Co., Ltd.", "co ltd"),
        ("江西洪都航空工业股份有限公司", "co ltd"),
        ("ООО Оборонные инициативы", "ooo"),
        ("ПАО Газпром", "pao"),
        ("Siemens Aktiengesellschaft", "aktiengesellschaft"),
        ("Volkswagen G.m.b.H.", "gmbh"),
        ("Goldman Sachs & Co. L.L.C.", "llc"),
        ("PJSC Rostelecom", "pjsc"),
        ("FABERLIC EUROPE Sp. z o.o.", "sp z oo"),
    ],
)
def test_legal_forms_are_recognised_across_languages(name: str, legal: str) -> None:
    assert (legal, LEGAL) in _words(name)


def test_legal_form_classes_group_the_languages() -> None:
    classes = {
        name: {t.legal_class for t in analyze(name).tokens if t.kind == LEGAL}
        for name in ("OAO Gazprom", "Gazprom JSC", "ПАО Газпром", "Siemens AG", "Bank GmbH")
    }
    assert classes["OAO Gazprom"] == classes["Gazprom JSC"] == classes["ПАО Газпром"] == {"stock"}
    assert classes["Siemens AG"] == {"stock"}
    assert classes["Bank GmbH"] == {"llc"}


def test_short_legal_forms_only_at_the_ends() -> None:
    # "AS" inside a name is a word, at the end it is the Norwegian/Danish company form.
    assert ("as", LEGAL) in _words("Mendez Norge AS")
    assert ("as", LEGAL) not in _words("AS Nord Shipping Holding Ltd")[1:]


@pytest.mark.parametrize(
    "name", ["15th Research Institute", "Fifteenth Research Institute", "第十五研究所"]
)
def test_ordinals_fold_to_one_number(name: str) -> None:
    assert ("15", NUMBER) in _words(name)


def test_number_words_and_roman_numerals() -> None:
    assert ("44", NUMBER) in _words("Brigade Forty-Four")
    assert ("44", NUMBER) in _words("Brigade Forty 4")
    assert ("7", NUMBER) in _words("Blackstone Capital Partners VII L.P.")


def test_cyrillic_greek_arabic_are_transliterated() -> None:
    putin = analyze("Владимир Путин").tokens
    assert [t.text for t in putin] == ["vladimir", "putin"]
    assert all(t.how == TRANSLITERATED for t in putin)
    assert [t.text for t in analyze("Νικόλαος").tokens] == ["nikolaos"]
    assert [t.skel for t in analyze("محمد").tokens] == ["mhmd"]


def test_chinese_is_folded_segmented_translated_and_romanised() -> None:
    tokens = analyze("江西洪都航空工业股份有限公司").tokens
    by_orig = {t.orig: (t.text, t.kind, t.how) for t in tokens}
    assert by_orig["江西"] == ("jiangxi", LOCATION, TRANSLITERATED)
    assert by_orig["航空"] == ("aviation", GENERIC, TRANSLATED)
    assert by_orig["工业"] == ("industry", GENERIC, TRANSLATED)
    assert by_orig["洪都"][0].startswith("hongd")  # joined pinyin of an unknown run
    # Traditional characters fold to simplified before segmentation.
    assert [t.text for t in analyze("華為技術有限公司").tokens] == [
        t.text for t in analyze("华为技术有限公司").tokens
    ]


def test_short_han_person_name_splits_family_and_given_name() -> None:
    assert [t.text for t in analyze("习近平").tokens] == ["xi", "jinping"]


def test_brand_alias_table_and_acronyms() -> None:
    hik = analyze("海康威视").forms
    # The pinyin reading keeps the brand's pinyin; the translated reading reads the brand.
    assert [(t.text, t.how) for t in hik[0].tokens] == [("haikangweishi", TRANSLITERATED)]
    assert any([(t.text, t.how) for t in form.tokens] == [("hikvision", ALIAS)] for form in hik)
    cetc = analyze("China Electronics Technology Group Corporation")
    assert any(
        [t.text for t in form.tokens if t.kind != LEGAL] == ["cetc"] and form.via
        for form in cetc.forms
    )
    smic = analyze("SMIC")
    assert any(t.how == ACRONYM and t.text == "semiconductor" for f in smic.forms for t in f.tokens)


def test_titles_and_stop_words_are_ignored_and_reported() -> None:
    analysis = analyze("Mr. Rami Makhlouf")
    assert [t.text for t in analysis.tokens] == ["rami", "makhlouf"]
    assert ("mr", "title") in analysis.ignored


def test_extra_alias_file_in_home_is_loaded(ck_home) -> None:  # type: ignore[no-untyped-def]
    # The home comes from the settings, named by the service layer before it screens.
    from computekyc.screening.text import clear_caches
    from computekyc.screening.vocab import use_home
    from computekyc.services.indexes import use_screening_settings
    from computekyc.settings import Settings

    (ck_home / "brand_aliases.csv").write_text(
        "alias,name,kind,source\n燧原,Enflame,brand,https://www.enflame-tech.com/\n",
        encoding="utf-8",
    )
    clear_caches()
    try:

        def enflame() -> bool:
            return any([t.text for t in f.tokens] == ["enflame"] for f in analyze("燧原").forms)

        assert not enflame()  # no home named yet
        use_screening_settings(Settings.from_env())
        clear_caches()
        assert enflame()
    finally:
        use_home(None)
        (ck_home / "brand_aliases.csv").unlink()
        clear_caches()


def test_bad_alias_file_names_file_line_and_field(ck_home) -> None:  # type: ignore[no-untyped-def]
    from computekyc.screening import VocabError
    from computekyc.screening.vocab import use_home, vocabulary

    path = ck_home / "brand_aliases.csv"
    path.write_text("alias,name,kind,source\nFoo,Bar,nickname,somewhere\n", encoding="utf-8")
    use_home(ck_home)
    try:
        with pytest.raises(VocabError, match=r"brand_aliases.csv:2: field 'kind'"):
            vocabulary()
    finally:
        use_home(None)
