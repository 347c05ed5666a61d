"""Numbers as feeds write them: either decimal separator, thousands groups, coordinates."""

from __future__ import annotations

import polars as pl

__all__ = ["number_style_evidence", "read_coordinate", "read_number"]

_COMMA_DECIMAL = r"^[-+]?(\d{1,3}(\.\d{3})+,\d+|\d+,(\d{1,2}|\d{4,}))$"  # 1.234,5  12,5
_DOT_DECIMAL = r"^[-+]?(\d{1,3}(,\d{3})+\.\d+|\d+\.(\d{1,2}|\d{4,}))$"  # 1,234.5  12.5


def number_style_evidence(values: pl.Series) -> set[str]:
    """Which decimal separator the numbers among `values` prove: 'comma' (1.234,5 or 12,5),
    'dot' (1,234.5 or 12.5); both when the column mixes them, none when no number decides."""
    s = values.drop_nulls().str.replace_all(r"[\s_'’]", "")
    found = set()
    if s.str.contains(_COMMA_DECIMAL).any():
        found.add("comma")
    if s.str.contains(_DOT_DECIMAL).any():
        found.add("dot")
    return found


def read_coordinate(expr: pl.Expr) -> pl.Expr:
    """A latitude or longitude: never grouped in thousands, so a lone comma is the decimal."""
    s = expr.str.strip_chars()
    s = (
        pl.when(s.str.count_matches(",") == 1)
        .then(s.str.replace(",", ".", literal=True))
        .otherwise(s)
    )
    ok = s.str.contains(r"^[-+]?(\d+\.?\d*|\.\d+)$")
    return pl.when(ok).then(s.cast(pl.Float64, strict=False)).otherwise(None)


def read_number(expr: pl.Expr, decimal_comma: bool | None) -> pl.Expr:
    """A number written with either decimal separator. With both separators the last one is
    the decimal one (1.234,5 and 1,234.5 are both 1234.5); repeated groups of three are
    thousands (1.234.567); one separator followed by other than three digits is the decimal
    one (12,5). Only "1,234" / "1.234" depend on the feed's style: `decimal_comma` (the
    profile's option, or what the feed's other numbers prove), else a dot is the decimal."""
    s = expr.str.replace_all(r"[\s_'’]", "")
    sign = r"^[-+]?"
    comma_is_decimal = bool(decimal_comma)
    s = (
        pl.when(s.str.contains(sign + r"\d{1,3}(\.\d{3})+,\d+$"))
        .then(s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(s.str.contains(sign + r"\d{1,3}(,\d{3})+\.\d+$"))
        .then(s.str.replace_all(",", "", literal=True))
        .when(s.str.contains(sign + r"\d{1,3}(\.\d{3}){2,}$"))
        .then(s.str.replace_all(".", "", literal=True))
        .when(s.str.contains(sign + r"\d{1,3}(,\d{3}){2,}$"))
        .then(s.str.replace_all(",", "", literal=True))
        .when(s.str.contains(sign + r"\d{1,3}\.\d{3}$"))
        .then(s.str.replace(".", "", literal=True) if comma_is_decimal else s)
        .when(s.str.contains(sign + r"\d{1,3},\d{3}$"))
        .then(
            s.str.replace(",", ".", literal=True)
            if comma_is_decimal
            else s.str.replace(",", "", literal=True)
        )
        .otherwise(s.str.replace(",", ".", literal=True))
    )
    # Only plain decimal notation counts: no "nan", "inf" or hex.
    ok = s.str.contains(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
    return pl.when(ok).then(s.cast(pl.Float64, strict=False)).otherwise(None)
