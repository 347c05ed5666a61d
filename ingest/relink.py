"""Party-to-facility links: the index of declared facilities, re-deciding every party's link
after a facilities load, and recording the parties left ambiguous."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from ingest.link import LinkConfig, LinkIndex
from ingest.normalise import normalise_company
from registry.models import AmbiguousLink, Facility, Party, ShipmentRecord

__all__ = ["load_link_index", "relink_shipments", "store_ambiguous"]


def load_link_index(conn: Connection, config: LinkConfig | None = None) -> LinkIndex:
    """The declared facilities, by country, ready to link shipment parties to."""
    rows = conn.execute(
        select(Facility.facility_id, Facility.name, Facility.name_norm, Facility.country)
    ).all()
    # Norms recomputed from the names: a registry loaded by an older release links the same way.
    facilities = [(fid, name, normalise_company(name) or norm, c) for fid, name, norm, c in rows]
    return LinkIndex(facilities, config or LinkConfig())


def relink_shipments(conn: Connection, batch_id: int, link_config: LinkConfig | None = None) -> int:
    """Re-decide the facility link of every shipment party after the facilities changed.

    Links live on the parties table: one UPDATE per distinct (normalised name, country) whose
    link changes, whatever the number of shipments naming it. Parties left ambiguous are
    recorded under `batch_id`, per role, with their shipment counts. Returns the number of
    (normalised name, country) pairs whose link changed."""
    index = load_link_index(conn, link_config)
    rows = conn.execute(
        select(
            Party.name_norm,
            Party.country,
            Party.facility_id,
            Party.link_score,
            Party.link_method,
            Party.id,
            Party.name,
        ).order_by(Party.id)
    ).all()
    if not rows:
        return 0
    decided = index.link_many(sorted({(r[0], r[1]) for r in rows}))
    todo: dict[tuple[str, str], dict[str, Any]] = {}
    ambiguous_ids: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for norm, country, fid, score, method, pid, name in rows:
        link = decided[(norm, country)]
        if link.ambiguous:
            ambiguous_ids.setdefault((norm, country), []).append((pid, name))
        if (fid, score, method) != (link.facility_id, link.score, link.method):
            todo[(norm, country)] = {
                "fid": link.facility_id,
                "score": link.score,
                "method": link.method,
                "norm": norm,
                "country": country,
            }
    if todo:
        conn.execute(
            text(
                "UPDATE parties SET facility_id=:fid, link_score=:score, link_method=:method "
                "WHERE name_norm=:norm AND country=:country"
            ),
            list(todo.values()),
        )
    # Shipments per ambiguous party and role: one grouped count per role.
    owner = {pid: key for key, parties in ambiguous_ids.items() for pid, _ in parties}
    ambiguous: dict[tuple[str, str, str], dict[str, Any]] = {}
    for role in ("exporter", "importer") if owner else ():
        col = getattr(ShipmentRecord, f"{role}_party_id")
        counts = conn.execute(
            select(col, func.count()).where(col.in_(list(owner))).group_by(col)
        ).all()
        for pid, n in sorted(counts, key=lambda r: owner[r[0]]):
            norm, country = owner[pid]
            entry = ambiguous.setdefault(
                (role, norm, country),
                {
                    "party": min(name for _, name in ambiguous_ids[(norm, country)]),
                    "candidates": list(decided[(norm, country)].candidates),
                    "count": 0,
                },
            )
            entry["count"] += int(n)
    store_ambiguous(conn, batch_id, ambiguous)
    return len(todo)


def store_ambiguous(
    conn: Connection, batch_id: int, ambiguous: dict[tuple[str, str, str], dict[str, Any]]
) -> int:
    """Record the parties left unlinked because several facilities matched them equally well
    ((role, norm, country) -> party, candidates, shipment count); empties `ambiguous`."""
    if not ambiguous:
        return 0
    rows = [
        {
            "batch_id": batch_id,
            "role": role,
            "party": entry["party"],
            "party_norm": norm,
            "country": country,
            "candidates": entry["candidates"],
            "shipment_count": entry["count"],
        }
        for (role, norm, country), entry in ambiguous.items()
    ]
    conn.execute(insert(AmbiguousLink), rows)
    ambiguous.clear()
    return len(rows)
