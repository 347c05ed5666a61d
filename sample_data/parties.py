"""The trading parties: declared facilities by activity, undeclared companies, groups that
share a head office, and the parties planted cases add (aliases, front companies)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sample_data.catalogue import LISTED
from sample_data.naming import Company, make_address, make_companies, with_address
from sample_data.world import COUNTRIES

__all__ = ["ACTIVITY", "Parties", "build_parties"]

# Declared role -> the activity the facility declares.
ACTIVITY = {
    "producer": "production",
    "trader": "trade",
    "processor": "processing",
    "consumer": "consumption",
}

# Where each kind of declared facility sits (weights), from the shape of the legitimate
# trade: producers mostly in China and India, traders in the European and US hubs,
# consumers and processors where fentanyl medicines are made.
_WHERE: dict[str, dict[str, float]] = {
    "producer": {"CHN": 0.45, "IND": 0.25, "DEU": 0.07, "NLD": 0.04, "CHE": 0.05, "BEL": 0.04,
                 "USA": 0.05, "KOR": 0.05},
    "trader": {"NLD": 0.2, "BEL": 0.15, "DEU": 0.15, "CHE": 0.1, "USA": 0.15, "IND": 0.1,
               "GBR": 0.1, "CHN": 0.05},
    "processor": {"USA": 0.2, "IND": 0.15, "DEU": 0.12, "GBR": 0.1, "MEX": 0.1, "BRA": 0.08,
                  "CAN": 0.08, "KOR": 0.07, "CHN": 0.05, "BEL": 0.05},
    "consumer": {"USA": 0.18, "MEX": 0.12, "CAN": 0.08, "GBR": 0.07, "DEU": 0.07, "BRA": 0.08,
                 "COL": 0.07, "IND": 0.07, "VNM": 0.06, "GTM": 0.05, "NGA": 0.05, "MMR": 0.04,
                 "HND": 0.03, "NLD": 0.03},
}  # fmt: skip
_SHARE = {"producer": 0.25, "trader": 0.15, "processor": 0.25, "consumer": 0.35}
# How often each listed substance is made or used (4-piperidone and its Boc form have the
# widest legitimate use; norfentanyl is mostly a reference standard).
_SUB_WEIGHT = np.array([0.16, 0.12, 0.14, 0.14, 0.04, 0.22, 0.18])


@dataclass
class Parties:
    """Every party of the sample; planted cases append to it."""

    companies: list[Company] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)  # a declared role, or company/alias/front...
    facility_id: list[str | None] = field(default_factory=list)
    subs: list[tuple[str, ...]] = field(default_factory=list)  # declared listed substances
    group: list[int] = field(default_factory=list)  # shared head office, -1 none
    taken: set[str] = field(default_factory=set)  # root names in use

    def add(
        self,
        company: Company,
        country: str,
        role: str,
        facility_id: str | None = None,
        subs: tuple[str, ...] = (),
        group: int = -1,
    ) -> int:
        self.companies.append(company)
        self.country.append(country)
        self.role.append(role)
        self.facility_id.append(facility_id)
        self.subs.append(subs)
        self.group.append(group)
        return len(self.companies) - 1

    def new_company(self, rng: np.random.Generator, country: str) -> Company:
        return make_companies(rng, [country], self.taken)[0]

    def of_role(self, *roles: str) -> np.ndarray:
        r = np.asarray(self.role)
        return np.flatnonzero(np.isin(r, roles))

    def reports(self) -> np.ndarray:
        """Whether each party's country reports its imports."""
        return np.array([COUNTRIES[c].reports_imports for c in self.country])

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "party": np.arange(len(self.companies), dtype=np.int64),
                "name": [c.name for c in self.companies],
                "country": self.country,
                "role": self.role,
                "facility_id": self.facility_id,
                "group": self.group,
            },
            schema_overrides={"facility_id": pl.String},
        )


def build_parties(rng: np.random.Generator, n_facilities: int, head_office_share: float) -> Parties:
    """Declared facilities (with their listed substances) and as many undeclared companies;
    `head_office_share` of the declared importers share a head office with another one."""
    p = Parties()
    counts = {r: max(4, round(n_facilities * s)) for r, s in _SHARE.items()}
    n = 0
    for role, count in counts.items():
        where = _WHERE[role]
        codes = rng.choice(list(where), count, p=np.array(list(where.values())))
        for company, code in zip(make_companies(rng, codes.tolist(), p.taken), codes, strict=True):
            n += 1
            k = (
                int(rng.integers(1, 4))
                if role in ("producer", "trader")
                else int(rng.integers(1, 3))
            )
            picks = rng.choice(len(LISTED), k, replace=False, p=_SUB_WEIGHT)
            subs = tuple(LISTED[int(i)].cas for i in sorted(picks))
            p.add(company, str(code), role, f"F{n:05d}", subs)
    _cover_every_substance(rng, p)
    everywhere = list(COUNTRIES)
    codes = rng.choice(everywhere, n_facilities).tolist()
    for company, code in zip(make_companies(rng, codes, p.taken), codes, strict=True):
        p.add(company, code, "company")
    _head_offices(rng, p, head_office_share)
    return p


def _cover_every_substance(rng: np.random.Generator, p: Parties) -> None:
    """Every listed substance has at least two producers, so every importer finds a supplier."""
    producers = p.of_role("producer")
    for s in LISTED:
        have = [i for i in producers if s.cas in p.subs[i]]
        for i in rng.choice(producers, max(0, 2 - len(have)), replace=False):
            p.subs[int(i)] = tuple(sorted({*p.subs[int(i)], s.cas}))


def _head_offices(rng: np.random.Generator, p: Parties, share: float) -> None:
    """Group companies at one head office: declared importers of one country in twos and
    threes, and undeclared companies in business centres (3 or 4 at one address)."""
    importers = p.of_role("processor", "consumer")
    by_country: dict[str, list[int]] = {}
    for i in rng.permutation(importers):
        by_country.setdefault(p.country[int(i)], []).append(int(i))
    want = round(share * len(importers))
    grouped, gid = 0, 0
    for code, members in sorted(by_country.items()):
        while grouped < want and len(members) >= 2:
            size = 3 if len(members) >= 3 and rng.random() < 0.3 else 2
            _share_address(rng, p, [members.pop() for _ in range(size)], code, gid)
            grouped += size
            gid += 1
    companies = p.of_role("company")
    by_country = {}
    for i in rng.permutation(companies):
        by_country.setdefault(p.country[int(i)], []).append(int(i))
    for code, members in sorted(by_country.items()):
        while len(members) >= 4 and rng.random() < share * 4:
            _share_address(
                rng, p, [members.pop() for _ in range(int(rng.integers(3, 5)))], code, gid
            )
            gid += 1


def _share_address(
    rng: np.random.Generator, p: Parties, members: list[int], code: str, gid: int
) -> None:
    address = make_address(rng, code, office=True)
    for i in members:
        p.companies[i] = with_address(rng, p.companies[i], address)
        p.group[i] = gid
