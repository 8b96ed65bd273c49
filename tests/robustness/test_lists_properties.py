"""Hypothesis properties of the list readers and the store on damaged real list files.

Random bytes, truncations and byte mutations of slices of the real files in
../shared/data/lists (and lists-archive) are given to ``lists.read_files`` and to the store.
Either a clean :class:`ComputekycError` or a correct result comes back, never another exception;
a refused load leaves the active snapshot as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from computekyc.exc import ComputekycError
from computekyc.lists import ParsedFile, Party, read_files
from computekyc.lists.store import ListStore
from computekyc.settings import Settings

REPO = Path(__file__).resolve().parents[2]
LISTS = REPO.parent / "shared" / "data" / "lists"
ARCHIVE = REPO.parent / "shared" / "data" / "lists-archive"
SLICE = 24_000  # bytes of each file: whole records up to here (keeps an example ~10 ms)
CSV_FILES = {
    "consolidated.csv": LISTS / "csl" / "consolidated.csv",
    "sdn.csv": LISTS / "ofac" / "sdn.csv",
    "cons_prim.csv": LISTS / "ofac" / "cons_prim.csv",
    "us_dod_1260h.csv": LISTS / "opensanctions-sources" / "us_dod_1260h.csv",
    "us_fcc_covered_list.csv": LISTS / "opensanctions-sources" / "us_fcc_covered_list.csv",
    "dpl.txt": ARCHIVE / "dpl_2023-11-30.txt",
    "cn_countersanctions.csv": ARCHIVE / "cn_countersanctions.csv",
    "us_bis_mieu.csv": ARCHIVE / "us_bis_mieu.csv",
    "zala.ftm.json": ARCHIVE / "ftm" / "zala.ftm.json",
}
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _head(path: Path) -> bytes:
    """The file's first records: up to the last line break before ``SLICE`` bytes."""
    data = path.read_bytes()[:SLICE]
    return data[: data.rindex(b"\n") + 1]


def _un_head() -> bytes:
    """The UN XML cut after its first ten individuals, closed again: a valid small list."""
    data = (LISTS / "un" / "consolidated.xml").read_bytes()
    end = 0
    for _ in range(10):
        end = data.index(b"</INDIVIDUAL>", end) + len(b"</INDIVIDUAL>")
    return data[:end] + b"</INDIVIDUALS><ENTITIES></ENTITIES></CONSOLIDATED_LIST>\n"


HEADS = {name: _head(path) for name, path in CSV_FILES.items()} | {"un.xml": _un_head()}


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real file slice, then random damage: cut, overwritten, inserted bytes, or noise."""
    name = draw(st.sampled_from(sorted(HEADS)))
    data = bytearray(HEADS[name])
    kind = draw(st.sampled_from(["truncate", "mutate", "insert", "noise"]))
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "mutate":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    else:
        data = bytearray(draw(st.binary(max_size=4096)))
    return name, bytes(data)


def _read(path: Path) -> list[ParsedFile] | ComputekycError:
    try:
        return read_files([path])
    except ComputekycError as exc:
        assert str(exc) and "\n" not in str(exc).strip()  # one line, naming the file
        assert path.name in str(exc)
        return exc


def _sane(party: Party) -> None:
    assert isinstance(party.name, str) and party.name.strip()
    for alias in party.aliases:
        assert isinstance(alias.name, str) and alias.name
    assert all(isinstance(v, str) for v in party.programs + party.countries)
    assert party.source_line is None or party.source_line >= 1


@SETTINGS
@given(sample=damaged())
def test_damaged_files_read_cleanly(sample: tuple[str, bytes], tmp_path: Path) -> None:
    name, data = sample
    path = tmp_path / name
    path.write_bytes(data)
    result = _read(path)
    if isinstance(result, ComputekycError):
        return
    for parsed in result:
        ids = [p.party_id for p in parsed.parties]
        assert len(ids) == len(set(ids))
        for party in parsed.parties:
            _sane(party)


REFERENCE: dict[str, dict[str, Party]] = {}


def _reference(name: str, tmp: Path) -> dict[str, Party]:
    if name not in REFERENCE:
        path = tmp / f"ref-{name}"
        path.write_bytes(HEADS[name])
        (parsed,) = read_files([path])
        REFERENCE[name] = {p.party_id: p for p in parsed.parties}
    return REFERENCE[name]


def _own(party: Party) -> dict[str, object]:
    """What a row says by itself: a 1260H parent's link to its own listing needs that row."""
    content = party.content()
    content["parents"] = [{**p, "party_id": None} for p in content["parents"]]
    return content


# One record, one party: a cut changes only the last record (FtM and UN XML join records).
ROW_FILES = sorted(name for name in CSV_FILES if name.endswith((".csv", ".txt")))


@SETTINGS
@given(name=st.sampled_from(ROW_FILES), cut=st.floats(0.0, 1.0))
def test_truncation_changes_only_the_last_record(name: str, cut: float, tmp_path: Path) -> None:
    """A file cut short yields, but for its last record, exactly the parties of the whole.

    The last record itself can come out shorter and unmarked: a cut at the end of an unquoted
    last field leaves a well-formed record, like a file without a final line break. A cut that
    leaves it malformed or inside quotes sets ``truncated_at`` (the store refuses the file)."""
    reference = _reference(name, tmp_path)
    data = HEADS[name][: int(len(HEADS[name]) * cut)]
    path = tmp_path / name
    path.write_bytes(data)
    result = _read(path)
    if isinstance(result, ComputekycError):
        return
    (parsed,) = result
    parties = sorted(parsed.parties, key=lambda p: p.source_line or 0)
    for party in parties[:-1]:
        assert _own(party) == _own(reference[party.party_id])
    # Nothing before the cut is lost: every party whose record starts before the last line.
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    before = {k for k, p in reference.items() if p.source_line and p.source_line < lines}
    got = {p.party_id for p in parties}
    assert before - got <= ({parties[-1].party_id} if parties else set()) or len(before - got) <= 1


@pytest.fixture()
def store(ck_home: Path, tmp_path: Path) -> Iterator[ListStore]:
    """A store holding the undamaged slices: a damaged one replaces its feed, or is refused."""
    opened = ListStore.open(Settings.from_env().sqlalchemy_url)
    intact = tmp_path / "intact"
    intact.mkdir()
    for name in ("consolidated.csv", "sdn.csv", "us_dod_1260h.csv", "zala.ftm.json"):
        (intact / name).write_bytes(HEADS[name])
    opened.load_mirror(intact)
    yield opened
    opened.close()


@settings(SETTINGS, max_examples=40)
@given(sample=damaged(), force=st.booleans())
def test_refused_load_changes_nothing(
    sample: tuple[str, bytes], force: bool, store: ListStore, tmp_path: Path
) -> None:
    name, data = sample
    path = tmp_path / "damaged" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = store.active_snapshot()
    try:
        result = store.load_files([path], force=force)
    except ComputekycError:
        assert store.active_snapshot() == before
        return
    assert store.active_snapshot() == result.snapshot
    for party in store.parties(result.snapshot.id):
        _sane(party)
