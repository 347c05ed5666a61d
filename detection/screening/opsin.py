"""OPSIN: systematic names to SMILES, one short-lived JVM per batch, results cached per process."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

__all__ = ["OpsinError", "opsin_to_smiles", "structure_layer_status"]

_OPSIN_JAR = "opsin-cli-2.9.0-jar-with-dependencies.jar"
# A short-lived batch JVM: the C1 compiler only and the serial collector start fastest and
# roughly halve CPU per batch against the default tiered/G1 setup.
_JVM_FLAGS = (
    "-Xss4m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Djava.awt.headless=true",
)


class OpsinError(RuntimeError):
    """OPSIN could not be run (no Java, timeout, crash)."""


def _jar_path() -> Path | None:
    env = os.environ.get("PWATCH_OPSIN_JAR")
    if env:
        return Path(env) if Path(env).is_file() else None
    try:
        p = Path(str(resources.files("py2opsin") / _OPSIN_JAR))
    except (ModuleNotFoundError, TypeError):
        return None
    return p if p.is_file() else None


def _java() -> str | None:
    return shutil.which(os.environ.get("PWATCH_JAVA", "java"))


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[bool, str]:
    java, jar = _java(), _jar_path()
    if java is None:
        return False, "structure layer unavailable: Java (java) is not installed or not on PATH"
    if jar is None:
        return False, "structure layer unavailable: the OPSIN jar (py2opsin) was not found"
    try:
        out = _run_opsin(["piperidin-4-one"], java, jar, timeout=60.0)
    except OpsinError as exc:
        return False, f"structure layer unavailable: {exc}"
    if not out or not out[0]:
        return False, "structure layer unavailable: OPSIN did not parse its self-test name"
    return True, "structure layer available: OPSIN 2.9.0 on Java, RDKit"


def structure_layer_status() -> tuple[bool, str]:
    """Whether names can be parsed to structures here, and a sentence saying why (not)."""
    return _probe()


def _run_opsin(
    names: Sequence[str],
    java: str,
    jar: Path,
    timeout: float,
    on_result: Callable[[int, str | None], None] | None = None,
) -> list[str | None]:
    """One JVM for the whole batch; results are streamed to `on_result` as OPSIN emits them,
    so the caller's RDKit work overlaps OPSIN's parsing (two cores)."""
    try:
        proc = subprocess.Popen(
            [java, *_JVM_FLAGS, "-jar", str(jar), "-osmi"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise OpsinError(f"OPSIN could not start ({exc})") from exc
    assert proc.stdin is not None and proc.stdout is not None
    timed_out = threading.Event()

    def _kill() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout, _kill)
    watchdog.daemon = True
    payload = "".join(n + "\n" for n in names).encode("utf-8")

    def _feed() -> None:
        try:
            assert proc.stdin is not None
            proc.stdin.write(payload)
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    writer = threading.Thread(target=_feed, daemon=True)
    out: list[str | None] = []
    watchdog.start()
    writer.start()
    try:
        for raw in proc.stdout:
            if len(out) >= len(names):
                break
            smi = raw.decode("utf-8", errors="replace").strip() or None
            if on_result is not None:
                on_result(len(out), smi)
            out.append(smi)
        proc.stdout.close()
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        writer.join(timeout=1.0)
    if timed_out.is_set():
        raise OpsinError(f"OPSIN timed out after {timeout:.0f} s")
    if code != 0:
        raise OpsinError(f"OPSIN exited with status {code}")
    if len(out) < len(names):
        raise OpsinError(f"OPSIN returned {len(out)} results for {len(names)} names")
    return out


def opsin_to_smiles(
    names: Sequence[str],
    *,
    timeout: float | None = None,
    chunk: int = 50000,
    on_result: Callable[[str, str | None], None] | None = None,
) -> list[str | None]:
    """SMILES for each name (None where OPSIN cannot parse it); one JVM call per chunk.

    Raises OpsinError when the structure layer is unavailable or OPSIN fails or times out.
    """
    ok, why = structure_layer_status()
    if not ok:
        raise OpsinError(why)
    java, jar = _java(), _jar_path()
    if java is None or jar is None:  # removed since the probe
        raise OpsinError("structure layer unavailable: Java or the OPSIN jar is gone")
    todo = list(dict.fromkeys(n for n in names if n not in _OPSIN_CACHE))
    for start in range(0, len(todo), chunk):
        part = [n.replace("\n", " ").replace("\r", " ") for n in todo[start : start + chunk]]
        limit = timeout if timeout is not None else 30.0 + 0.01 * len(part)
        todo_part = todo[start : start + chunk]
        cb = None
        if on_result is not None:

            def cb(
                i: int,
                smi: str | None,
                _names: list[str] = todo_part,
                _fn: Callable[[str, str | None], None] = on_result,
            ) -> None:
                _fn(_names[i], smi)

        got = _run_opsin(part, java, jar, timeout=limit, on_result=cb)
        if len(_OPSIN_CACHE) + len(part) > _OPSIN_CACHE_MAX:
            _OPSIN_CACHE.clear()
        _OPSIN_CACHE.update(zip(todo[start : start + chunk], got, strict=True))
    return [_OPSIN_CACHE.get(n) for n in names]


# Parsed names are remembered for the process: feeds and repeated screens see the same
# descriptions again, and each OPSIN batch costs a JVM start.
_OPSIN_CACHE: dict[str, str | None] = {}
_OPSIN_CACHE_MAX = 200_000
