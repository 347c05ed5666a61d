"""Party-name normalisation as a polars expression: case, punctuation and legal forms removed."""

from __future__ import annotations

import polars as pl

__all__ = ["LEGAL_FORMS", "normalise_party"]

# Legal-form tokens that differ between feeds for the same company; removed before matching.
LEGAL_FORMS = (
    "CO",
    "LTD",
    "LIMITED",
    "COMPANY",
    "CORP",
    "CORPORATION",
    "INC",
    "INCORPORATED",
    "LLC",
    "GMBH",
    "AG",
    "KG",
    "SA",
    "SAS",
    "SARL",
    "SRL",
    "SPA",
    "BV",
    "NV",
    "PVT",
    "PRIVATE",
    "PLC",
    "LTDA",
    "DE",
    "CV",
    "AB",
    "OY",
    "KK",
)

_LEGAL_RE = r"\b(" + "|".join(LEGAL_FORMS) + r")\b"


def normalise_party(col: str | pl.Expr) -> pl.Expr:
    """Upper-case, strip accents-free punctuation and legal forms, collapse spaces."""
    e = pl.col(col) if isinstance(col, str) else col
    return (
        e.str.to_uppercase()
        # Dots go without a space so "S.A." -> "SA", "G.m.b.H." -> "GMBH".
        .str.replace_all(r"\.", "")
        .str.replace_all(r"[,'`()&/\\-]", " ")
        .str.replace_all(_LEGAL_RE, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
