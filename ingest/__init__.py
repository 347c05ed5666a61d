"""Feed readers, mapping profiles, normalisation, quarantine and loading into the registry.

Public API (used by `pwatch ingest`, the console's Load data page and the demo):

- `load_file(engine, path, kind, profile=None, source=None, progress=None) -> LoadReport`
  loads a facilities or shipments file in one transaction; a file already loaded (same
  kind and SHA-256) is a no-op with status 'already_loaded'. `LoadReport.summary()` and
  `.details()` are the lines `pwatch ingest` prints (each quarantine reason and kind of
  finding in words with its rows).
- `check_file(path, kind, profile=None, source=None, progress=None) -> LoadReport`: read,
  map and validate the whole file as a load would (status 'checked'); writes nothing.
- `preview(path, kind, profile=None, rows=20) -> (frame, mapping, problems)`: first rows
  mapped to canonical names, the mapping used and the problems found; touches no database.
- `read_rows(path, kind, profile=None) -> (good frame, [(row, reasons)])`: the whole file
  shaped as a load would, writing nothing (a national authority's declaration is stored by
  registry.declarations).
- `read_profile(path_or_text) -> Profile`: parse and check a mapping profile (TOML).
- `relink_shipments(conn, batch_id)`: re-decide party-to-facility links (done after every
  facilities load).
- `quarantine_frame(engine, batch_id=None)`: quarantined rows as a frame.
- Errors: `ProfileError` and `ReadError` (ValueError subclasses, one-line messages).

Source of a shipment (its identity is (source, shipment_id)): the `source` argument, else
the profile's `options.source`, else a mapped per-row `source` column, else the file name
stem (without .gz and extension).
"""

from ingest.link import LinkConfig
from ingest.load import LoadReport, check_file, load_file, preview, read_rows, relink_shipments
from ingest.profile import Profile, ProfileError, read_profile
from ingest.query import quarantine_frame
from ingest.readers import ReadError

__all__ = [
    "LinkConfig",
    "LoadReport",
    "Profile",
    "ProfileError",
    "ReadError",
    "check_file",
    "load_file",
    "preview",
    "quarantine_frame",
    "read_profile",
    "read_rows",
    "relink_shipments",
]
