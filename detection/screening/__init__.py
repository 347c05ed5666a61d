"""Name and structure screening of product descriptions against the watchlist.

Interface (stable): `screen_names` screens a list of names; `screen_frame` screens the
distinct (product, cas, hs_code) rows of a shipment frame. Both return the contract's
columns first. The layers (cas, lexical, fuzzy, structure, fallbacks, no_locant) run
cheapest first over the distinct descriptions only; `pipeline` composes them.

Fentanyl and its analogues are controlled drugs, not listed precursors: they contain the
4-anilinopiperidine core, so the screen reports them as `analogue` with the nearest listed
precursor (norfentanyl or ANPP) and says so in the explanation. An ambiguous abbreviation
without context (a bare "4-AP" or "NPP") is `clear` with score 40 and its candidate in
`candidate_cas`, so look-alike products stay clear while the candidate stays visible.
"""

from __future__ import annotations

from detection.screening.config import ScreenConfig
from detection.screening.opsin import structure_layer_status
from detection.screening.pipeline import (
    SCREEN_EXTRA_SCHEMA,
    SCREEN_SCHEMA,
    screen_frame,
    screen_names,
)

__all__ = [
    "SCREEN_EXTRA_SCHEMA",
    "SCREEN_SCHEMA",
    "ScreenConfig",
    "screen_frame",
    "screen_names",
    "structure_layer_status",
]
