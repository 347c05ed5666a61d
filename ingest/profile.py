"""Mapping profiles (TOML): which source column feeds each canonical field, and read options."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.fields import HEADER_SYNONYMS, KINDS, VALUE_HEADERS, fields_of

__all__ = ["Profile", "ProfileError", "canonical_key", "read_profile", "resolve_mapping"]

_OPTIONS = {
    "date_format": str,
    "delimiter": str,
    "encoding": str,
    "default_unit": str,
    "default_currency": str,
    "sheet": (str, int),
    "source": str,
    "decimal_comma": bool,
}


class ProfileError(ValueError):
    """A profile or a file's columns cannot be used; the message says what to fix, in one line."""


@dataclass
class Profile:
    """A parsed mapping profile. `columns` maps canonical field -> source column."""

    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    densities: dict[str, float] = field(default_factory=dict)  # substance name or CAS -> kg/L
    path: str = "profile.toml"  # named in error messages
    stem: str | None = None  # file stem of the profile, None for inline text

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "columns": dict(self.columns),
            "options": dict(self.options),
            "densities": dict(self.densities),
            "path": self.path,
        }


def canonical_key(name: str) -> str:
    """Column-name key that ignores case, spaces, underscores, dashes and dots."""
    return re.sub(r"[\s_\-.]+", "", name.strip().lstrip("\ufeff")).casefold()


def plain_key(name: str) -> str:
    """canonical_key without accents and apostrophes ("País de destino", "Date d'expédition"),
    for matching the usual header names of the feeds."""
    key = unicodedata.normalize("NFKD", canonical_key(name))
    return "".join(c for c in key if not unicodedata.combining(c) and c not in "'’")


# Header words of a quantity column that names its unit ("Net Weight (kg)", "Qty_KG",
# "Quantity in tonnes", "KGS"): net measures only, never gross weight.
_QUANTITY_WORDS = frozenset(
    {"", "quantity", "qty", "netquantity", "netqty", "netweight", "netwt", "weight", "wt",
     "netmass", "mass", "quantityin", "netweightin", "weightin", "qtyin", "cantidad",
     "cantidadneta", "pesoneto", "quantidade", "pesoliquido", "quantite", "poidsnet",
     "menge", "nettogewicht", "nettomasse", "nettomenge"}
)  # fmt: skip


# ... and of a facility's declared annual quantity ("Declared Quantity (t/year)").
_DECLARED_WORDS = frozenset(
    {"declared", "annual", "declaredannual", "declaredquantity", "annualquantity",
     "declaredannualquantity", "quantityperyear", "annualamount", "declaredamount",
     "declaredannualamount", "quantitydeclared", "annualquantitydeclared",
     "cantidaddeclarada", "cantidadanual", "cantidadanualdeclarada", "quantidadedeclarada",
     "quantidadeanual", "quantitedeclaree", "quantiteannuelle", "jahresmenge",
     "angemeldetemenge", "deklariertemenge"}
)  # fmt: skip
_PER_YEAR = re.compile(r"\s*(/\s*(year|yr|y|a|annum)|per\s+(year|annum)|p\.?\s*a\.?)\s*$", re.I)


def declared_header_factor(header: str) -> float | None:
    """Factor to kg of a declared-quantity column whose header names a mass unit
    ("Declared Quantity (t/year)" -> 1000.0), or None."""
    from ingest.normalise import unit_factor

    unit = quantity_header_unit(header, _DECLARED_WORDS, per_year=True)
    found = unit_factor(_PER_YEAR.sub("", unit)) if unit else None
    return found[1] if found and found[0] == "mass" else None


def quantity_header_unit(
    header: str, words: frozenset[str] = _QUANTITY_WORDS, *, per_year: bool = False
) -> str | None:
    """The unit a quantity column's header names ("Net Weight (kg)" -> "kg"), or None when
    the header is not a net quantity (one of `words`) with a known unit."""
    from ingest.normalise import unit_factor

    h = header.strip().lstrip("\ufeff")
    m = re.fullmatch(r"(.*?)\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]\s*", h)
    if m:
        rest, unit = m.group(1), m.group(2)
    else:
        parts = re.split(r"[\s_\-./]+", h)
        rest, unit = " ".join(parts[:-1]), parts[-1]
    if plain_key(rest) not in words or not unit:
        return None
    bare = _PER_YEAR.sub("", unit) if per_year else unit
    return unit if bare and unit_factor(bare) is not None else None


