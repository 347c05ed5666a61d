"""What a load or a check of a file says: its counts, each quarantine reason and kind of
finding in words with its rows, the columns it read by their usual names and those it did
not load."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.profile import (
    Profile,
    canonical_key,
    declared_header_factor,
    header_currency,
    header_unit,
)
from ingest.readers import SourceFile
from ingest.reasons import ReasonCount, Tally
from ingest.transform import Context

__all__ = ["LoadReport", "new_report", "unused_columns"]


@dataclass
class LoadReport:
    """What a load did. status: 'loaded' or 'already_loaded' (same file hash seen before)."""

    batch_id: int | None
    kind: str
    status: str
    file_name: str
    file_hash: str
    source: str
    rows_total: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    rows_updated: int = 0  # facilities: declarations that replaced an earlier one
    findings: int = 0
    linked: int = (
        0  # shipments: parties linked to a declared facility; facilities: relinked parties
    )
    ambiguous: int = 0
    # Each reason rows were quarantined for, and each kind of data-quality finding, in words
    # with their row counts and first rows (most rows first).
    quarantine_reasons: list[ReasonCount] = field(default_factory=list)
    finding_kinds: list[ReasonCount] = field(default_factory=list)
    seconds: float = 0.0
    # Without a profile: columns taken by a usual header name ("Consignee" -> importer), and
    # the file's columns that feed no canonical field (not loaded).
    mapped_by_synonym: dict[str, str] = field(default_factory=dict)
    unused_columns: list[str] = field(default_factory=list)
    examples: list[tuple[int, list[str]]] = field(default_factory=list)  # check: first bad rows
    warnings: list[str] = field(default_factory=list)  # how the file was read (a guessed charset)
    # What the load did to some loaded rows without stopping them (message -> rows), e.g.
    # values kept without a US-dollar amount.
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def top_reasons(self) -> list[tuple[str, int]]:
        """The five commonest quarantine reasons, (heading, rows)."""
        return [(c.heading, c.rows) for c in self.quarantine_reasons[:5]]

    def details(self) -> list[str]:
        """The summary's lines after its first: each quarantine reason and kind of finding in
        words with its rows, then what happened to some loaded rows."""
        lines = [c.sentence("quarantined") for c in self.quarantine_reasons]
        lines += [c.sentence("with a data-quality finding") for c in self.finding_kinds]
        lines += [f"{n:,} {'row' if n == 1 else 'rows'}: {note}" for note, n in self.notes.items()]
        return lines

    def tally(self, quarantine: Tally, findings: Tally) -> None:
        self.quarantine_reasons = quarantine.ranked()
        self.finding_kinds = findings.ranked()

    def add_notes(self, notes: dict[str, int]) -> None:
        for message, n in notes.items():
            self.notes[message] = self.notes.get(message, 0) + n

    def summary(self) -> str:
        if self.status == "checked":
            return (
                f"{self.file_name} checked, nothing written ({self.kind}, source "
                f"{self.source!r}): {self.rows_loaded} would load, {self.rows_quarantined} "
                f"would be quarantined of {self.rows_total} rows in {self.seconds:.1f} s"
            )
        if self.status == "already_loaded":
            return (
                f"{self.file_name} was already loaded as batch {self.batch_id} "
                f"({self.rows_loaded} loaded, {self.rows_duplicate} duplicate, "
                f"{self.rows_quarantined} quarantined); nothing to do"
            )
        # A facilities file declaring a key twice is revising it: the later row is in force.
        repeated = "replaced by a later row" if self.kind == "facilities" else "duplicate"
        return (
            f"batch {self.batch_id} ({self.kind}, source {self.source!r}): "
            f"{self.rows_loaded} loaded, {self.rows_duplicate} {repeated}, "
            f"{self.rows_quarantined} quarantined of {self.rows_total} rows"
            f" in {self.seconds:.1f} s"
        )


def unused_columns(src: SourceFile, mapping: dict[str, str]) -> list[str]:
    """The file's columns that feed no canonical field (not loaded)."""
    used = set(mapping.values())
    return [c for c in src.columns if c not in used]


def new_report(
    status: str,
    src: SourceFile,
    ctx: Context,
    prof: Profile | None,
    mapping: dict[str, str],
    path: Path,
) -> LoadReport:
    """An empty report of a load or a check, with the columns it read and did not read."""
    profiled = set(prof.columns) if prof else set()
    synonyms = {
        col: canon
        for canon, col in mapping.items()
        if canon not in profiled and canonical_key(col) != canonical_key(canon)
    }
    unit = header_unit(mapping, ctx.kind)
    if unit and not (prof and prof.options.get("default_unit")):
        synonyms[mapping["quantity"]] = f"quantity (unit {unit} from the header)"
    currency = header_currency(mapping, ctx.kind)
    if currency:
        synonyms[mapping["value"]] = f"value (currency {currency} from the header)"
    factor = declared_header_factor(mapping.get("declared_annual_kg", ""))
    if ctx.kind == "facilities" and factor and factor != 1.0:
        synonyms[mapping["declared_annual_kg"]] = (
            f"declared_annual_kg (x {factor:g} to kg, by the unit in its header)"
        )
    return LoadReport(
        batch_id=None,
        kind=ctx.kind,
        status=status,
        file_name=path.name,
        file_hash=src.file_hash,
        source=ctx.source,
        mapped_by_synonym=synonyms,
        unused_columns=unused_columns(src, mapping),
        warnings=list(src.warnings),
    )
