"""Seeded generator of realistic account populations with planted ground truth.

What it plants (each account carries the label of the real entity behind it):

- honest customers, one account each (companies with their own domain, individuals on free-mail);
- honest multi-account companies (same name and domain, office IPs, one card);
- evasive entities: 2–6 accounts with varied names, free-mail addresses and cards, chained by
  the few things an operator keeps reusing (an admin IP, a phone, a beneficial owner, an address);
  some rename soon after opening (identity churn);
- resellers: a billing account with sub-accounts of unrelated end customers in many countries,
  all set up from the reseller's office IP;
- Chinese parents behind Singapore / Malaysian subsidiaries: different names, same owners, admin
  from mainland IPs, mainland phones;
- honest noise: dozens of unrelated customers behind one corporate NAT / coworking address,
  very common personal names, free-mail domains.

IPs are drawn from the offline IP→country ranges of the declared country, so the access-geography
signal sees real allocations. Same seed, same population.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from computekyc.linking.geoip import locate

COUNTRY_MIX = (
    ("US", 36), ("GB", 6), ("DE", 6), ("FR", 4), ("JP", 5), ("KR", 3), ("IN", 6), ("SG", 4),
    ("MY", 2), ("CN", 6), ("BR", 3), ("CA", 4), ("NL", 3), ("AU", 3), ("AE", 2), ("IL", 2),
    ("VN", 2), ("TW", 2), ("HK", 1),
)  # fmt: skip
WORDS = tuple(
    [
        "alpha",
        "beta",
        "delta",
        "nova",
        "quant",
        "vector",
        "tensor",
        "orbit",
        "lumen",
        "cedar",
        "maple",
        "river",
        "stone",
        "summit",
        "peak",
        "harbor",
        "silver",
        "golden",
        "blue",
        "red",
        "green",
        "north",
        "south",
        "east",
        "west",
        "bright",
        "clear",
        "deep",
        "swift",
        "quick",
        "atlas",
        "apex",
        "zenith",
        "pixel",
        "neural",
        "cortex",
        "synapse",
        "logic",
        "matrix",
        "prime",
        "core",
        "fusion",
        "vertex",
        "echo",
        "falcon",
        "eagle",
        "tiger",
        "dragon",
        "phoenix",
        "lotus",
        "jade",
        "pearl",
        "coral",
        "ocean",
        "aurora",
        "solar",
        "lunar",
        "stellar",
        "cloud",
        "data",
        "mind",
        "sense",
        "vision",
        "signal",
        "wave",
        "spark",
        "flux",
        "pulse",
        "nimbus",
        "terra",
        "aero",
        "astra",
        "helix",
        "kite",
        "lark",
        "wren",
        "crane",
        "heron",
        "otter",
        "lynx",
        "panda",
        "koala",
        "bison",
        "cobalt",
        "amber",
        "ivory",
        "onyx",
        "ruby",
        "sapphire",
        "topaz",
        "opal",
        "quartz",
        "granite",
        "birch",
        "willow",
        "aspen",
        "oak",
        "pine",
        "elm",
        "fir",
        "yew",
        "rowan",
        "hazel",
        "cypress",
        "sequoia",
        "arbor",
        "meadow",
        "prairie",
        "canyon",
        "mesa",
        "delta",
        "fjord",
        "glacier",
        "tundra",
        "savanna",
    ]
)
TRADES = (
    "AI",
    "Analytics",
    "Robotics",
    "Labs",
    "Systems",
    "Computing",
    "Cloud",
    "Software",
    "Research",
    "Technologies",
    "Intelligence",
    "Networks",
    "Digital",
    "Data",
    "Vision",
    "Dynamics",
    "Semiconductor",
    "Bio",
    "Capital",
    "Media",
)
LEGAL = {
    "US": ("Inc.", "LLC", "Corp."), "GB": ("Ltd", "Limited", "PLC"), "DE": ("GmbH", "AG"),
    "SG": ("Pte. Ltd.",), "MY": ("Sdn. Bhd.",), "CN": ("Co., Ltd.",), "HK": ("Limited",),
    "JP": ("K.K.",), "FR": ("SAS",), "NL": ("B.V.",),
}  # fmt: skip
FIRST = tuple(
    [
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "John",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Elizabeth",
        "William",
        "Barbara",
        "Richard",
        "Susan",
        "Joseph",
        "Jessica",
        "Thomas",
        "Sarah",
        "Charles",
        "Karen",
        "Daniel",
        "Nancy",
        "Matthew",
        "Lisa",
        "Anthony",
        "Betty",
        "Mark",
        "Sandra",
        "Priya",
        "Rahul",
        "Anil",
        "Sunita",
        "Kenji",
        "Yuki",
        "Hiroshi",
        "Akiko",
        "Minjun",
        "Jiwoo",
        "Seoyeon",
        "Lukas",
        "Anna",
        "Felix",
        "Lena",
        "Pierre",
        "Camille",
        "Lucas",
        "Chloe",
        "Ahmed",
        "Fatima",
        "Omar",
        "Layla",
        "Noam",
        "Yael",
        "Thanh",
        "Linh",
        "Mateus",
        "Ana",
        "Chen",
        "Mei",
        "Wei",
        "Jun",
        "Hao",
        "Xin",
        "Ying",
        "Lei",
        "Ming",
        "Yan",
        "Fang",
        "Tao",
        "Jing",
    ]
)
LAST = tuple(
    [
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Hernandez",
        "Lopez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Lee",
        "Perez",
        "Thompson",
        "White",
        "Harris",
        "Clark",
        "Lewis",
        "Walker",
        "Hall",
        "Allen",
        "Young",
        "King",
        "Wright",
        "Scott",
        "Green",
        "Baker",
        "Adams",
        "Nelson",
        "Hill",
        "Campbell",
        "Mitchell",
        "Roberts",
        "Carter",
        "Phillips",
        "Evans",
        "Turner",
        "Sharma",
        "Patel",
        "Gupta",
        "Singh",
        "Tanaka",
        "Suzuki",
        "Sato",
        "Kim",
        "Park",
        "Choi",
        "Muller",
        "Schmidt",
        "Schneider",
        "Dubois",
        "Moreau",
        "Cohen",
        "Levi",
        "Nguyen",
        "Tran",
        "Silva",
        "Santos",
        "Wang",
        "Li",
        "Zhang",
        "Liu",
        "Chen",
        "Yang",
        "Huang",
        "Zhao",
        "Wu",
        "Zhou",
        "Xu",
        "Sun",
        "Ma",
        "Zhu",
        "Hu",
        "Guo",
        "He",
        "Lin",
        "Luo",
        "Gao",
    ]
)
COMMON_NAMES = ("Wang Wei", "Li Na", "Zhang Wei", "John Smith", "Maria Garcia", "Mohammed Ali")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "qq.com", "163.com")
TLD = {"US": "com", "GB": "co.uk", "DE": "de", "CN": "cn", "SG": "sg", "MY": "my", "JP": "jp"}
DIAL = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "CN": "86", "SG": "65", "MY": "60"}
CITIES = {"CN": ("Shenzhen", "Beijing", "Shanghai", "Hangzhou"), "SG": ("Singapore",)}
EPOCH = datetime(2024, 1, 1)
_TOKEN_LETTERS = str.maketrans("0123456789", "ghijklmnop")
USE = ("LLM inference", "model training", "rendering", "research", "fine-tuning", "analytics")


@dataclass(frozen=True, slots=True)
class Planted:
    """A generated account and the ground truth behind it."""

    record: dict[str, object]
    entity: str  # ground-truth entity label
    role: str  # honest, multi, evasive, reseller, sub-account, cn-parent, cn-subsidiary, nat
    ops: float  # planted estimated operations for the structuring signal


class _IpPool:
    """Random IPv4 addresses inside the real ranges of a country (from the geoip file)."""

    def __init__(self, geoip_dir: Path | str | None) -> None:
        v4, _ = locate(geoip_dir)
        wanted = {c for c, _ in COUNTRY_MIX}
        self.ranges: dict[str, list[tuple[int, int]]] = {c: [] for c in wanted}
        with v4.open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                a, b, cc = line.rstrip("\n").split(",")
                if cc in wanted and int(b) - int(a) >= 255:
                    self.ranges[cc].append((int(a), int(b)))

    def ip(self, rng: random.Random, country: str) -> str:
        first, last = rng.choice(self.ranges[country])
        value = rng.randint(first + 1, last - 1)
        return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


class _Gen:
    def __init__(self, seed: int, geoip_dir: Path | str | None) -> None:
        self.rng = random.Random(seed)
        self.ips = _IpPool(geoip_dir)
        self.countries = [c for c, _ in COUNTRY_MIX]
        self.weights = [w for _, w in COUNTRY_MIX]
        self.n_accounts = 0
        self.n_entities = 0

    # --- small pieces -------------------------------------------------------------------------
    def country(self) -> str:
        return self.rng.choices(self.countries, self.weights)[0]

    def entity(self) -> str:
        self.n_entities += 1
        return f"G{self.n_entities:07d}"

    def account_id(self) -> str:
        self.n_accounts += 1
        return f"acct-{self.n_accounts:07d}"

    def company(self, country: str) -> str:
        r = self.rng
        words = f"{r.choice(WORDS).title()} {r.choice(WORDS).title()} {r.choice(TRADES)}"
        return f"{words} {r.choice(LEGAL.get(country, ('Ltd',)))}"

    def person(self) -> str:
        if self.rng.random() < 0.08:
            return self.rng.choice(COMMON_NAMES)
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def legal_name(self) -> str:
        """A beneficial owner's full legal name, as a CIP records it: mostly with a middle
        initial (common names stay bare, and collide like they do in life)."""
        name = self.person()
        if name in COMMON_NAMES or self.rng.random() < 0.2:
            return name
        first, last = name.split(" ", 1)
        return f"{first} {chr(65 + self.rng.randrange(26))}. {last}"

    def domain(self, name: str, country: str) -> str:
        stem = "".join(name.lower().split()[:2])
        stem = "".join(ch for ch in stem if ch.isalnum())
        return f"{stem}{self.rng.randint(1, 999)}.{TLD.get(country, 'com')}"

    def free_email(self, person: str) -> str:
        local = person.lower().replace(" ", self.rng.choice((".", "_", "")))
        return f"{local}{self.rng.randint(1, 9999)}@{self.rng.choice(FREE_MAIL)}"

    def phone(self, country: str) -> str:
        return f"+{DIAL.get(country, '1')} {self.rng.randint(100_000_000, 999_999_999)}"

    def address(self, country: str) -> str:
        city = self.rng.choice(CITIES.get(country, ("Central",)))
        street = f"{self.rng.randint(1, 999)} {self.rng.choice(WORDS).title()} Road"
        return f"{street}, {city} {self.rng.randint(10000, 99999)}, {country}"

    def card(self) -> str:
        # A processor token in letters only: hexadecimal digits could form a run of 13+ digits
        # that passes Luhn, which the account reader rightly refuses as a card number.
        return f"tok_{self.rng.getrandbits(64):016x}".translate(_TOKEN_LETTERS)

    def when(self) -> datetime:
        return EPOCH + timedelta(minutes=self.rng.randint(0, 900 * 24 * 60))

    def ip_log(self, ips: list[str], created: datetime, n: int) -> list[dict[str, str]]:
        events = []
        # Every address the account uses appears at least once, then random extra events.
        for ip in ips + [self.rng.choice(ips) for _ in range(n)]:
            ts = created + timedelta(minutes=self.rng.randint(1, 60 * 24 * 120))
            action = self.rng.choice(("login", "login", "api", "console", "admin"))
            events.append({"ip": ip, "ts": ts.isoformat(), "action": action})
        return events

    def ops(self) -> float:
        return 10 ** self.rng.uniform(17, 22)

    def account(
        self,
        name: str,
        country: str,
        kind: str = "organization",
        emails: list[str] | None = None,
        ips: list[str] | None = None,
        **extra: object,
    ) -> dict[str, object]:
        created = self.when()
        own_ips = ips or [self.ips.ip(self.rng, country)]
        record: dict[str, object] = {
            "account_id": self.account_id(),
            "name": name,
            "type": kind,
            "country": country,
            "emails": emails or [],
            "ip_log": self.ip_log(own_ips, created, self.rng.randint(0, 3)),
            "declared_use": self.rng.choice(USE),
            "created_at": created.isoformat(),
        }
        record.update({k: v for k, v in extra.items() if v})
        return record

    # --- populations ----------------------------------------------------------------------------
    def honest(self) -> Iterator[Planted]:
        country = self.country()
        if self.rng.random() < 0.55:
            name = self.company(country)
            team = self.rng.choice(("admin", "ops", "it", "ml"))
            emails = [f"{team}@{self.domain(name, country)}"]
            kind = "organization"
        else:
            name = self.person()
            emails = [self.free_email(name)]
            kind = "individual"
        rec = self.account(
            name, country, kind, emails,
            phones=[self.phone(country)], addresses=[self.address(country)],
            payment_fingerprints=[self.card()],
        )  # fmt: skip
        yield Planted(rec, self.entity(), "honest", self.ops())

    def multi(self) -> Iterator[Planted]:
        """An honest company with several accounts: same name, same domain, office IPs."""
        country = self.country()
        name = self.company(country)
        domain = self.domain(name, country)
        office = [self.ips.ip(self.rng, country) for _ in range(2)]
        card, label, address = self.card(), self.entity(), self.address(country)
        for team in self.rng.sample(("ml", "research", "infra", "data", "platform"), 3)[
            : self.rng.randint(2, 3)
        ]:
            rec = self.account(
                name, country, emails=[f"{team}@{domain}"], ips=office,
                addresses=[address], payment_fingerprints=[card], phones=[self.phone(country)],
            )  # fmt: skip
            yield Planted(rec, label, "multi", self.ops())

    def evasive(self) -> Iterator[Planted]:
        """One operator, several accounts, each below the radar; chained by reused details."""
        label = self.entity()
        home = self.rng.choice(("CN", "CN", "HK", "US", "IN", "AE"))
        operator = self.legal_name()
        admin_ip = self.ips.ip(self.rng, home)
        phone = self.phone(home)
        n = self.rng.randint(2, 6)
        per_account = 10 ** self.rng.uniform(24.2, 24.9)  # each below 10^25, together above
        card = self.card()
        handle = (
            f"{operator.lower().replace('. ', '').replace(' ', '.')}.ops{self.rng.randint(1, 999)}"
        )
        for _ in range(n):
            country = self.rng.choice((home, home, "SG", "US", "MY"))
            name = self.company(country) if self.rng.random() < 0.7 else self.person()
            created = self.when()
            # Each account reuses three of the operator's four habits, so any two of its
            # accounts share at least two details; one in five also reuses the operator's card.
            reused = self.rng.sample(("ip", "phone", "owner", "email"), 3)
            emails = [self.free_email(name)]
            if "email" in reused:
                emails.append(f"{handle}@{self.rng.choice(FREE_MAIL)}")
            ips = [self.ips.ip(self.rng, country)] + ([admin_ip] if "ip" in reused else [])
            history = []
            if self.rng.random() < 0.35:
                renamed = created + timedelta(days=self.rng.randint(1, 10))
                history.append(
                    {"ts": renamed.isoformat(), "field": "name", "old": self.company(country),
                     "new": name}
                )  # fmt: skip
            rec = self.account(
                name, country, emails=emails, ips=ips,
                phones=[phone if "phone" in reused else self.phone(country)],
                beneficial_owners=[operator] if "owner" in reused else [],
                payment_fingerprints=[card if self.rng.random() < 0.2 else self.card()],
                history=history,
            )  # fmt: skip
            rec["created_at"] = created.isoformat()
            yield Planted(rec, label, "evasive", per_account)

    def reseller(self) -> Iterator[Planted]:
        country = self.rng.choice(("SG", "HK", "AE", "MY", "US"))
        name = self.company(country)
        office = self.ips.ip(self.rng, country)
        reseller = self.account(
            name, country, emails=[f"billing@{self.domain(name, country)}"], ips=[office],
            payment_fingerprints=[self.card()], phones=[self.phone(country)],
        )  # fmt: skip
        yield Planted(reseller, self.entity(), "reseller", self.ops())
        for _ in range(self.rng.randint(4, 20)):
            end_country = self.rng.choice(("CN", "RU", "IR", "VN", "IN", "BR", "AE", "US", "HK"))
            end_country = end_country if end_country in self.ips.ranges else "HK"
            end_name = self.company(end_country)
            ips = [office, self.ips.ip(self.rng, end_country)]
            rec = self.account(
                end_name, end_country, emails=[self.free_email(self.person())], ips=ips,
                billing_account_id=reseller["account_id"], phones=[self.phone(end_country)],
            )  # fmt: skip
            yield Planted(rec, self.entity(), "sub-account", self.ops())

    def cn_group(self) -> Iterator[Planted]:
        """A mainland parent with Singapore / Malaysian subsidiaries run from the mainland."""
        label = self.entity()
        owners = [self.legal_name() for _ in range(2)]
        hq_ips = [self.ips.ip(self.rng, "CN") for _ in range(2)]
        phone = self.phone("CN")
        parent = self.account(
            self.company("CN"), "CN", emails=[f"ai@{self.domain('hq lab', 'CN')}"], ips=hq_ips,
            beneficial_owners=owners, phones=[phone], addresses=[self.address("CN")],
            payment_fingerprints=[self.card()],
        )  # fmt: skip
        yield Planted(parent, label, "cn-parent", self.ops())
        for _ in range(self.rng.randint(1, 3)):
            country = self.rng.choice(("SG", "MY"))
            name = self.company(country)
            rec = self.account(
                name, country, emails=[f"admin@{self.domain(name, country)}"],
                ips=[self.rng.choice(hq_ips)], beneficial_owners=[self.rng.choice(owners)],
                phones=[phone], addresses=[self.address(country)],
                payment_fingerprints=[self.card()],
            )  # fmt: skip
            yield Planted(rec, label, "cn-subsidiary", self.ops())

    def nat(self) -> Iterator[Planted]:
        """Unrelated small customers behind one coworking NAT, at one street address."""
        country = self.country()
        nat_ip = self.ips.ip(self.rng, country)
        address = self.address(country)
        for _ in range(self.rng.randint(15, 60)):
            name = self.company(country)
            rec = self.account(
                name, country, emails=[f"hello@{self.domain(name, country)}"], ips=[nat_ip],
                addresses=[address], phones=[self.phone(country)],
                payment_fingerprints=[self.card()],
            )  # fmt: skip
            yield Planted(rec, self.entity(), "nat", self.ops())


def generate(n: int, seed: int = 7, geoip_dir: Path | str | None = None) -> Iterator[Planted]:
    """Stream about ``n`` accounts (exactly ``n``: the last group is cut) with ground truth."""
    gen = _Gen(seed, geoip_dir)
    kinds = (gen.honest, gen.multi, gen.evasive, gen.reseller, gen.cn_group, gen.nat)
    weights = (0.80, 0.07, 0.06, 0.01, 0.03, 0.005)
    produced = 0
    while produced < n:
        for planted in gen.rng.choices(kinds, weights)[0]():
            if produced >= n:
                return
            produced += 1
            yield planted


_STR = pa.string()
PARQUET_SCHEMA = pa.schema(
    [
        ("account_id", _STR),
        ("name", _STR),
        ("type", _STR),
        ("country", _STR),
        ("billing_account_id", _STR),
        ("emails", pa.list_(_STR)),
        ("phones", pa.list_(_STR)),
        ("addresses", pa.list_(_STR)),
        ("payment_fingerprints", pa.list_(_STR)),
        ("ip_log", pa.list_(pa.struct([("ip", _STR), ("ts", _STR), ("action", _STR)]))),
        ("beneficial_owners", pa.list_(_STR)),
        ("declared_use", _STR),
        ("created_at", _STR),
        (
            "history",
            pa.list_(pa.struct([("ts", _STR), ("field", _STR), ("old", _STR), ("new", _STR)])),
        ),
    ]
)
PARQUET_BATCH = 50_000


def write_population(
    n: int,
    accounts_path: Path,
    seed: int = 7,
    geoip_dir: Path | str | None = None,
    truth_path: Path | None = None,
    usage_path: Path | None = None,
) -> dict[str, str]:
    """Write accounts as JSON Lines, or Parquet when the path ends in ``.parquet`` (both
    streamed: Parquet in row groups of 50,000), ground truth as CSV, usage as JSON; return truth.
    """
    truth: dict[str, str] = {}
    usage: dict[str, float] = {}
    parquet = accounts_path.suffix.lower() == ".parquet"
    batch: list[dict[str, object]] = []
    writer = pq.ParquetWriter(accounts_path, PARQUET_SCHEMA) if parquet else None
    with contextlib.ExitStack() as stack:
        out = None if parquet else stack.enter_context(accounts_path.open("w", encoding="utf-8"))
        for planted in generate(n, seed, geoip_dir):
            if writer is not None:
                batch.append(planted.record)
                if len(batch) == PARQUET_BATCH:
                    writer.write_table(pa.Table.from_pylist(batch, PARQUET_SCHEMA))
                    batch = []
            elif out is not None:
                out.write(json.dumps(planted.record, ensure_ascii=False) + "\n")
            account_id = str(planted.record["account_id"])
            truth[account_id] = planted.entity
            usage[account_id] = planted.ops
        if writer is not None:
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, PARQUET_SCHEMA))
            writer.close()
    if truth_path is not None:
        with truth_path.open("w", encoding="utf-8") as out:
            out.write("account_id,entity\n")
            out.writelines(f"{a},{e}\n" for a, e in truth.items())
    if usage_path is not None:
        usage_path.write_text(json.dumps({"estimated_operations": usage}), encoding="utf-8")
    return truth
