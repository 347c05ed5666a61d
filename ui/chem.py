"""Structure depictions with RDKit, as PNG bytes (shown with st.image, never as HTML)."""

from __future__ import annotations

import io

__all__ = ["depict"]


def depict(smiles: str | None, size: int = 320) -> bytes | None:
    """A PNG drawing of the molecule, or None when there is no parseable structure."""
    if not smiles:
        return None
    try:
        from rdkit import Chem, RDLogger
        from rdkit.Chem import Draw

        RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None
        img = Draw.MolToImage(mol, size=(size, size))
    except Exception:
        return None
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def known_smiles(cas: str | None = None, name: str | None = None) -> str | None:
    """The structure of a special-surveillance substance (designer precursor) by CAS or name."""
    from detection.surveillance import SURVEILLANCE

    want = (name or "").strip().casefold()
    for sub in SURVEILLANCE:
        names = {sub.name, sub.preferred_name, sub.systematic_name, *sub.synonyms}
        if (cas and sub.cas == cas) or (want and want in {n.casefold() for n in names}):
            return sub.smiles
    return None
