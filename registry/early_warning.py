"""Early warning: designer analogues seen in shipments, kept as records a supervisor can promote.

`record_early_warnings` folds screening rows with verdict `analogue` (joined with their
shipments) into one record per normalised name; `promote` puts a record's substance on the
watchlist (origin 'promoted'), after which `promoted_substances` hands it to the screen as
an `extra` substance and the name and its structure screen as `controlled`.

People see one analogue per structure: `early_warning_groups` folds the records of names with
the same InChIKey ("N-ethoxycarbonyl-4-piperidone", "ethyl 4-oxopiperidine-1-carboxylate")
into one, with its consignments counted once; promoting one promotes them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from detection.screening.text import clean_text, compact, sanitize
from detection.screening.watchlist import Substance
from registry.errors import RegistryError
from registry.models import EarlyWarning, SubstanceName, SubstanceRow, User, utcnow
from registry.watchlist import inchikey_of, name_norm, registry_substances

__all__ = [
    "early_warning_groups",
    "name_key",
    "promote",
    "promoted_substances",
    "record_early_warnings",
]

_PARTY_COLS = ("exporter", "importer")
_COUNTRY_COLS = ("exporter_country", "importer_country")


def name_key(name: str) -> str:
    """sha256 of the normalised name: trade, salt and spacing variants share one record."""
    text, _ = sanitize(name)
    key = compact(clean_text(text)[0]) or text.casefold()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _values(frame: pl.DataFrame, cols: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for c in cols:
        if c in frame.columns:
            out.update(str(v) for v in frame[c].drop_nulls().to_list() if str(v).strip())
    return sorted(out)


def _as_date(v: Any) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def record_early_warnings(session: Session, analogue_rows: pl.DataFrame) -> int:
    """Create or refresh one early-warning record per analogue name; returns records touched.

    `analogue_rows`: one row per sighting (shipment) with `name` or `product`; rows whose
    `verdict` is not 'analogue' are ignored when the column is there. Optional columns:
    `smiles`, `substance_cas` (nearest listed), `nearest_similarity`, `explanation`, `date`,
    `quantity_kg`, `shipment_id`, `exporter`, `importer`, `exporter_country`,
    `importer_country`. The frame is taken as every sighting known for those names, so
    counts and totals are replaced, not added (a rerun over the same feed changes nothing);
    dates widen and parties/countries accumulate. Status (promoted, dismissed) is kept.
    """
    frame = analogue_rows
    if "name" not in frame.columns and "product" in frame.columns:
        frame = frame.rename({"product": "name"})
    if "name" not in frame.columns:
        raise ValueError("analogue rows need a 'name' or 'product' column")
    if "verdict" in frame.columns:
        frame = frame.filter(pl.col("verdict") == "analogue")
    frame = frame.filter(pl.col("name").is_not_null() & (pl.col("name").str.strip_chars() != ""))
    if frame.height == 0:
        return 0
    keys = {n: name_key(n) for n in frame["name"].unique().to_list()}
    frame = frame.with_columns(_key=pl.col("name").replace_strict(keys, return_dtype=pl.String))
    existing = {
        ew.name_key: ew
        for ew in session.scalars(
            select(EarlyWarning).where(EarlyWarning.name_key.in_(list(set(keys.values()))))
        )
    }
    touched = 0
    for (key,), group in frame.group_by(["_key"], maintain_order=True):
        first = group.row(0, named=True)
        ew = existing.get(str(key))
        if ew is None:
            ew = EarlyWarning(name_key=str(key), name=str(first["name"])[:2000], status="new")
            session.add(ew)
            existing[str(key)] = ew
        smiles = first.get("smiles")
        if smiles and not ew.smiles:
            ew.smiles = str(smiles)
            ew.inchikey = inchikey_of(ew.smiles)
        if first.get("substance_cas"):
            ew.nearest_cas = str(first["substance_cas"])
        if first.get("nearest_similarity") is not None:
            ew.similarity = float(first["nearest_similarity"])
        if first.get("explanation"):
            ew.explanation = str(first["explanation"])
        raw_dates = group["date"].to_list() if "date" in group.columns else []
        dates = [d for d in (_as_date(v) for v in raw_dates) if d]
        if dates:
            ew.first_seen = min([d for d in (ew.first_seen, min(dates)) if d])
            ew.last_seen = max([d for d in (ew.last_seen, max(dates)) if d])
        if "shipment_id" in group.columns:
            ew.shipment_count = int(group["shipment_id"].n_unique())
        else:
            ew.shipment_count = group.height
        if "quantity_kg" in group.columns:
            ew.total_kg = float(group["quantity_kg"].fill_null(0.0).sum())
        ew.parties = sorted(set(ew.parties or []) | set(_values(group, _PARTY_COLS)))
        ew.countries = sorted(set(ew.countries or []) | set(_values(group, _COUNTRY_COLS)))
        touched += 1
    session.flush()
    return touched


def _resolve_user(session: Session, actor: User | str) -> User:
    if isinstance(actor, User):
        return actor
    from registry.users import get_user

    user = get_user(session, actor)
    if user is None:
        raise RegistryError(f"no account called {actor!r}")
    return user


def promote(session: Session, early_warning_id: int, actor: User | str) -> SubstanceRow:
    """Put an early-warning substance on the watchlist (supervisors only); returns its row.

    The promoted substance gets the identifier EW-<id> (no CAS number is known for most
    designer analogues), its name as a synonym, and its structure; from then on the screen
    reports the name, and any name OPSIN reads as the same structure, as `controlled`.
    The step is written to the tamper-evident audit log.
    """
    from registry.audit import append_event
    from registry.service import require_role

    user = _resolve_user(session, actor)
    require_role(user, "promote_analogue")
    ew = session.get(EarlyWarning, early_warning_id)
    if ew is None:
        raise RegistryError(f"early warning {early_warning_id} does not exist")
    if ew.status == "promoted" and ew.promoted_cas:
        row = session.get(SubstanceRow, ew.promoted_cas)
        if row is not None:
            return row
    cas = f"EW-{ew.id:06d}"
    row = session.get(SubstanceRow, cas)
    if row is None:
        row = SubstanceRow(cas=cas)
        session.add(row)
    display = " ".join(ew.name.split())[:200]
    row.name = display
    row.preferred_name = display
    row.systematic_name = display
    row.smiles = ew.smiles
    row.inchikey = ew.inchikey or inchikey_of(ew.smiles)
    row.hs_codes = ["2933.39"] if ew.nearest_cas else []
    row.instrument = "promoted from early warning"
    row.listed_on = utcnow().date()
    row.source = (
        f"early warning #{ew.id}, promoted by {user.username}; nearest listed substance "
        f"{ew.nearest_cas or 'none'}"
        + (f" (Tanimoto {ew.similarity:.2f})" if ew.similarity is not None else "")
    )
    row.origin = "promoted"
    session.flush()
    norm = name_norm(ew.name)
    if (
        norm
        and not session.scalars(
            select(SubstanceName).where(
                SubstanceName.substance_cas == cas, SubstanceName.name_norm == norm
            )
        ).first()
    ):
        session.add(SubstanceName(substance_cas=cas, name=ew.name, name_norm=norm, kind="synonym"))
    previous = ew.status
    _promote_structure(session, ew, cas, user.username)
    append_event(
        session,
        actor=user.username,
        action="promote_analogue",
        from_status=previous,
        to_status="promoted",
        note=f"early warning #{ew.id} '{display}' promoted to the watchlist as {cas}",
    )
    session.flush()
    session.expire(row, ["names"])
    return row


def _promote_structure(session: Session, ew: EarlyWarning, cas: str, by: str) -> None:
    """One analogue per structure: every record of the same structure is promoted with `ew`,
    its name a synonym of the promoted substance."""
    group = [ew]
    if ew.inchikey:
        group += list(
            session.scalars(
                select(EarlyWarning).where(
                    EarlyWarning.inchikey == ew.inchikey, EarlyWarning.id != ew.id
                )
            )
        )
    known = {
        n
        for (n,) in session.execute(
            select(SubstanceName.name_norm).where(SubstanceName.substance_cas == cas)
        )
    } | {name_norm(ew.name)}
    for other in group[1:]:
        norm = name_norm(other.name)
        if norm and norm not in known:
            session.add(
                SubstanceName(substance_cas=cas, name=other.name, name_norm=norm, kind="synonym")
            )
            known.add(norm)
    for member in group:
        member.status = "promoted"
        member.promoted_cas = cas
        member.promoted_by = by
        member.promoted_at = utcnow()


def promoted_substances(session: Session) -> list[Substance]:
    """Substances promoted from early warning, ready for `screen_names(..., extra=...)`."""
    return registry_substances(session)


def early_warning_groups(session: Session) -> list[dict[str, Any]]:
    """One row per analogue structure (records of the same InChIKey together; a record with no
    structure stands alone): its names, status, structure, nearest listed substance, and the
    consignments seen under any of its names, each counted once."""
    from registry.consignments import consignment_frame, totals
    from registry.models import Shipment
    from registry.queries import SHIPMENT_COLUMNS

    records = list(
        session.scalars(select(EarlyWarning).order_by(EarlyWarning.first_seen, EarlyWarning.id))
    )
    groups: dict[str, list[EarlyWarning]] = {}
    for ew in records:
        groups.setdefault(ew.inchikey or f"name:{ew.name_key}", []).append(ew)
    names = [ew.name for ew in records]
    sightings: list[dict[str, Any]] = []
    cols = [getattr(Shipment, c) for c in SHIPMENT_COLUMNS]
    for i in range(0, len(names), 200):
        stmt = select(*cols).where(Shipment.product.in_(names[i : i + 200]))
        sightings += [dict(r) for r in session.execute(stmt).mappings()]
    out = []
    for members in groups.values():
        first = members[0]
        own = {m.name for m in members}
        seen = [r for r in sightings if r["product"] in own]
        cons = consignment_frame(session, seen)
        promoted = [m for m in members if m.status == "promoted"]
        out.append(
            {
                "id": first.id,
                "ids": [m.id for m in members],
                "names": [m.name for m in members],
                "status": "promoted" if promoted else first.status,
                "promoted_by": promoted[0].promoted_by if promoted else None,
                "promoted_cas": promoted[0].promoted_cas if promoted else None,
                "smiles": next((m.smiles for m in members if m.smiles), None),
                "inchikey": first.inchikey,
                "explanation": next((m.explanation for m in members if m.explanation), None),
                "nearest_cas": first.nearest_cas,
                "similarity": max((m.similarity or 0.0 for m in members), default=0.0) or None,
                "first_seen": min((m.first_seen for m in members if m.first_seen), default=None),
                "last_seen": max((m.last_seen for m in members if m.last_seen), default=None),
                "parties": sorted({p for m in members for p in (m.parties or [])}),
                "countries": sorted({c for m in members for c in (m.countries or [])}),
                "totals": totals(cons),
            }
        )
    return out
