"""Load the watchlist data file (and keep promoted analogues) in the registry."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from detection.screening.watchlist import Substance, load_watchlist
from registry.models import SubstanceForm, SubstanceName, SubstanceRow

__all__ = ["inchikey_of", "name_norm", "registry_substances", "sync_watchlist"]


def name_norm(name: str) -> str:
    """Case- and space-folded name, the key of a name form."""
    return " ".join(name.casefold().split())[:500]


def inchikey_of(smiles: str | None) -> str | None:
    """InChIKey of a SMILES string, or None when RDKit cannot parse it."""
    if not smiles:
        return None
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToInchiKey(mol) if mol is not None else None


def sync_watchlist(session: Session, substances: list[Substance] | None = None) -> int:
    """Insert or refresh every watchlist substance, its names and forms. Returns the count.

    Substances promoted from early warning (origin 'promoted') are left as they are.
    """
    subs = substances if substances is not None else load_watchlist()
    existing = {s.cas: s for s in session.scalars(select(SubstanceRow))}
    for sub in subs:
        row = existing.get(sub.cas)
        if row is None:
            row = SubstanceRow(cas=sub.cas)
            session.add(row)
        row.name = sub.name
        row.preferred_name = sub.preferred_name
        row.systematic_name = sub.systematic_name
        row.smiles = sub.smiles
        row.inchikey = inchikey_of(sub.smiles)
        row.hs_codes = list(sub.hs_codes)
        row.instrument = sub.instrument
        row.listed_on = sub.listed_on
        row.source = sub.source
        row.origin = "watchlist"
        # Replace names and forms wholesale; delete first so unique keys never collide.
        session.execute(delete(SubstanceName).where(SubstanceName.substance_cas == sub.cas))
        session.execute(delete(SubstanceForm).where(SubstanceForm.substance_cas == sub.cas))
        if sub.cas in existing:
            session.expire(row, ["names", "forms"])
        seen: dict[str, SubstanceName] = {}
        for name, kind in sub.all_names():
            key = name_norm(name)
            if key and key not in seen:
                seen[key] = SubstanceName(
                    name=name,
                    name_norm=key,
                    kind=kind,
                    ambiguous=kind == "ambiguous_abbreviation",
                )
        session.flush()
        for name_row in seen.values():
            name_row.substance_cas = sub.cas
            session.add(name_row)
        forms_by_cas = {f.cas: f for f in reversed(sub.forms)}  # one row per CAS, first name wins
        for f in forms_by_cas.values():
            session.add(
                SubstanceForm(
                    substance_cas=sub.cas, cas=f.cas, name=f.name, form=f.form, smiles=f.smiles
                )
            )
        session.flush()
    return len(subs)


def registry_substances(session: Session) -> list[Substance]:
    """Substances promoted in this registry (not in the data file), as screening records."""
    rows = session.scalars(select(SubstanceRow).where(SubstanceRow.origin == "promoted"))
    return [
        Substance(
            cas=r.cas,
            name=r.name,
            preferred_name=r.preferred_name,
            systematic_name=r.systematic_name,
            smiles=r.smiles or "",
            hs_codes=tuple(r.hs_codes or ()),
            instrument=r.instrument,
            listed_on=r.listed_on,
            source=r.source,
            synonyms=tuple(n.name for n in r.names if n.kind == "synonym"),
        )
        for r in rows
    ]