# Stems of a value header that names its currency: the value headers, and bare Incoterms.
_VALUE_STEMS = frozenset(VALUE_HEADERS) | {"fob", "cif", "caf", "valuein", "valueusd"}


def value_header_currency(header: str) -> str | None:
    """ISO 4217 code of the currency a value column's header names ("Value (USD)", "FOB USD",
    "USD value", "Valor FOB (US$)", "Zollwert in EUR" -> USD, USD, USD, USD, EUR), or None."""
    from ingest.currency import normalise_currency

    h = header.strip().lstrip("\ufeff")
    m = re.fullmatch(r"(.*?)\s*[(\[]\s*([^()\[\]]+?)\s*[)\]]\s*", h)
    if m:
        readings = [(m.group(1), m.group(2))]
    else:
        parts = [p for p in re.split(r"[\s_\-./:]+", h) if p]
        if len(parts) < 2:
            return None
        readings = [(" ".join(parts[:-1]), parts[-1]), (" ".join(parts[1:]), parts[0])]
    for rest, cur in readings:
        stem = re.sub(r"(in|en|em)$", "", plain_key(rest))
        code = (
            normalise_currency(cur)
            if stem in _VALUE_STEMS or plain_key(rest) in _VALUE_STEMS
            else None
        )
        if code:
            return code
    return None


def header_currency(mapping: dict[str, str], kind: str) -> str | None:
    """The currency every value of a shipment feed takes from its value column's header, when
    no column gives the currency ("Value (USD)" -> "USD"); None otherwise."""
    if kind != "shipments" or "currency" in mapping or "value" not in mapping:
        return None
    return value_header_currency(mapping["value"])


def header_unit(mapping: dict[str, str], kind: str) -> str | None:
    """The unit every row of a shipment feed takes from its quantity column's header, when no
    column gives the unit ("Net Weight (kg)" -> "kg"); None otherwise."""
    if kind != "shipments" or "unit" in mapping or "quantity" not in mapping:
        return None
    return quantity_header_unit(mapping["quantity"])


def read_profile(source: str | Path) -> Profile:
    """Parse a profile from a path or from TOML text; one-line ProfileError when it is invalid."""
    path_name = "profile.toml"
    stem = None
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith(".toml")
    ):
        p = Path(source)
        if not p.is_file():
            raise ProfileError(f"profile {p} not found")
        text = p.read_text(encoding="utf-8-sig")
        path_name, stem = str(p), p.stem
    else:
        text = str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {path_name} is not valid TOML: {exc}") from exc
    kind = data.get("kind")
    if kind is not None and kind not in KINDS:
        raise ProfileError(f'profile {path_name}: kind = "{kind}" is not facilities or shipments')
    unknown = sorted(set(data) - {"kind", "columns", "options", "densities"})
    if unknown:
        raise ProfileError(
            f"profile {path_name}: unknown section or key {unknown[0]!r} "
            "(expected kind, [columns], [options], [densities])"
        )
    columns = data.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise ProfileError(
            f'profile {path_name}: [columns] must map canonical fields to source column names, e.g. quantity = "Net Qty"'
        )
    if kind is not None:
        known = {f.name for f in fields_of(kind)}
        for k in columns:
            if k not in known:
                raise ProfileError(
                    f"profile {path_name}: [columns] names {k!r}, which is not a {kind} field "
                    f"(fields: {', '.join(sorted(known))})"
                )
    seen: dict[str, str] = {}
    for canon, src in columns.items():
        if src in seen:
            raise ProfileError(
                f'profile {path_name}: source column "{src}" is mapped twice '
                f"(to {seen[src]} and {canon}); map each source column once"
            )
        seen[src] = canon
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ProfileError(f"profile {path_name}: [options] must be a table")
    for k, v in options.items():
        if k not in _OPTIONS:
            raise ProfileError(
                f"profile {path_name}: unknown option {k!r} (options: {', '.join(sorted(_OPTIONS))})"
            )
        if not isinstance(v, _OPTIONS[k]):  # type: ignore[arg-type]
            raise ProfileError(f"profile {path_name}: option {k} has the wrong type ({v!r})")
    densities_raw = data.get("densities", {})
    densities: dict[str, float] = {}
    if not isinstance(densities_raw, dict):
        raise ProfileError(f"profile {path_name}: [densities] must map substance to kg per litre")
    for k, v in densities_raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise ProfileError(
                f"profile {path_name}: density of {k!r} must be a positive number of kg per litre"
            )
        densities[k.strip().casefold()] = float(v)
    return Profile(
        kind=kind,
        columns=dict(columns),
        options=dict(options),
        densities=densities,
        path=path_name,
        stem=stem,
    )


