"""Structure layer: names to structures with OPSIN (one JVM per batch), compared with RDKit.

A parsed structure is reduced to its parent (largest organic fragment, neutralised, a
gem-diol read as the ketone it is the hydrate of) and then:
- the same parent as a listed (or promoted) substance is that substance;
- a parent containing a listed precursor's core in one of the masked forms that one easy
  step turns into a listed precursor (rules below, from DOMAIN.md's designer-precursor
  patterns) is an analogue;
- otherwise high fingerprint similarity to a listed substance is an analogue.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.MolStandardize import rdMolStandardize

from detection.screening.watchlist import Substance

__all__ = [
    "OpsinError",
    "StructureIndex",
    "StructureResult",
    "opsin_to_smiles",
    "parent_of",
    "structure_layer_status",
]

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]

_OPSIN_JAR = "opsin-cli-2.9.0-jar-with-dependencies.jar"
# A short-lived batch JVM: the C1 compiler only and the serial collector start fastest and
# roughly halve CPU per batch against the default tiered/G1 setup.
_JVM_FLAGS = (
    "-Xss4m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Djava.awt.headless=true",
)


class OpsinError(RuntimeError):
    """OPSIN could not be run (no Java, timeout, crash)."""


def _jar_path() -> Path | None:
    env = os.environ.get("PWATCH_OPSIN_JAR")
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        p = Path(str(resources.files("py2opsin") / _OPSIN_JAR))
    except (ModuleNotFoundError, TypeError):
        return None
    return p if p.is_file() else None


def _java() -> str | None:
    return shutil.which(os.environ.get("PWATCH_JAVA", "java"))


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[bool, str]:
    java, jar = _java(), _jar_path()
    if java is None:
        return False, "structure layer unavailable: Java (java) is not installed or not on PATH"
    if jar is None:
        return False, "structure layer unavailable: the OPSIN jar (py2opsin) was not found"
    try:
        out = _run_opsin(["piperidin-4-one"], java, jar, timeout=60.0)
    except OpsinError as exc:
        return False, f"structure layer unavailable: {exc}"
    if not out or not out[0]:
        return False, "structure layer unavailable: OPSIN did not parse its self-test name"
    return True, "structure layer available: OPSIN 2.9.0 on Java, RDKit"


def structure_layer_status() -> tuple[bool, str]:
    """Whether names can be parsed to structures here, and a sentence saying why (not)."""
    return _probe()


def _run_opsin(
    names: Sequence[str],
    java: str,
    jar: Path,
    timeout: float,
    on_result: Callable[[int, str | None], None] | None = None,
) -> list[str | None]:
    """One JVM for the whole batch; results are streamed to `on_result` as OPSIN emits them,
    so the caller's RDKit work overlaps OPSIN's parsing (two cores)."""
    try:
        proc = subprocess.Popen(
            [java, *_JVM_FLAGS, "-jar", str(jar), "-osmi"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise OpsinError(f"OPSIN could not start ({exc})") from exc
    assert proc.stdin is not None and proc.stdout is not None
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout, _kill)
    watchdog.daemon = True
    payload = "".join(n + "\n" for n in names).encode("utf-8")

    def _feed() -> None:
        try:
            assert proc.stdin is not None
            proc.stdin.write(payload)
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    writer = threading.Thread(target=_feed, daemon=True)
    out: list[str | None] = []
    watchdog.start()
    writer.start()
    try:
        for raw in proc.stdout:
            if len(out) >= len(names):
                break
            smi = raw.decode("utf-8", errors="replace").strip() or None
            if on_result is not None:
                on_result(len(out), smi)
            out.append(smi)
        proc.stdout.close()
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        writer.join(timeout=1.0)
    if timed_out.is_set():
        raise OpsinError(f"OPSIN timed out after {timeout:.0f} s")
    if code != 0:
        raise OpsinError(f"OPSIN exited with status {code}")
    if len(out) < len(names):
        raise OpsinError(f"OPSIN returned {len(out)} results for {len(names)} names")
    return out


def opsin_to_smiles(
    names: Sequence[str],
    *,
    timeout: float | None = None,
    chunk: int = 50000,
    on_result: Callable[[str, str | None], None] | None = None,
) -> list[str | None]:
    """SMILES for each name (None where OPSIN cannot parse it); one JVM call per chunk.

    Raises OpsinError when the structure layer is unavailable or OPSIN fails or times out.
    """
    ok, why = structure_layer_status()
    if not ok:
        raise OpsinError(why)
    java, jar = _java(), _jar_path()
    assert java is not None and jar is not None
    todo = list(dict.fromkeys(n for n in names if n not in _OPSIN_CACHE))
    for start in range(0, len(todo), chunk):
        part = [n.replace("\n", " ").replace("\r", " ") for n in todo[start : start + chunk]]
        limit = timeout if timeout is not None else 30.0 + 0.01 * len(part)
        todo_part = todo[start : start + chunk]
        cb = None
        if on_result is not None:

            def cb(
                i: int,
                smi: str | None,
                _names: list[str] = todo_part,
                _fn: Callable[[str, str | None], None] = on_result,
            ) -> None:
                _fn(_names[i], smi)

        got = _run_opsin(part, java, jar, timeout=limit, on_result=cb)
        if len(_OPSIN_CACHE) + len(part) > _OPSIN_CACHE_MAX:
            _OPSIN_CACHE.clear()
        _OPSIN_CACHE.update(zip(todo[start : start + chunk], got, strict=True))
    return [_OPSIN_CACHE.get(n) for n in names]


# Parsed names are remembered for the process: feeds and repeated screens see the same
# descriptions again, and each OPSIN batch costs a JVM start.
_OPSIN_CACHE: dict[str, str | None] = {}
_OPSIN_CACHE_MAX = 200_000


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

    def __init__(self, substances: Sequence[Substance], *, similarity_min: float = 0.80):
        self.similarity_min = similarity_min
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

    def classify(self, smiles: str, *, source: str = "OPSIN") -> StructureResult:
        """Compare one structure (as SMILES) with the listed substances."""
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
        if near is not None and sim >= self.similarity_min:
            return StructureResult(
                "analogue",
                near,
                round(100.0 * sim, 1),
                "similarity",
                f"Structure from {source} ({parent_smiles}) is similar to a listed substance: "
                f"{near_txt}, at or above the {self.similarity_min:.2f} threshold.",
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
            f"{self.similarity_min:.2f} threshold.",
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
