"""Name and structure screening of product descriptions against the watchlist.

Interface (stable): `screen_names` screens a list of names; `screen_frame` screens the
distinct (product, cas) pairs of a shipment frame. Both return the contract's columns
first. Layers run cheapest first over the distinct descriptions only:

1. CAS numbers in the text or the cas field (check digit validated; salts map to the base);
2. exact lookup of every watchlist name form after Unicode/case folding and removal of
   purity, packaging, salt and hydrate words; whole-token abbreviations, ambiguous ones
   (4-AP, NPP) only with supporting context;
3. guarded fuzzy matching (rapidfuzz cdist): locants, ring names, substituents and the
   functional ending must agree, so a typo matches and an isomer does not;
4. structure: OPSIN parses what looks systematic (one JVM per batch), SMILES are read
   directly, RDKit compares parents and designer-precursor scaffolds (see structure.py);
5. fallbacks: fentanyl-stem names and listed names with a modifying prefix are analogues.

Fentanyl and its analogues are controlled drugs, not listed precursors: they contain the
4-anilinopiperidine core, so the screen reports them as `analogue` with the nearest listed
precursor (norfentanyl or ANPP) and says so in the explanation. An ambiguous abbreviation
without context (a bare "4-AP" or "NPP") is `clear` with score 40 and its candidate in
`candidate_cas`, so look-alike products stay clear while the candidate stays visible.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from detection.screening.config import ScreenConfig
from detection.screening.lexical import (
    Lexicon,
    NameForm,
    fuzzy_best,
    is_modifier_after,
    is_modifier_before,
)
from detection.screening.structure import (
    OpsinError,
    StructureIndex,
    StructureResult,
    fentanyl_stem_nearest,
    opsin_to_smiles,
    structure_layer_status,
)
from detection.screening.text import (
    CAS_RE,
    CLEAN_STEPS,
    CONTROL_PATTERN_PL,
    DASH_PATTERN_PL,
    EDGE_PUNCT,
    FOREIGN_PATTERN_PL,
    MAX_NAME_CHARS,
    compact,
    digit_groups,
    end_class,
    tokens,
)
from detection.screening.watchlist import Substance, cas_check_digit_ok, load_watchlist

__all__ = [
    "SCREEN_EXTRA_SCHEMA",
    "SCREEN_SCHEMA",
    "ScreenConfig",
    "screen_frame",
    "screen_names",
    "structure_layer_status",
]

SCREEN_SCHEMA: dict[str, pl.DataType] = {
    "name": pl.String(),
    "verdict": pl.String(),  # controlled | analogue | clear
    "substance_cas": pl.String(),
    "substance_name": pl.String(),
    "score": pl.Float64(),  # 0-100
    "method": pl.String(),
    "explanation": pl.String(),
}

# Extra columns after the contract's: the structure read, the similarity to the nearest
# listed substance, and the low-score candidate of an unsupported ambiguous abbreviation.
SCREEN_EXTRA_SCHEMA: dict[str, pl.DataType] = {
    "smiles": pl.String(),
    "nearest_similarity": pl.Float64(),
    "candidate_cas": pl.String(),
}

_CAS_SPAN_PL = r"(?:^|[^\d-])\d{2,7}-\d{2}-\d(?:[^\d-]|$)"
_SALT_WORDS_PL = (
    r"(?i)\b(?:mono|di|tri|sesqui|hemi)?(?:hydro)?(?:chloride|bromide|iodide)s?\b"
    r"|\b\d?\s*h(?:cl|br)\b|\bh2o\b|\b(?:mono|di|tri|sesqui|hemi)?hydrates?\b"
    r"|\b(?:citrate|oxalate|tartrate|sulfate|sulphate|phosphate|acetate|trifluoroacetate"
    r"|fumarate|maleate|mesylate|tosylate|besylate|succinate|nitrate|hydrobromide)\b"
)
_MAX_WINDOW = 6
_MAX_TOKENS = 24

# Context that makes an ambiguous abbreviation read as the precursor...
_SUPPORT_RE = re.compile(r"anilin|piperid|phenethyl|phenylethyl|fentan|opioid|precursor")
_HS_SUPPORT_RE = re.compile(r"2933\.?3[3679]")
# ...and context that makes it read as the benign chemical or an ordinary product.
_AGAINST_RE = re.compile(
    r"pyridin|fampridin|fertili|npk|nitrogen|phosph|potass|nonylphenol|ethoxyl|polymer|"
    r"adhesive|resin|glue|coating|paint|film|vitamin|plastic|granule|polyprop|sulph|sulf"
)
_SYSTEMATIC_RE = re.compile(
    r"(?:yl|ane|ene|ine|one|ol|amide|amine|ate|ide|oxy|oxo|carbox|spiro|ketal|acetal|anilin|"
    r"piperid|azin|oxim|ium)\b|[0-9],[0-9]|[0-9]-[a-z]|\(|\["
)
# Every listed precursor and every designer pattern has a piperidine ring; a systematic name
# that names none (no piperid-, pyrid-, azin-, aza-...) cannot be one, so it is not parsed.
_RING_WORDS_RE = re.compile(r"piperid|pyrid|azin|aza|nipecot|anilin")
_SMILES_RE = re.compile(r"^[A-Za-z0-9@+\-\[\]()=#$/\\%.:*]+$")
_SMILES_HINT_RE = re.compile(r"[()=#\[\]]|[A-Za-z][1-9]")
_LETTER_RE = re.compile(r"[^\W\d_]")

# Protecting-group and listed abbreviations rewritten into words OPSIN understands, so
# "1-benzyl-4-AP", "N-Cbz-4-piperidone" and "4-fluoro-ANPP" reach the structure layer.
_PREFIX_LOC = r"(?:(?:[2-6]|o|m|p|ortho|meta|para)-?)"
_SUBST = r"(?:fluoro|chloro|bromo|iodo|methyl|methoxy|ethyl|trifluoromethyl|nitro)"
_EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bt-?boc\b|\bboc\b"), "tert-butoxycarbonyl"),
    (re.compile(r"(?i)\bcbz\b|\bz(?=-4-)"), "benzyloxycarbonyl"),
    (re.compile(r"(?i)\bfmoc\b"), "(9H-fluoren-9-ylmethoxy)carbonyl"),
    (re.compile(r"(?i)\bbn\b"), "benzyl"),
    (re.compile(r"(?i)\bcarbethoxy\b"), "ethoxycarbonyl"),
    (re.compile(r"(?i)\bcarbomethoxy\b"), "methoxycarbonyl"),
    (
        re.compile(rf"(?i)\b({_PREFIX_LOC}){_SUBST.replace('(?:', '(', 1)}-?(?:4-?)?anpp\b"),
        r"N-(\1\2phenyl)-1-(2-phenylethyl)piperidin-4-amine",
    ),
    (re.compile(r"(?i)\b4-?anpp\b|\banpp\b"), "4-anilino-1-(2-phenylethyl)piperidine"),
    (re.compile(r"(?i)(?<=-)4-?ap\b"), "4-anilinopiperidine"),
    (re.compile(r"(?i)(?<=-)npp\b"), "1-(2-phenylethyl)piperidin-4-one"),
)
_LOC_WORDS = {"o-": "2-", "m-": "3-", "p-": "4-", "ortho-": "2-", "meta-": "3-", "para-": "4-"}
_LOC_WORD_RE = re.compile(r"(?i)\b(?:ortho-|meta-|para-|o-|m-|p-)(?=[a-z])")
_EXPAND_TRIGGER_RE = re.compile(r"(?i)boc|cbz|z-4|fmoc|\bbn\b|carb[oe]|anpp|ap\b|npp")


@dataclass
class _Row:
    """Working state of one distinct cleaned description (trade and salt words removed)."""

    cleaned: str
    hs_support: bool
    salts: list[str]

    key: str = ""
    toks: list[str] = field(default_factory=list)
    tok_keys: list[str] = field(default_factory=list)
    result: tuple[str, Substance | None, float, str, str] | None = None
    smiles: str | None = None
    similarity: float | None = None
    candidate: Substance | None = None
    ambiguous: NameForm | None = None
    modified: tuple[NameForm, str] | None = None
    structure_tried: bool = False
    no_ring_word: bool = False
    structure_down: str | None = None

    def decide(
        self, verdict: str, sub: Substance | None, score: float, method: str, why: str
    ) -> None:
        self.result = (verdict, sub, float(score), method, why)


@functools.lru_cache(maxsize=8)
def _indexes(extra: tuple[Substance, ...]) -> tuple[Lexicon, StructureIndex, ScreenConfig]:
    subs = [*load_watchlist(), *extra]
    return Lexicon(subs), StructureIndex(subs), ScreenConfig()


def _salt_note(row: _Row) -> str:
    if not row.salts:
        return ""
    words = ", ".join(dict.fromkeys(s.lower() for s in row.salts))
    return f" (salt/hydrate words '{words}' read as the free base)"


def _windows(row: _Row) -> Iterable[tuple[int, int, str]]:
    n = len(row.tok_keys)
    for size in range(min(n, _MAX_WINDOW), 0, -1):
        for i in range(0, n - size + 1):
            yield i, i + size, "".join(row.tok_keys[i : i + size])


def _modified(row: _Row, i: int, j: int) -> str | None:
    """The token that modifies the name in window [i, j), if any."""
    if i > 0 and is_modifier_before(row.tok_keys[i - 1]):
        return row.toks[i - 1]
    if j < len(row.tok_keys) and is_modifier_after(row.tok_keys[j]):
        return row.toks[j]
    return None


def _context(row: _Row, i: int, j: int) -> tuple[str | None, str | None]:
    """(supporting word, opposing word) around an ambiguous abbreviation in window [i, j)."""
    others = " ".join(row.tok_keys[:i] + row.tok_keys[j:])
    against = _AGAINST_RE.search(others)
    if against:
        word = next((t for t in row.toks if _AGAINST_RE.search(compact(t))), against.group(0))
        return None, word
    support = _SUPPORT_RE.search(others)
    if support:
        return support.group(0), None
    if row.hs_support:
        return "HS heading 2933.3x", None
    return None, None


def _layer_exact(row: _Row, lex: Lexicon, cfg: ScreenConfig) -> None:
    hit = lex.names.get(row.key)
    if hit is not None:
        row.decide(
            "controlled",
            hit.substance,
            100.0,
            hit.method,
            f"Exact match to the {hit.label} '{hit.name}' of {hit.substance.name}"
            f"{_salt_note(row)}.",
        )
        return
    ambiguous: tuple[NameForm, int, int] | None = None
    for i, j, key in _windows(row):
        nf = lex.names.get(key)
        if nf is not None:
            mod = _modified(row, i, j)
            if mod is not None:
                row.modified = row.modified or (nf, mod)
                continue
            row.decide(
                "controlled",
                nf.substance,
                98.0 if nf.kind != "abbreviation" else 95.0,
                nf.method,
                f"The {nf.label} '{nf.name}' of {nf.substance.name} appears as whole words "
                f"in the text{_salt_note(row)}.",
            )
            return
        amb = lex.ambiguous.get(key)
        if amb is not None and ambiguous is None:
            ambiguous = (amb, i, j)
    if ambiguous is None:
        return
    nf, i, j = ambiguous
    if _modified(row, i, j) is not None:
        row.modified = row.modified or (nf, row.toks[i - 1] if i > 0 else row.toks[j])
        return
    support, against = _context(row, i, j)
    row.ambiguous = nf
    if against:
        row.decide(
            "clear",
            None,
            10.0,
            "abbreviation-ambiguous",
            f"'{nf.name}' is an ambiguous abbreviation of {nf.substance.preferred_name}, but "
            f"the word '{against}' shows it means something else here.",
        )
    elif support:
        row.decide(
            "controlled",
            nf.substance,
            cfg.ambiguous_context_score,
            "abbreviation",
            f"Ambiguous abbreviation '{nf.name}' read as {nf.substance.preferred_name} "
            f"(score {cfg.ambiguous_context_score:.0f}) because of the context '{support}'.",
        )
    else:
        row.candidate = nf.substance
        row.decide(
            "clear",
            None,
            cfg.ambiguous_candidate_score,
            "abbreviation-ambiguous",
            f"'{nf.name}' may be {nf.substance.preferred_name} (CAS {nf.substance.cas}) but is "
            f"also a common benign name; low-score candidate "
            f"({cfg.ambiguous_candidate_score:.0f}) without supporting context.",
        )


def _fuzzy_queries(row: _Row) -> list[str]:
    out = [row.key] if len(row.key) >= 8 else []
    if len(row.tok_keys) > 1:
        n = len(row.tok_keys)
        for size in range(min(n - 1, 4), 0, -1):
            for i in range(0, n - size + 1):
                if _modified(row, i, i + size) is None:
                    key = "".join(row.tok_keys[i : i + size])
                    if len(key) >= 8:
                        out.append(key)
    return out


def _layer_fuzzy(rows: list[_Row], lex: Lexicon, cfg: ScreenConfig) -> None:
    per_row = [(row, _fuzzy_queries(row)) for row in rows]
    queries = list(dict.fromkeys(q for _, qs in per_row for q in qs))
    best = fuzzy_best(lex, queries, cfg.fuzzy_min)
    if not best:
        return
    for row, qs in per_row:
        hits = [best[q] for q in qs if q in best]
        if not hits:
            continue
        nf, score = max(hits, key=lambda h: h[1])
        row.decide(
            "controlled",
            nf.substance,
            score,
            "fuzzy",
            f"Fuzzy match (score {score:.0f}) to {nf.label} '{nf.name}' of "
            f"{nf.substance.name}; locants, ring and substituent names agree{_salt_note(row)}.",
        )


def _expand(text: str) -> str:
    if not _EXPAND_TRIGGER_RE.search(text):
        return text
    t = _LOC_WORD_RE.sub(lambda m: _LOC_WORDS[m.group(0).lower()], text)
    for rx, repl in _EXPANSIONS:
        t = rx.sub(repl, t)
    return t


def _looks_smiles(text: str) -> bool:
    return (
        4 <= len(text) <= 300
        and " " not in text
        and bool(_SMILES_RE.match(text))
        and bool(_SMILES_HINT_RE.search(text))
    )


def _opsin_inputs(row: _Row, ring_filter: bool) -> list[str]:
    if not row.cleaned or not row.cleaned.isascii() or len(row.cleaned) > 300:
        return []
    base = _expand(row.cleaned)
    low = base.lower()
    if not _SYSTEMATIC_RE.search(low):
        return []
    if ring_filter and not _RING_WORDS_RE.search(low):
        row.no_ring_word = True
        return []
    out = [base]
    if len(row.toks) > 1:
        for tok in sorted(row.toks, key=len, reverse=True)[:3]:
            exp = _expand(tok)
            if len(exp) >= 8 and exp != base and _SYSTEMATIC_RE.search(exp.lower()):
                out.append(exp)
    return out


def _apply_structure(row: _Row, res: StructureResult) -> None:
    row.smiles, row.similarity = res.smiles, res.similarity
    if res.verdict == "clear" and res.method == "none":
        return
    row.decide(res.verdict, res.substance, res.score, res.method, res.explanation)


def _layer_structure(rows: list[_Row], six: StructureIndex, cfg: ScreenConfig) -> None:
    pending: list[tuple[_Row, list[str]]] = []
    for row in rows:
        if _looks_smiles(row.cleaned):
            from rdkit import Chem

            mol = Chem.MolFromSmiles(row.cleaned)
            if mol is not None and mol.GetNumHeavyAtoms() >= 4:
                row.structure_tried = True
                _apply_structure(row, six.classify(row.cleaned, source="SMILES"))
                continue
        inputs = _opsin_inputs(row, six.all_piperidines) if cfg.structure else []
        if not cfg.structure and _SYSTEMATIC_RE.search(row.cleaned.lower()):
            row.structure_down = "structure layer switched off in the settings"
        if inputs:
            pending.append((row, inputs))
    if not pending:
        return
    if not cfg.structure:
        for row, _ in pending:
            row.structure_down = "structure layer switched off in the settings"
        return
    names = list(dict.fromkeys(n for _, inputs in pending for n in inputs))
    cache: dict[str, StructureResult] = {}

    def classify(_name: str, smi: str | None) -> None:
        # Runs while OPSIN is still parsing later names (streamed results).
        if smi and smi not in cache:
            cache[smi] = six.classify(smi)

    try:
        parsed = dict(
            zip(
                names,
                opsin_to_smiles(names, timeout=cfg.opsin_timeout_s, on_result=classify),
                strict=True,
            )
        )
    except OpsinError as exc:
        for row, _ in pending:
            row.structure_down = str(exc)
        return
    for row, inputs in pending:
        row.structure_tried = True
        for name in inputs:
            smi = parsed.get(name)
            if not smi:
                continue
            if smi not in cache:
                cache[smi] = six.classify(smi)
            _apply_structure(row, cache[smi])
            if row.result is not None:
                break


def _layer_fallbacks(row: _Row, lex: Lexicon, six: StructureIndex, cfg: ScreenConfig) -> None:
    if "fentan" in row.key:
        near, sim = fentanyl_stem_nearest(six)
        if near is not None:
            row.decide(
                "analogue",
                near,
                cfg.stem_score,
                "stem",
                f"The name carries the fentanyl stem: a fentanyl-related substance (a controlled "
                f"drug built on the 4-anilinopiperidine core, not a listed precursor); nearest "
                f"listed substance {near.name} (Tanimoto {sim:.2f} for fentanyl itself).",
            )
            return
    if row.modified is None:
        for tk in row.tok_keys:
            m = lex.suffix_re.search(tk)
            if m is not None and m.start() > 0 and is_modifier_before(tk[: m.start()]):
                row.modified = (lex.suffix_by_key[m.group(0)], tk[: m.start()])
                break
    if row.modified is not None:
        nf, mod = row.modified
        row.decide(
            "analogue",
            nf.substance,
            cfg.modified_name_score,
            "modified-name",
            f"The {nf.label} '{nf.name}' of {nf.substance.name} appears with the modifying "
            f"prefix or word '{mod}': a possible masked or substituted form (structure not "
            f"resolved).",
        )


_RING_WORD_RE = re.compile(r"(?i)piperid")
_BARE_RING_RE = re.compile(r"(?i)^(?:piperid(?:ine|one|inone|inol|inamine))$")


def _function(name: str) -> str | None:
    """The functional class a name ends in, "oxo" names counting as ketones."""
    key = compact(name)
    return "ketone" if "oxo" in key else end_class(key)


def _layer_no_locant(units: list[_Row], lex: Lexicon, cfg: ScreenConfig) -> None:
    """A name with no ring position at all ("phenethyl piperidone", "anilinopiperidine",
    "N-boc piperidone") that the other layers cleared: OPSIN reads such a name at a default
    position, which is rarely what a trader meant. Read with the 4-position every listed
    precursor has, it may be a listed substance: then flag it for review as an analogue (the
    2- and 3-isomers are not listed, so it is not called controlled)."""
    todo: list[tuple[_Row, _Row]] = []
    for unit in units:
        if unit.result is None or unit.result[0] != "clear" or unit.result[3] == "error":
            continue
        text = unit.cleaned
        # No ring position: no digit at all, or only the ring nitrogen's "1-".
        if set(digit_groups(compact(text))) - {"1"} or not _RING_WORD_RE.search(text):
            continue
        if _BARE_RING_RE.match(text.strip()):
            continue  # "piperidine", "piperidone" alone: no substituent, nothing to read
        words = text.split()
        for i, w in enumerate(words):
            if not _RING_WORD_RE.search(w):
                continue
            m = _RING_WORD_RE.search(w)
            assert m is not None
            variants = [w[: m.start()] + "4-" + w[m.start() :], "4-" + w]
            for v in dict.fromkeys(variants):
                cand = _Row(" ".join([*words[:i], v, *words[i + 1 :]]), unit.hs_support, unit.salts)
                cand.key = compact(cand.cleaned)
                cand.toks = tokens(cand.cleaned)[:_MAX_TOKENS]
                cand.tok_keys = [compact(t) for t in cand.toks]
                todo.append((unit, cand))
            break
    if not todo:
        return
    for _, cand in todo:
        _layer_exact(cand, lex, cfg)
    _layer_fuzzy([c for _, c in todo if c.result is None], lex, cfg)
    for unit, cand in todo:
        if unit.result is not None and unit.result[0] != "clear":
            continue  # an earlier variant already decided
        if cand.result is None or cand.result[0] != "controlled" or cand.result[1] is None:
            continue
        sub = cand.result[1]
        ring = next(w for w in unit.cleaned.split() if _RING_WORD_RE.search(w))
        matched = re.search(r"'([^']+)'", cand.result[4])
        if matched is None or _function(ring) != _function(matched.group(1)):
            continue  # a piperidine is not a piperidone: the reading must keep the function
        unit.decide(
            "analogue",
            sub,
            cfg.modified_name_score,
            "no-locant",
            f"The name gives no ring position; read as '{cand.cleaned}' (the 4-position every "
            f"listed precursor has) it names {sub.name} (CAS {sub.cas}). Flagged for review: "
            f"the 2- and 3-isomers are not listed.",
        )
        unit.candidate = sub


def _unit_result(row: _Row) -> tuple[str, Substance | None, float, str, str]:
    if row.result is None:
        if row.structure_down and not row.structure_tried:
            row.decide(
                "clear",
                None,
                0.0,
                "structure-unavailable",
                f"No listed name form matched and the name could not be checked by "
                f"structure ({row.structure_down}).",
            )
        elif row.no_ring_word:
            row.decide(
                "clear",
                None,
                0.0,
                "none",
                "No listed name form matched, and the name names no piperidine ring, which every "
                "listed precursor and designer pattern has.",
            )
        elif row.structure_tried and row.smiles is None:
            row.decide(
                "clear",
                None,
                0.0,
                "none",
                "No listed name form matched, and OPSIN could not parse the name as a structure.",
            )
        else:
            row.decide(
                "clear", None, 0.0, "none", "No listed name form, CAS number or structure matched."
            )
    assert row.result is not None
    return row.result


def _prepare(
    names: Sequence[str | None], cas: Sequence[str | None], hs: Sequence[str | None]
) -> pl.DataFrame:
    """Vectorised: sanitised text, CAS candidates, HS support, cleaned text, salt words."""
    df = pl.DataFrame(
        {"raw": names, "cas_field": cas, "hs_field": hs},
        schema={"raw": pl.String(), "cas_field": pl.String(), "hs_field": pl.String()},
    )
    head = pl.col("raw").fill_null("").str.slice(0, MAX_NAME_CHARS).str.normalize("NFKC")
    text = (
        head.str.replace_all(CONTROL_PATTERN_PL, " ")
        .str.replace_all(DASH_PATTERN_PL, "-")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    df = df.with_columns(
        text=text,
        raw_len=pl.col("raw").str.len_chars().fill_null(0),
        had_control=head.str.contains(CONTROL_PATTERN_PL),
    )
    cleaned = pl.col("text")
    for pattern, repl in CLEAN_STEPS:
        # ASCII word boundaries let polars' regex engine use its DFA (much faster).
        cleaned = cleaned.str.replace_all(pattern.replace(r"\b", r"(?-u:\b)"), repl)
    cas_src = pl.concat_str(
        [pl.col("text"), pl.col("cas_field").fill_null("").str.slice(0, 200)], separator=" | "
    )
    hs_src = pl.concat_str([pl.col("text"), pl.col("hs_field").fill_null("")], separator=" ")
    return df.with_columns(
        cleaned=cleaned.str.strip_chars(EDGE_PUNCT),
        cas_spans=cas_src.str.extract_all(_CAS_SPAN_PL),
        hs_support=hs_src.str.contains(_HS_SUPPORT_RE.pattern),
        salts=pl.col("text").str.extract_all(_SALT_WORDS_PL.replace(r"\b", r"(?-u:\b)")),
    )


def _cas_decision(
    spans: list[str], lex: Lexicon, notes: list[str]
) -> tuple[str, Substance | None, float, str, str] | None:
    found = [(c, cas_check_digit_ok(c)) for c in (s.strip(" -|,;:()[]#") for s in spans)]
    found = [(c, ok) for c, ok in found if CAS_RE.fullmatch(c)]
    bad = [c for c, ok in found if not ok]
    if bad:
        notes.append(f"CAS-shaped number {bad[0]} has an invalid check digit and was ignored")
    for cas, ok in found:
        if ok and cas in lex.cas:
            sub, form = lex.cas[cas]
            what = f"{form}, a form of {sub.name}" if form else sub.name
            return (
                "controlled",
                sub,
                100.0,
                "cas",
                f"CAS {cas} (check digit valid) is {what}; listed free base CAS {sub.cas}.",
            )
    return None


_OUT_COLS = (
    "verdict",
    "substance_cas",
    "substance_name",
    "score",
    "method",
    "explanation",
    "smiles",
    "nearest_similarity",
    "candidate_cas",
)


def _result_tuple(
    d: tuple[str, Substance | None, float, str, str],
    smiles: str | None = None,
    similarity: float | None = None,
    candidate: str | None = None,
) -> tuple[object, ...]:
    verdict, sub, score, method, why = d
    return (
        verdict,
        sub.cas if sub else None,
        sub.name if sub else None,
        round(max(0.0, min(100.0, score)), 1),
        method,
        why,
        smiles,
        similarity,
        candidate,
    )


_OUT_SCHEMA = {k: v for k, v in {**SCREEN_SCHEMA, **SCREEN_EXTRA_SCHEMA}.items() if k != "name"}


def _screen_distinct(
    names: Sequence[str | None],
    cas: Sequence[str | None],
    hs: Sequence[str | None],
    extra: tuple[Substance, ...],
    cfg: ScreenConfig | None,
) -> pl.DataFrame:
    """Screen distinct rows; returns the contract frame (plus extras) in input order."""
    lex, six, default_cfg = _indexes(extra)
    cfg = cfg or default_cfg
    prep = _prepare(names, cas, hs).with_row_index("idx")
    prep = prep.with_columns(
        key=pl.col("cleaned").str.to_lowercase().str.replace_all(r"[^0-9a-z]+", ""),
        salt_key=pl.col("salts")
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
        .list.unique()
        .list.sort()
        .list.join(" "),
    )
    # Layer 1, CAS: only rows with a CAS-shaped number, few in practice.
    fixed: list[tuple[object, ...]] = []
    cas_notes: list[tuple[int, str]] = []
    for idx, spans in (
        prep.filter(pl.col("cas_spans").list.len() > 0).select("idx", "cas_spans").iter_rows()
    ):
        notes: list[str] = []
        hit = _cas_decision(spans, lex, notes)
        if hit is not None:
            fixed.append((idx, *_result_tuple(hit)))
        if notes:
            cas_notes.append((idx, "; ".join(notes)))
    cas_done = {f[0] for f in fixed}
    # Layers 2-5 run once per distinct cleaned description.
    todo = prep.filter((pl.col("key") != "") & ~pl.col("idx").is_in(list(cas_done)))
    unit_keys = todo.select("cleaned", "hs_support", "salt_key").unique(maintain_order=True)
    units = [_Row(c, bool(h), sk.split(" ") if sk else []) for c, h, sk in unit_keys.iter_rows()]
    open_rows: list[_Row] = []
    for unit in units:
        try:
            unit.key = compact(unit.cleaned)
            unit.toks = tokens(unit.cleaned)[:_MAX_TOKENS]
            unit.tok_keys = [compact(t) for t in unit.toks]
            _layer_exact(unit, lex, cfg)
            if unit.result is None:
                open_rows.append(unit)
        except Exception as exc:  # one bad name must not sink the batch
            unit.decide("clear", None, 0.0, "error", f"The name could not be screened ({exc!r}).")
    _layer_fuzzy(open_rows, lex, cfg)
    open_rows = [r for r in open_rows if r.result is None]
    _layer_structure(open_rows, six, cfg)
    for unit in open_rows:
        if unit.result is None:
            _layer_fallbacks(unit, lex, six, cfg)
    _layer_no_locant(units, lex, cfg)
    unit_res = pl.DataFrame(
        [
            _result_tuple(
                _unit_result(u),
                u.smiles,
                u.similarity,
                u.candidate.cas if u.candidate else None,
            )
            for u in units
        ],
        schema=_OUT_SCHEMA,
        orient="row",
    )
    unit_res = pl.concat([unit_keys, unit_res], how="horizontal")
    fixed_df = pl.DataFrame(fixed, schema={"idx": pl.UInt32(), **_OUT_SCHEMA}, orient="row")
    notes_df = pl.DataFrame(
        cas_notes, schema={"idx": pl.UInt32(), "cas_note": pl.String()}, orient="row"
    )
    out = (
        prep.select(
            "idx",
            "raw",
            "text",
            "key",
            "raw_len",
            "had_control",
            "cleaned",
            "hs_support",
            "salt_key",
        )
        .join(
            unit_res,
            on=["cleaned", "hs_support", "salt_key"],
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        .update(fixed_df, on="idx", how="left")
        .join(notes_df, on="idx", how="left", maintain_order="left")
    )
    no_text = pl.col("text") == ""
    no_key = pl.col("key") == ""
    undecided = pl.col("verdict").is_null()
    out = out.with_columns(
        verdict=pl.col("verdict").fill_null("clear"),
        score=pl.col("score").fill_null(0.0),
        method=pl.col("method").fill_null("none"),
        explanation=pl.when(undecided & no_text)
        .then(pl.lit("Empty name: nothing to screen."))
        .when(undecided & no_key)
        .then(
            pl.lit(
                "The name has no Latin letters or digits left after removing trade words; "
                "no listed name form matched."
            )
        )
        .otherwise(pl.col("explanation")),
        note=pl.concat_str(
            [
                pl.when(pl.col("raw_len") > MAX_NAME_CHARS).then(
                    pl.format(
                        "name is {} characters; only the first {} were screened",
                        pl.col("raw_len"),
                        pl.lit(MAX_NAME_CHARS),
                    )
                ),
                pl.when(pl.col("had_control")).then(pl.lit("control characters were removed")),
                pl.when(
                    pl.col("text").str.contains(FOREIGN_PATTERN_PL)
                    & pl.col("verdict").is_in(["controlled", "analogue"])
                ).then(
                    pl.format(
                        "read as '{}' (Spanish/Portuguese/French/German spelling)",
                        pl.col("cleaned").str.slice(0, 120),
                    )
                ),
                pl.col("cas_note"),
            ],
            separator="; ",
            ignore_nulls=True,
        ),
    )
    out = out.with_columns(
        explanation=pl.when(pl.col("note") != "")
        .then(
            pl.concat_str(
                [
                    pl.col("explanation").str.strip_chars_end("."),
                    pl.lit("; "),
                    pl.col("note"),
                    pl.lit("."),
                ]
            )
        )
        .otherwise(pl.col("explanation"))
    )
    return out.select(pl.col("raw").alias("name"), *_OUT_COLS)


def screen_names(
    names: Iterable[str | None],
    *,
    cas: Iterable[str | None] | None = None,
    hs_code: Iterable[str | None] | None = None,
    extra: Sequence[Substance] = (),
    config: ScreenConfig | None = None,
) -> pl.DataFrame:
    """Screen each name (and its optional CAS and HS fields); one output row per input row.

    The contract columns come first; `smiles`, `nearest_similarity` and `candidate_cas`
    follow. `extra` substances (promoted from early warning) screen as controlled.
    """
    names = list(names)
    n = len(names)
    cas_list = list(cas) if cas is not None else [None] * n
    hs_list = list(hs_code) if hs_code is not None else [None] * n
    if len(cas_list) != n or len(hs_list) != n:
        raise ValueError("names, cas and hs_code must have the same length")
    str_schema = {"n": pl.String(), "c": pl.String(), "h": pl.String()}
    try:
        df = pl.DataFrame({"n": names, "c": cas_list, "h": hs_list}, schema=str_schema)
    except (TypeError, pl.exceptions.PolarsError):
        df = pl.DataFrame(
            {
                "n": [None if v is None else str(v) for v in names],
                "c": [None if v is None else str(v) for v in cas_list],
                "h": [None if v is None else str(v) for v in hs_list],
            },
            schema=str_schema,
        )
    distinct = df.unique(maintain_order=True)
    res = _screen_distinct(
        distinct["n"].to_list(),
        distinct["c"].to_list(),
        distinct["h"].to_list(),
        tuple(extra),
        config,
    )
    if distinct.height == n:
        return res
    both = pl.concat([distinct, res.drop("name")], how="horizontal")
    out = df.join(both, on=["n", "c", "h"], how="left", nulls_equal=True, maintain_order="left")
    return out.rename({"n": "name"}).drop("c", "h")


def screen_frame(
    frame: pl.DataFrame,
    *,
    name_col: str = "product",
    cas_col: str | None = "cas",
    hs_col: str | None = "hs_code",
    extra: Sequence[Substance] = (),
    config: ScreenConfig | None = None,
) -> pl.DataFrame:
    """Screen the distinct (name, cas, hs) rows of `frame`; returns those columns and verdicts."""
    cols = [name_col]
    if cas_col and cas_col in frame.columns:
        cols.append(cas_col)
    if hs_col and hs_col in frame.columns:
        cols.append(hs_col)
    distinct = frame.select(cols).unique(maintain_order=True)
    res = _screen_distinct(
        distinct[name_col].cast(pl.String).to_list(),
        distinct[cas_col].cast(pl.String).to_list()
        if cas_col in cols
        else [None] * distinct.height,
        distinct[hs_col].cast(pl.String).to_list() if hs_col in cols else [None] * distinct.height,
        tuple(extra),
        config,
    )
    return pl.concat([distinct, res.drop("name")], how="horizontal")