def resolve_mapping(
    source_columns: list[str], kind: str, profile: Profile | None
) -> dict[str, str]:
    """Canonical field -> source column, from the profile and then by matching names.

    Raises ProfileError (one line) for a profile of the wrong kind, duplicate source column
    names that a mapping needs, a mapped column absent from the file, or a missing required
    field (naming the profile line to add).
    """
    prof = profile or Profile()
    if prof.kind is not None and prof.kind != kind:
        raise ProfileError(
            f'profile {prof.path} is for {prof.kind}, not {kind}: use a profile with kind = "{kind}"'
        )
    specs = fields_of(kind)
    present = set(source_columns)
    mapping: dict[str, str] = {}
    for canon, src in prof.columns.items():
        if src not in present:
            near = [c for c in source_columns if canonical_key(c) == canonical_key(src)]
            hint = f' (the file has "{near[0]}")' if near else ""
            raise ProfileError(
                f'profile {prof.path} maps {canon} to column "{src}", which is not in the file{hint}'
            )
        mapping[canon] = src
    by_key: dict[str, list[str]] = {}
    for c in source_columns:
        by_key.setdefault(canonical_key(c), []).append(c)
    used = set(mapping.values())
    for spec in specs:
        if spec.name in mapping:
            continue
        cands = [c for c in by_key.get(canonical_key(spec.name), []) if c not in used]
        if len(cands) > 1:
            raise ProfileError(
                f"columns {', '.join(repr(c) for c in cands)} both match {spec.name}: "
                f'name one in the profile ({spec.name} = "<source column>" under [columns])'
            )
        if cands:
            mapping[spec.name] = cands[0]
            used.add(cands[0])

    def take_single(name: str, fits: Callable[[str], object]) -> None:
        """Map `name` to the one unused column that `fits`; none, or several: left unmapped."""
        cands = [c for c in source_columns if c not in used and fits(c)]
        if len(cands) == 1:
            mapping[name] = cands[0]
            used.add(cands[0])

    # Common header names of national feeds ("Consignee", "CAS No.", "UoM"): only for a field
    # still unmapped, and only when exactly one unused column carries such a name.
    synonyms = HEADER_SYNONYMS.get(kind, {})
    for spec in specs:
        if spec.name not in mapping and spec.name in synonyms:
            keys = set(synonyms[spec.name])
            take_single(spec.name, lambda c: plain_key(c) in keys)  # noqa: B023 - called now
    # A quantity column whose header names the unit ("Net Weight (kg)"): the quantity, with
    # that unit for every row, when no column gives the unit.
    if kind == "shipments" and "quantity" not in mapping:
        take_single("quantity", quantity_header_unit)
    if kind == "shipments" and "value" not in mapping:
        take_single("value", value_header_currency)
    if kind == "facilities" and "declared_annual_kg" not in mapping:
        take_single("declared_annual_kg", declared_header_factor)
    default_unit = prof.options.get("default_unit") or header_unit(mapping, kind)
    missing = [
        spec.name
        for spec in specs
        if spec.required and spec.name not in mapping and not (spec.name == "unit" and default_unit)
    ]
    if missing:
        first = missing[0]
        where = f"in {prof.path}" if profile is not None else "in a profile passed with --profile"
        extra = ' (or set default_unit = "kg" under [options])' if first == "unit" else ""
        also = f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""
        raise ProfileError(
            f'missing column for "{first}": add {first} = "<source column>" '
            f"under [columns] {where}{extra}{also}"
        )
    return mapping
