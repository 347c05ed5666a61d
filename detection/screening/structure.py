"""Structure layer: names to structures with OPSIN (one JVM per batch), compared with RDKit.

What looks systematic and names a piperidine ring goes to OPSIN (protecting-group and
listed abbreviations spelled out first); what looks like SMILES is read directly. A parsed
structure is reduced to its parent (largest organic fragment, neutralised, a
gem-diol read as the ketone it is the hydrate of) and then:
- the same parent as a listed (or promoted) substance is that substance;
- a parent containing a listed precursor's core in one of the masked forms that one easy
  step turns into a listed precursor (rules below, from DOMAIN.md's designer-precursor
  patterns) is an analogue;
- otherwise high fingerprint similarity to a listed substance is an analogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.MolStandardize import rdMolStandardize

from detection.screening.config import ScreenConfig
from detection.screening.opsin import OpsinError, opsin_to_smiles
from detection.screening.unit import Unit
from detection.screening.watchlist import Substance

__all__ = [
    "StructureIndex",
    "StructureResult",
    "fentanyl_stem_nearest",
    "layer_structure",
    "looks_systematic",
    "parent_of",
]

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]

_GEM_DIOL = Chem.MolFromSmarts("[CX4;!$(C(O)(O)O)]([OX2H1])[OX2H1]")
_uncharger = rdMolStandardize.Uncharger()
_chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)


def parent_of(smiles: str) -> Chem.Mol | None:
    """The parent structure: largest organic fragment, neutral, gem-diol read as ketone."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    try:
        if "." in smiles:
            mol = _chooser.choose(mol)
        if "+" in smiles or "-]" in smiles:
            mol = _uncharger.uncharge(mol)
        while mol.HasSubstructMatch(_GEM_DIOL):
            c, o1, o2 = mol.GetSubstructMatch(_GEM_DIOL)
            rw = Chem.RWMol(mol)
            rw.GetBondBetweenAtoms(c, o1).SetBondType(Chem.BondType.DOUBLE)
            rw.RemoveAtom(o2)
            mol = rw.GetMol()
            Chem.SanitizeMol(mol)
    except Exception:  # RDKit raises several unrelated types on odd input
        return None
    return mol


def _key(mol: Chem.Mol) -> str:
    """Canonical SMILES without stereo or isotopes: the identity of a parent structure.

    (Much cheaper than an InChIKey; both sides go through the same RDKit canonicaliser.)
    """
    return str(Chem.MolToSmiles(mol, isomericSmiles=False))


# Core patterns. Ring atoms are sp3 and in one ring only, so fused and aromatic look-alikes
# (pyridines, quinazolines, benzimidazolones) do not match.
_PIP = "[CX4;R1]-[CX4;R1]-[NX3;R1]-[CX4;R1]-[CX4;R1]"
_ANILINOPIPERIDINE = Chem.MolFromSmarts(f"[NX3;!R](-c1ccccc1)-[CX4;R1]1-{_PIP}-1")
_PIPERIDONE = Chem.MolFromSmarts(f"[O,N;!R]=[CX3;R1]1-{_PIP}-1")
_PIPERIDONE_KETAL = Chem.MolFromSmarts(f"[OX2]-[CX4;R]1(-[OX2])-{_PIP}-1")
_PIPERIDINE_RING = Chem.MolFromSmarts("[#6;R]1~[#6;R]~[#6;R]~[#7;R]~[#6;R]~[#6;R]~1")
_FENTANYL_STEM_SMILES = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def _n_substituent(mol: Chem.Mol, n_idx: int, ring: set[int]) -> str | None:
    """What sits on the piperidine nitrogen, if it is a removable (masking) group.

    Removable in one easy step: nothing (N-H), acyl/carbamate/urea (hydrolysis),
    sulfonyl, benzyl-type (hydrogenolysis); aryl-ethyl is the NPP/ANPP pattern itself.
    Plain alkyl (N-methyl) is not: dealkylation is not an easy step.
    """
    n = mol.GetAtomWithIdx(n_idx)
    subs = [a for a in n.GetNeighbors() if a.GetIdx() not in ring]
    if not subs:
        return "N-H"
    a = subs[0]
    if a.GetSymbol() == "S" and sum(1 for b in a.GetNeighbors() if b.GetSymbol() == "O") >= 2:
        return "sulfonyl"
    if a.GetSymbol() != "C" or a.GetIsAromatic():
        return None
    for b in a.GetBonds():
        other = b.GetOtherAtom(a)
        if b.GetBondType() == Chem.BondType.DOUBLE and other.GetSymbol() == "O":
            return "acyl or carbamate"
    beyond = [b for b in a.GetNeighbors() if b.GetIdx() != n_idx]
    if any(b.GetIsAromatic() for b in beyond):
        return "benzyl-type"
    for b in beyond:
        if (
            b.GetSymbol() == "C"
            and not b.GetIsAromatic()
            and any(c.GetIsAromatic() for c in b.GetNeighbors() if c.GetIdx() != a.GetIdx())
        ):
            return "aryl-ethyl"
    return None


