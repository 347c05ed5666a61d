"""Limits of what a feed file may hold before it is read: bounds that keep one hostile file
(a gzip or .xlsx bomb, a JSON of a million keys, a CSV of 100,000 columns) from filling the
disk or the memory. Each limit is refused with one plain line naming the limit."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ReadError", "ReadLimits", "read_limits"]

_MB = 1 << 20


class ReadError(ValueError):
    """A file-level problem (empty, binary, truncated, undecodable, too big); one plain line."""


@dataclass(frozen=True)
class ReadLimits:
    """Per-file bounds of the feed readers, with why each default is what it is."""

    max_uncompressed_bytes: int = field(
        default=4096 * _MB,
        metadata={
            "description": "Largest feed once decompressed (a .gz file) or converted (a JSON "
            "document), in bytes: a 10 MB gzip bomb expands to 10 GB; a real feed of ten "
            "million shipments is about 2 GB. Setting PWATCH_MAX_UNCOMPRESSED_MB."
        },
    )
    max_columns: int = field(
        default=2000,
        metadata={
            "description": "Most columns (fields of the header, keys of JSON records, columns "
            "of a sheet) a feed may have; national feeds have tens, wide registry exports a "
            "few hundred."
        },
    )
    max_sheet_cells: int = field(
        default=10_000_000,
        metadata={
            "description": "Most cells of the sheet read from an .xlsx workbook, counted over "
            "its used rectangle (rows x columns): the sheet is read whole, and one far cell "
            "(XFD20000) in a 1.5 kB file made 327 million cells and 11 GB. Ten million cells "
            "of short text took 1.1 GB; a bigger table travels as CSV."
        },
    )
    max_sheet_bytes: int = field(
        default=1024 * _MB,
        metadata={
            "description": "Largest that sheet may be once unpacked, in bytes, counting a "
            "shared text each time a cell points to it: 40,000 cells pointing to one "
            "32,000-character text are 1.3 GB held in memory from a 165 kB file."
        },
    )
    max_json_record_bytes: int = field(
        default=64 * _MB,
        metadata={
            "description": "Largest single record of a JSON document, in bytes (characters): "
            "the document is read a record at a time, and a record is held whole; a "
            "shipment record is a few hundred bytes."
        },
    )


def read_limits() -> ReadLimits:
    """The limits in force: the decompressed-size cap from the settings (PWATCH_ prefix),
    the others their defaults."""
    from registry.settings import get_settings

    return ReadLimits(max_uncompressed_bytes=int(get_settings().max_uncompressed_mb * _MB))
