"""How each field of a record is written: product texts, CAS and tariff codes, party names,
addresses, countries and units, with the noise of real feeds (NoiseConfig)."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample_data.catalogue import ANALOGUES, BENIGN, LISTED, SLOPPY_HS, VAGUE
from sample_data.naming import N_ADDRESS_VARIANTS, N_NAME_VARIANTS
from sample_data.noise import NoiseConfig
from sample_data.parties import Parties
from sample_data.world import COUNTRIES

__all__ = ["Texts"]

_PACKS = ("25kg drum", "25 kg fibre drum", "1kg bag", "50kg HDPE drum", "200L drum")
_LB = 0.45359237


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


class Texts:
    """Writes the fields of `n` records; `log` collects (kind, record index) noise entries."""

    def __init__(self, rng: np.random.Generator, noise: NoiseConfig, parties: Parties) -> None:
        self.rng = rng
        self.noise = noise
        self.parties = parties
        self.log: list[tuple[str, np.ndarray]] = []

    def note(self, kind: str, mask: np.ndarray) -> None:
        self.log.append((kind, np.flatnonzero(mask)))

    # ------------------------------------------------------------------------- products

    def products(
        self, key: np.ndarray, text: np.ndarray, chinese: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(product text, CAS field, harmlessly vague) of each record; `key` is what the paperwork declares,
        `text` a planted literal (or None), `chinese` where a Chinese text may be written."""
        n = len(key)
        rng = self.rng
        product = np.empty(n, dtype=object)
        cas = np.full(n, None, dtype=object)
        u = rng.random(n)
        zh = chinese & (rng.random(n) < self.noise.chinese_text)
        for s in LISTED:
            m = key == s.cas
            bands = (("plain", 0.45), ("trade", 0.75), ("salt", 0.87), ("typo", 1.0))
            lo = 0.0
            for kind, hi in bands:
                mk = m & (u >= lo) & (u < hi)
                lo = hi
                k = int(mk.sum())
                if kind == "trade":
                    names = _pick(rng, s.plain + s.salts, k)
                    purity = _pick(rng, ("98", "99", "99.5"), k)
                    pack = _pick(rng, _PACKS, k)
                    product[mk] = [
                        f"{a} {b}% {c}" for a, b, c in zip(names, purity, pack, strict=True)
                    ]
                else:
                    product[mk] = _pick(
                        rng, {"plain": s.plain, "salt": s.salts, "typo": s.typos}[kind], k
                    )
            product[m & zh] = _pick(rng, s.chinese, int((m & zh).sum()))
            with_cas = m & (rng.random(n) < 0.75)
            cas[with_cas] = s.cas
        vague = np.zeros(n, dtype=bool)
        for i, b in enumerate(BENIGN):
            m = key == f"B{i}"
            k = int(m.sum())
            forms = [
                b.name,
                f"{b.name} 99%",
                f"{b.name.upper()} TECH GRADE",
                f"{b.name} {_PACKS[0]}",
            ]
            if b.name == "4-Aminopyridine":
                forms.append("4-AP (4-aminopyridine)")
            product[m] = _pick(rng, forms, k)
            if b.chinese:
                product[m & zh] = b.chinese
            if b.cas:
                cas[m & (rng.random(n) < 0.6)] = b.cas
            if "piperid" in b.name.lower() or "pyridine" in b.name.lower():
                vague |= m & (rng.random(n) < self.noise.vague_benign)
        product[vague] = _pick(rng, VAGUE, int(vague.sum()))
        cas[vague] = None
        for i, a in enumerate(ANALOGUES):
            product[key == f"D{i}"] = a.name
        planted = np.array([t is not None for t in text])
        product[planted] = text[planted]
        self.note("vague_benign", vague)
        self.note("chinese_text", zh & ~planted)
        return product, cas, vague & ~planted

    def hs_codes(
        self, key: np.ndarray, planted: np.ndarray, protect: np.ndarray, vague: np.ndarray
    ) -> np.ndarray:
        """Tariff codes: the product's own subheading, sloppily written at the noise rate."""
        n = len(key)
        rng = self.rng
        hs = np.full(n, None, dtype=object)
        listed = np.zeros(n, dtype=bool)
        for s in LISTED:
            hs[key == s.cas] = s.hs
            listed |= key == s.cas
        for i, b in enumerate(BENIGN):
            hs[key == f"B{i}"] = b.hs
        for i, a in enumerate(ANALOGUES):
            hs[key == f"D{i}"] = a.hs
        hs[vague] = _pick(rng, ("2933.39", "2933.99"), int(vague.sum()))
        sloppy = (rng.random(n) < self.noise.sloppy_hs) & ~protect & (hs != None)  # noqa: E711
        related = sloppy & listed & (rng.random(n) < 0.5)
        hs[related] = _pick(rng, SLOPPY_HS, int(related.sum()))
        fmt = sloppy & ~related
        if fmt.any():
            code = hs[fmt].astype(str)
            form = rng.integers(0, 5, len(code))
            hs[fmt] = np.select(
                [form == 0, form == 1, form == 2, form == 3],
                [np.char.replace(code, ".", ""), np.char.replace(code, ".", " "),
                 np.char.add(code, ".00"), np.char.add(np.char.replace(code, ".", ""), "00")],
                default=np.array([c[:4] for c in code], dtype=object),
            )  # fmt: skip
        self.note("sloppy_hs", sloppy)
        keep_planted = np.array([t is not None for t in planted])
        hs[keep_planted] = planted[keep_planted]
        missing = (rng.random(n) < 0.05) & ~keep_planted & ~protect
        hs[missing] = None
        return hs

    # -------------------------------------------------------------------- names, places

    def names(self, party: np.ndarray, src: np.ndarray, dup: np.ndarray) -> np.ndarray:
        """Each record's spelling of a party (registered name or one of its variants)."""
        n = len(party)
        rng = self.rng
        slot = np.zeros(n, dtype=np.int64)
        variant = rng.random(n) < self.noise.name_variants
        slot[variant] = rng.choice(
            [1, 2, 3, 4, 5], int(variant.sum()), p=[0.3, 0.25, 0.27, 0.08, 0.1]
        )
        chinese_party = np.asarray(self.parties.country)[party] == "CHN"
        # Chinese script only in Chinese customs records; elsewhere that slot is a respelling.
        slot = np.where((slot == 5) & chinese_party, 3, slot)
        zh = chinese_party & (src == "CHN") & (rng.random(n) < self.noise.chinese_text)
        slot = np.where(zh, 5, slot)
        slot = np.where(dup & ~zh, np.where(rng.random(n) < 0.7, 2, 1), slot)
        self.note("name_variant", slot != 0)
        table = [v for c in self.parties.companies for v in c.variants]
        return np.asarray(table, dtype=object)[party * N_NAME_VARIANTS + slot]

    def addresses(self, party: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Each record's writing of a party's address, left empty with 1 - `present`."""
        n = len(party)
        slot = self.rng.choice(N_ADDRESS_VARIANTS, n, p=[0.55, 0.2, 0.15, 0.1])
        table = [v for c in self.parties.companies for v in c.address_variants]
        out = np.asarray(table, dtype=object)[party * N_ADDRESS_VARIANTS + slot]
        out[self.rng.random(n) >= present] = None
        return out

    def countries(self, code: np.ndarray, dup: np.ndarray) -> np.ndarray:
        """Country fields: alpha-3, or a name, variant or alpha-2 at the noise rate."""
        n = len(code)
        out = code.astype(object).copy()
        spelt = (self.rng.random(n) < self.noise.country_spellings) & ~dup
        for c in np.unique(code[spelt]):
            m = spelt & (code == c)
            forms = (*COUNTRIES[c].names, COUNTRIES[c].alpha2)
            out[m] = _pick(self.rng, forms, int(m.sum()))
        out[dup] = [COUNTRIES[c].alpha2 for c in code[dup]]
        self.note("country_spelling", spelt)
        return out

    # ---------------------------------------------------------------------- quantities

    def quantities(
        self, kg: np.ndarray, src: np.ndarray, protect: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(number as written, unit as written, kg as a reader of the unit would store it)."""
        n = len(kg)
        rng = self.rng
        u = rng.random(n)
        kg_unit = _pick(rng, ("kg", "kg", "kg", "KGS", "Kilogram", "KG"), n)
        lb_share = np.where(src == "USA", 0.35, np.where(src == "GBR", 0.1, 0.0))
        unit = np.where(u < lb_share, _pick(rng, ("lb", "LBS"), n), kg_unit)
        small = (kg < 5) & (rng.random(n) < 0.3)
        big = (kg >= 1000) & (rng.random(n) < 0.35)
        unit = np.where(small, "g", np.where(big, _pick(rng, ("t", "tonnes", "MT"), n), unit))
        factor = np.select(
            [unit == "g", np.isin(unit, ["t", "tonnes", "MT"]), np.isin(unit, ["lb", "LBS"])],
            [0.001, 1000.0, _LB],
            default=1.0,
        )
        pounds = (rng.random(n) < self.noise.pounds_as_kg) & ~protect & (factor == 1.0)
        number = np.where(pounds, kg / _LB, kg / factor)
        number = np.select(
            [unit == "g", factor == 1000.0, (factor == _LB) | pounds],
            [np.round(number), np.round(number, 3), np.round(number, 1)],
            default=np.round(number, 2),
        )
        self.note("pounds_as_kg", pounds)
        return number, unit.astype(object), number * factor


def frame_of(log: list[tuple[str, np.ndarray]], ids: pl.Series) -> pl.DataFrame:
    """The per-record noise log as (kind, shipment_id) rows."""
    parts = [
        pl.DataFrame({"kind": [kind] * len(idx), "shipment_id": ids.gather(idx)})
        for kind, idx in log
        if len(idx)
    ]
    schema = {"kind": pl.String, "shipment_id": pl.String}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)