@dataclass(frozen=True)
class StructureResult:
    """What the structure layer concluded about one parsed structure."""

    verdict: str  # controlled | analogue | clear
    substance: Substance | None
    score: float
    method: str
    explanation: str
    smiles: str
    similarity: float | None


class StructureIndex:
    """Parents and fingerprints of the listed (and promoted) substances."""

    def __init__(self, substances: Sequence[Substance]):
        self._fpgen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
        self._by_key: dict[str, Substance] = {}
        self._refs: list[tuple[Substance, Any]] = []
        self._all_piperidines = True
        for sub in substances:
            smiles = [sub.smiles] + [f.smiles for f in sub.forms if f.smiles]
            for smi in smiles:
                if not smi:
                    continue
                mol = parent_of(smi)
                if mol is None:
                    continue
                self._by_key.setdefault(_key(mol), sub)
                if smi == sub.smiles:
                    self._refs.append((sub, self._fpgen.GetFingerprint(mol)))
                    if not mol.HasSubstructMatch(_PIPERIDINE_RING):
                        self._all_piperidines = False

    @property
    def all_piperidines(self) -> bool:
        """True when every reference structure has a piperidine ring (the name prefilter)."""
        return self._all_piperidines

    def nearest(self, mol: Chem.Mol) -> tuple[Substance | None, float]:
        """The most similar listed substance and the Tanimoto similarity (Morgan r=2)."""
        fp = self._fpgen.GetFingerprint(mol)
        best: tuple[Substance | None, float] = (None, 0.0)
        for sub, ref in self._refs:
            sim = DataStructs.TanimotoSimilarity(fp, ref)
            if sim > best[1]:
                best = (sub, sim)
        return best

    def classify(
        self, smiles: str, similarity_min: float, *, source: str = "OPSIN"
    ) -> StructureResult:
        """Compare one structure (as SMILES) with the listed substances; an unlisted structure
        without a designer scaffold is an analogue at Tanimoto `similarity_min` or more."""
        mol = parent_of(smiles)
        if mol is None:
            return StructureResult(
                "clear", None, 0.0, "none", "The structure could not be read.", smiles, None
            )
        parent_smiles = _key(mol)
        hit = self._by_key.get(parent_smiles)
        if hit is not None:
            return StructureResult(
                "controlled",
                hit,
                100.0,
                "structure",
                f"Structure from {source} ({parent_smiles}, salts and water removed) is the "
                f"parent of {hit.name} (CAS {hit.cas}).",
                parent_smiles,
                1.0,
            )
        near, sim = self.nearest(mol)
        near_txt = f"nearest listed substance {near.name} (Tanimoto {sim:.2f})" if near else ""
        rule = self._scaffold_rule(mol)
        if rule is not None and near is not None:
            return StructureResult(
                "analogue",
                near,
                round(70.0 + 25.0 * sim, 1),
                "scaffold",
                f"Structure from {source} ({parent_smiles}) contains {rule}; {near_txt}.",
                parent_smiles,
                round(sim, 3),
            )
        if near is not None and sim >= similarity_min:
            return StructureResult(
                "analogue",
                near,
                round(100.0 * sim, 1),
                "similarity",
                f"Structure from {source} ({parent_smiles}) is similar to a listed substance: "
                f"{near_txt}, at or above the {similarity_min:.2f} threshold.",
                parent_smiles,
                round(sim, 3),
            )
        return StructureResult(
            "clear",
            None,
            round(100.0 * sim * 0.5, 1),
            "structure",
            f"Structure from {source} ({parent_smiles}) has no listed precursor core; "
            f"{near_txt or 'no listed substance is similar'}, below the "
            f"{similarity_min:.2f} threshold.",
            parent_smiles,
            round(sim, 3),
        )

    @staticmethod
    def _scaffold_rule(mol: Chem.Mol) -> str | None:
        """The designer-precursor rule the structure meets, as a phrase, or None."""
        if mol.HasSubstructMatch(_ANILINOPIPERIDINE):
            # Every 4-anilinopiperidine is fentanyl-related: N-protected 4-APs, amides and
            # carbamates of 4-AP, ring-substituted ANPPs, norfentanyl homologues, fentanyls.
            return "the 4-anilinopiperidine core of 4-AP/ANPP/norfentanyl"
        for pattern, what in (
            (_PIPERIDONE, "4-piperidone"),
            (_PIPERIDONE_KETAL, "a 4-piperidone acetal/ketal"),
        ):
            for match in mol.GetSubstructMatches(pattern):
                ring = set(match[1:]) if pattern is _PIPERIDONE else {match[1], *match[3:]}
                n_idx = match[4] if pattern is _PIPERIDONE else match[5]
                kind = _n_substituent(mol, n_idx, ring)
                if kind is not None:
                    return f"the core of {what} with a removable N-substituent ({kind})"
        return None


