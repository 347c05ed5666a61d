"""The charset of a text feed, decided per file with a confidence, and the feed re-encoded as
UTF-8 where it is not: never a silent re-read that corrupts what was valid UTF-8.

A file that is valid UTF-8 is read as it is. A file with no valid UTF-8 accent anywhere is a
legacy single- or multi-byte file: its charset is guessed (charset-normalizer, with
Windows-1252 preferred when it reads the bytes as cleanly) and the load warns with the
confidence. A file with both (a UTF-8 export with a few lines pasted from a Windows-1252
source) keeps every valid UTF-8 sequence and reads only the other bytes in the guessed
charset, and the warning names how many lines that was and which.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.limits import ReadError
from ingest.spool import Spool, too_big_message

__all__ = ["Charset", "decode_to_utf8", "explicit_encoding"]

_CHUNK = 1 << 20
_LONG_LINE = 16 * _CHUNK  # a line longer than this is cut (at a character boundary) to bound memory
_SAMPLE = 64 * 1024  # bytes of the non-UTF-8 lines kept to guess their charset
_SHOWN = 10  # line numbers named in a warning
# Windows-1252 is taken unless another charset reads the bytes more cleanly by this margin
# (charset-normalizer's mess ratio): on a few accented names cp1250, cp1257 and cp437 tie.
_CP1252_MARGIN = 0.1
_BAD = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, under surrogateescape
_BAD_RUN = re.compile("[\udc80-\udcff]+")
_BAD_LINE = re.compile("[^\n]*[\udc80-\udcff][^\n]*")
_ACCENT = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a valid non-ASCII character


@dataclass
class Charset:
    """How a text feed was decoded, and what the load should say about it."""

    encoding: str  # the file's charset (utf-8 for a UTF-8 file with a few legacy lines)
    confidence: float = 1.0  # 1.0 when certain (valid UTF-8, or given in the profile)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Scan:
    """Lines with bytes that are not UTF-8 and lines with valid UTF-8 accents."""

    bad_lines: int = 0
    bad_shown: list[int] = field(default_factory=list)
    utf8_lines: int = 0
    utf8_shown: list[int] = field(default_factory=list)
    sample: bytearray = field(default_factory=bytearray)


def _is_utf8(path: Path) -> bool:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                dec.decode(chunk)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _pieces(path: Path) -> Iterator[bytes]:
    """The file in pieces that end at a line break (so no character is split)."""
    carry = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            buf = carry + chunk
            cut = buf.rfind(b"\n") + 1
            if cut == 0 and len(buf) > _LONG_LINE:
                cut = len(buf)
                while cut > len(buf) - 4 and 0x80 <= buf[cut - 1] < 0xC0:
                    cut -= 1  # inside a UTF-8 sequence: cut before its lead byte
                cut -= 1 if buf[cut - 1] >= 0xC0 else 0
            if cut <= 0:
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]
    if carry:
        yield carry


def _lines_matching(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int, int]]:
    """(line index in text, start, end) of each line holding a match of pattern."""
    pos, line, counted = 0, 0, 0
    while m := pattern.search(text, pos):
        line += text.count("\n", counted, m.start())
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.start())
        end = len(text) if end < 0 else end
        yield line, start, end
        pos = counted = end
        if end < len(text):
            pos = counted = end + 1
            line += 1


def _scan(path: Path) -> _Scan:
    scan = _Scan()
    first_line = 1
    for piece in _pieces(path):
        text = piece.decode("utf-8", "surrogateescape")
        for line, start, end in _lines_matching(text, _BAD):
            scan.bad_lines += 1
            if len(scan.bad_shown) < _SHOWN:
                scan.bad_shown.append(first_line + line)
            if len(scan.sample) < _SAMPLE:
                scan.sample += text[start:end].encode("utf-8", "surrogateescape") + b"\n"
        if not text.isascii():
            for line, start, end in _lines_matching(text, _ACCENT):
                if _BAD.search(text, start, end) is None:
                    scan.utf8_lines += 1
                    if len(scan.utf8_shown) < _SHOWN:
                        scan.utf8_shown.append(first_line + line)
        first_line += text.count("\n")
    return scan


def _clean_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _guess_legacy(sample: bytes) -> tuple[str, float]:
    """(charset, confidence) of bytes that are not UTF-8: Windows-1252 (Latin-1 where it has
    no character) unless charset-normalizer finds a charset that reads them more cleanly."""
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    western = "cp1252" if _clean_decode(sample, "cp1252") is not None else "latin-1"
    western_mess = min(1.0, mess_ratio(sample.decode(western)[:_SAMPLE], 1.0))
    best = from_bytes(sample).best()
    if best is None or western_mess <= best.chaos + _CP1252_MARGIN:
        return western, 1.0 - western_mess
    return codecs.lookup(best.encoding).name, 1.0 - best.chaos


def _label(encoding: str) -> str:
    if re.fullmatch(r"cp125\d", encoding):
        return f"Windows-{encoding[2:]}"
    return {"iso8859-1": "Latin-1", "utf-8": "UTF-8"}.get(encoding, encoding)


def _lines(n: int) -> str:
    return f"{n:,} line" if n == 1 else f"{n:,} lines"


def _shown(lines: list[int], total: int) -> str:
    more = f" and {total - len(lines):,} more" if total > len(lines) else ""
    return ", ".join(str(n) for n in lines) + more


class _CappedWriter:
    def __init__(self, spool: Spool, limit: int, name: str) -> None:
        self.spool, self.limit, self.name, self.total = spool, limit, name, 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        if self.total > self.limit:
            raise ReadError(too_big_message(self.name, "re-encoded as UTF-8 is", self.limit))
        self.spool.write(data)


def _transcode_whole(path: Path, encoding: str, out: _CappedWriter) -> None:
    """Decode the whole file in one charset (strict); UnicodeDecodeError if it cannot."""
    dec = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as src:
        while chunk := src.read(_CHUNK):
            out.write(dec.decode(chunk).encode("utf-8"))
        out.write(dec.decode(b"", final=True).encode("utf-8"))


def _single_byte(encoding: str) -> bool:
    return len(bytes(range(256)).decode(encoding, "replace")) == 256


def _legacy(data: bytes, encoding: str) -> str:
    for enc in (encoding, "cp1252", "latin-1"):
        text = _clean_decode(data, enc)
        if text is not None:
            return text
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _transcode_mixed(path: Path, encoding: str, out: _CappedWriter) -> None:
    """Keep every valid UTF-8 sequence; read the other bytes in `encoding` (the bytes alone
    for a single-byte charset, else their whole line)."""
    pattern = _BAD_RUN if _single_byte(encoding) else _BAD_LINE

    def fix(m: re.Match[str]) -> str:
        return _legacy(m.group().encode("utf-8", "surrogateescape"), encoding)

    for piece in _pieces(path):
        text = piece.decode("utf-8", "surrogateescape")
        if _BAD.search(text) is None:
            out.write(piece)
        else:
            out.write(pattern.sub(fix, text).encode("utf-8"))


def _new_writer(spools: list[Spool], limit: int, name: str) -> _CappedWriter:
    spool = Spool()
    spools.append(spool)
    return _CappedWriter(spool, limit, name)


def decode_to_utf8(data: Path, name: str, spools: list[Spool], limit: int) -> tuple[Path, Charset]:
    """The feed as UTF-8 (itself, or a re-encoded spool added to `spools`) and its charset."""
    if _is_utf8(data):
        return data, Charset("utf-8")
    scan = _scan(data)
    guessed, confidence = _guess_legacy(bytes(scan.sample))
    hint = 'if names look wrong, set encoding = "..." under [options]'
    if scan.utf8_lines == 0:
        for encoding in dict.fromkeys((guessed, "cp1252", "latin-1")):
            out = _new_writer(spools, limit, name)
            try:
                _transcode_whole(data, encoding, out)
            except UnicodeDecodeError:
                spools.pop().close()
                continue
            if encoding != guessed:
                confidence = 0.5
            warning = (
                f"{name} is not UTF-8: read as {_label(encoding)}, guessed with confidence "
                f"{confidence:.0%}; {hint}"
            )
            return out.spool.path, Charset(encoding, confidence, [warning])
    out = _new_writer(spools, limit, name)
    _transcode_mixed(data, guessed, out)
    main = "utf-8" if scan.utf8_lines >= scan.bad_lines else guessed
    warning = (
        f"{name} mixes charsets: {_lines(scan.bad_lines)} not valid UTF-8 (file line "
        f"{_shown(scan.bad_shown, scan.bad_lines)}), their other bytes read as "
        f"{_label(guessed)} (confidence {confidence:.0%}); {_lines(scan.utf8_lines)} with "
        f"accents read as UTF-8"
    )
    if main != "utf-8":
        warning += f" (file line {_shown(scan.utf8_shown, scan.utf8_lines)})"
    return out.spool.path, Charset(main, confidence, [warning + f"; {hint}"])


def explicit_encoding(
    data: Path, name: str, encoding: str, spools: list[Spool], limit: int
) -> tuple[Path, str]:
    """(the feed decoded with the profile's `encoding`, strict, as UTF-8; the charset's
    name): one line if the file is not in that charset."""
    try:
        encoding = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ReadError(f'unknown encoding "{encoding}" in [options]') from exc
    if encoding in ("utf-8", "utf-8-sig"):
        if not _is_utf8(data):
            raise ReadError(
                f'{name} is not valid UTF-8: set encoding = "latin-1" (or the right one) under [options]'
            )
        return data, encoding
    out = _new_writer(spools, limit, name)
    try:
        _transcode_whole(data, encoding, out)
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{name} is not valid {encoding} text at byte {exc.start}: "
            'set encoding = "..." under [options]'
        ) from exc
    return out.spool.path, encoding