def fentanyl_stem_nearest(index: StructureIndex) -> tuple[Substance | None, float]:
    """The listed substance nearest to fentanyl itself (used for fentanyl-stem names)."""
    mol = parent_of(_FENTANYL_STEM_SMILES)
    assert mol is not None
    return index.nearest(mol)


_SYSTEMATIC_RE = re.compile(
    r"(?:yl|ane|ene|ine|one|ol|amide|amine|ate|ide|oxy|oxo|carbox|spiro|ketal|acetal|anilin|"
    r"piperid|azin|oxim|ium)\b|[0-9],[0-9]|[0-9]-[a-z]|\(|\["
)
# Every listed precursor and every designer pattern has a piperidine ring; a systematic name
# that names none (no piperid-, pyrid-, azin-, aza-...) cannot be one, so it is not parsed.
_RING_WORDS_RE = re.compile(r"piperid|pyrid|azin|aza|nipecot|anilin")
_SMILES_RE = re.compile(r"^[A-Za-z0-9@+\-\[\]()=#$/\\%.:*]+$")
_SMILES_HINT_RE = re.compile(r"[()=#\[\]]|[A-Za-z][1-9]")

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
_OFF = "structure layer switched off in the settings"


def looks_systematic(text: str) -> bool:
    """True when (lower-case) text has the endings or punctuation of a systematic name."""
    return _SYSTEMATIC_RE.search(text) is not None


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


def _opsin_inputs(unit: Unit, ring_filter: bool) -> list[str]:
    """The spellings of a unit worth parsing: the whole (expanded) text, then its longest tokens."""
    if not unit.cleaned or not unit.cleaned.isascii() or len(unit.cleaned) > 300:
        return []
    base = _expand(unit.cleaned)
    low = base.lower()
    if not looks_systematic(low):
        return []
    if ring_filter and not _RING_WORDS_RE.search(low):
        unit.no_ring_word = True
        return []
    out = [base]
    if len(unit.toks) > 1:
        for tok in sorted(unit.toks, key=len, reverse=True)[:3]:
            exp = _expand(tok)
            if len(exp) >= 8 and exp != base and looks_systematic(exp.lower()):
                out.append(exp)
    return out


def _apply(unit: Unit, res: StructureResult) -> None:
    unit.smiles, unit.similarity = res.smiles, res.similarity
    if res.verdict == "clear" and res.method == "none":
        return
    unit.decide(res.verdict, res.substance, res.score, res.method, res.explanation)


def _smiles_unit(unit: Unit, index: StructureIndex, similarity_min: float) -> bool:
    """Classify a unit written as SMILES; False when it is not one."""
    if not _looks_smiles(unit.cleaned):
        return False
    mol = Chem.MolFromSmiles(unit.cleaned)
    if mol is None or mol.GetNumHeavyAtoms() < 4:
        return False
    unit.structure_tried = True
    _apply(unit, index.classify(unit.cleaned, similarity_min, source="SMILES"))
    return True


def layer_structure(units: list[Unit], index: StructureIndex, cfg: ScreenConfig) -> None:
    """Parse what looks systematic with OPSIN (one batch) and classify each structure."""
    pending: list[tuple[Unit, list[str]]] = []
    for unit in units:
        if _smiles_unit(unit, index, cfg.similarity_min):
            continue
        inputs = _opsin_inputs(unit, index.all_piperidines) if cfg.structure else []
        if not cfg.structure and looks_systematic(unit.cleaned.lower()):
            unit.structure_down = _OFF
        if inputs:
            pending.append((unit, inputs))
    if not pending:
        return
    names = list(dict.fromkeys(n for _, inputs in pending for n in inputs))
    cache: dict[str, StructureResult] = {}

    def classify(_name: str, smi: str | None) -> None:
        # Runs while OPSIN is still parsing later names (streamed results).
        if smi and smi not in cache:
            cache[smi] = index.classify(smi, cfg.similarity_min)

    try:
        got = opsin_to_smiles(names, timeout=cfg.opsin_timeout_s, on_result=classify)
    except OpsinError as exc:
        for unit, _ in pending:
            unit.structure_down = str(exc)
        return
    parsed = dict(zip(names, got, strict=True))
    for unit, inputs in pending:
        unit.structure_tried = True
        for name in inputs:
            smi = parsed.get(name)
            if not smi:
                continue
            if smi not in cache:
                cache[smi] = index.classify(smi, cfg.similarity_min)
            _apply(unit, cache[smi])
            if unit.decision is not None:
                break
