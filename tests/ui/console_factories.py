"""Tiny factories for console tests: a facility, shipments, alerts and users, straight via the ORM."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from registry.db import session_scope
from registry.models import (
    AlertRow,
    AlertShipment,
    Declaration,
    EarlyWarning,
    Facility,
    IngestBatch,
    utcnow,
)
from registry.shipments import write_shipments
from registry.users import add_user

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_users(engine: Engine, *names_roles: tuple[str, str]) -> None:
    """Accounts with PASSWORD; an authority's state is the Netherlands (FAC-1's)."""
    with session_scope(engine) as s:
        for name, role in names_roles:
            add_user(s, name, role, PASSWORD, state="NLD" if role == "authority" else None)


def standard_users(engine: Engine) -> None:
    make_users(
        engine,
        ("ines", "inspector"),
        ("ivan", "inspector"),
        ("sara", "supervisor"),
        ("sven", "supervisor"),
        ("ana", "analyst"),
        ("vera", "viewer"),
        ("nora", "authority"),
    )


def make_facility(engine: Engine, facility_id: str = "FAC-1", **kw: Any) -> str:
    with session_scope(engine) as s:
        s.add(
            Facility(
                facility_id=facility_id,
                name=kw.get("name", "Acme Fine Chemicals Ltd"),
                name_norm=kw.get("name", "acme fine chemicals").lower(),
                country=kw.get("country", "NLD"),
                address=kw.get("address", "1 Canal Street, Rotterdam"),
            )
        )
        s.add(
            Declaration(
                facility_id=facility_id,
                activity="trade",
                substance="NPP",
                cas="39742-60-4",
                substance_cas="39742-60-4",
                declared_annual_kg=kw.get("declared", 100.0),
                declaration_year=kw.get("year", 2026),
            )
        )
    return facility_id


def make_shipments(
    engine: Engine, n: int = 3, *, facility_id: str | None = "FAC-1", **kw: Any
) -> list[int]:
    """n shipments of NPP from the facility to one buyer; returns their registry ids."""
    k = next(_seq)
    with session_scope(engine) as s:
        batch = IngestBatch(kind="shipments", file_name=f"feed{k}.csv", file_hash=f"{k:064d}")
        s.add(batch)
        s.flush()
        rows = [
            {
                "source": "NLD-customs",
                "shipment_id": f"S{k}-{i}",
                "date": kw.get("start", dt.date(2026, 3, 1)) + dt.timedelta(days=7 * i),
                "exporter": "Acme Fine Chemicals Ltd",
                "exporter_norm": "acme fine chemicals",
                "exporter_country": "NLD",
                "importer": kw.get("importer", "Blue Harbour Trading"),
                "importer_norm": kw.get("importer", "Blue Harbour Trading").lower(),
                "importer_country": kw.get("importer_country", "MEX"),
                "product": kw.get("product", "N-phenethyl-4-piperidone"),
                "cas": "39742-60-4",
                "hs_code": "2933.37",  # NPP's own subheading: detection reads the substance
                "quantity": 40.0 + i,
                "unit": "kg",
                "quantity_kg": 40.0 + i,
                "flow": kw.get("flow", "X"),
                "consignment_ref": kw.get("consignment_ref"),
                "exporter_facility_id": facility_id,
                "batch_id": batch.id,
                "row_number": i + 1,
            }
            for i in range(n)
        ]
        return write_shipments(s.connection(), rows)


def make_alert(
    engine: Engine,
    *,
    severity: str = "high",
    detector: str = "declared_quantity_exceeded",
    shipment_pks: list[int] | None = None,
    facility_id: str | None = "FAC-1",
    summary: str = "Acme shipped 123 kg of NPP in 2026 against 100 kg declared (123%).",
    evidence: dict | None = None,
    created_at: dt.datetime | None = None,
    status: str = "new",
) -> int:
    with session_scope(engine) as s:
        a = AlertRow(
            fingerprint=hashlib.sha256(f"{next(_seq)}-{summary}".encode()).hexdigest(),
            detector=detector,
            severity=severity,
            score=80.0,
            status=status,
            summary=summary,
            evidence=evidence if evidence is not None else DECLARED_EVIDENCE,
            facility_id=facility_id,
            substance_cas="39742-60-4",
            country="NLD",
            created_at=created_at or utcnow(),
        )
        s.add(a)
        s.flush()
        for pk in shipment_pks or []:
            s.add(AlertShipment(alert_id=a.id, shipment_pk=pk))
        return a.id


def evidence(detector: str, numbers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Evidence shaped as detection stores it: the thresholds in force and the numbers."""
    import dataclasses

    from detection.run import configs

    return {
        "detector": detector,
        "thresholds": dataclasses.asdict(configs()[detector]),
        "numbers": numbers,
        "records": [],
        **extra,
    }


DECLARED_EVIDENCE = evidence(
    "declared_quantity_exceeded",
    {
        "year": 2026,
        "role": "exporter",
        "shipped": 123.0,
        "declared": 100.0,
        "elapsed": 0.5,
        "ratio_annual": 1.23,
        "ratio_pace": 2.46,
        "n": 4,
        "first_over": "2026-03-22",
    },
)


def make_records(engine: Engine, rows: list[dict[str, Any]]) -> list[int]:
    """Shipment records written as given (defaults for the rest); returns their registry ids."""
    k = next(_seq)
    with session_scope(engine) as s:
        batch = IngestBatch(kind="shipments", file_name=f"feed{k}.csv", file_hash=f"{k:064d}")
        s.add(batch)
        s.flush()
        base = {
            "source": "NLD-customs",
            "exporter": "Acme Fine Chemicals Ltd",
            "exporter_norm": "acme fine chemicals",
            "exporter_country": "NLD",
            "importer": "Blue Harbour Trading",
            "importer_norm": "blue harbour trading",
            "importer_country": "MEX",
            "product": "N-phenethyl-4-piperidone",
            "cas": "39742-60-4",
            "hs_code": "2933.37",
            "unit": "kg",
            "flow": "X",
            "exporter_facility_id": "FAC-1",
            "batch_id": batch.id,
        }
        full = []
        for i, r in enumerate(rows):
            row = {**base, "shipment_id": f"R{k}-{i}", "row_number": i + 1, **r}
            row.setdefault("quantity", row["quantity_kg"])
            full.append(row)
        return write_shipments(s.connection(), full)


def mirror_case(engine: Engine) -> list[int]:
    """Three consignments in four records, for totals a reader can check by hand:
    A exported 2,800 kg (export record) and imported 2,750 kg (the importer's record);
    B exported 500 kg, no import record; C known only from an import record, 300 kg.
    Counted once: 3 consignments, 2,800 + 500 + 300 = 3,600 kg (records add up to 6,350 kg)."""
    mex = {"source": "MEX-customs", "flow": "M"}
    return make_records(
        engine,
        [
            {"date": dt.date(2026, 3, 1), "quantity_kg": 2800.0, "consignment_ref": "PEN-A"},
            {
                "date": dt.date(2026, 3, 12),
                "quantity_kg": 2750.0,
                "consignment_ref": "PEN-A",
                **mex,
            },
            {"date": dt.date(2026, 4, 1), "quantity_kg": 500.0, "consignment_ref": "PEN-B"},
            {"date": dt.date(2026, 8, 1), "quantity_kg": 300.0, "consignment_ref": "PEN-C", **mex},
        ],
    )


MIRROR_CASE_SENTENCE = (
    "3 consignments (4 records), 3,600 kg, each counted once; the importers' records of 1 of "
    "them say 2,750 kg against 2,800 kg exported; 1 known only from an import record."
)


def make_early_warning(engine: Engine) -> int:
    with session_scope(engine) as s:
        ew = EarlyWarning(
            name_key="cbz-4-piperidone",
            name="N-Cbz-4-piperidone",
            smiles="O=C1CCN(CC1)C(=O)OCc1ccccc1",
            nearest_cas="41661-47-6",
            similarity=0.72,
            explanation="A carbamate of 4-piperidone: one step from a listed precursor.",
            first_seen=dt.date(2026, 2, 1),
            last_seen=dt.date(2026, 4, 1),
            shipment_count=4,
            total_kg=250.0,
            parties=["Acme Fine Chemicals Ltd", "Blue Harbour Trading"],
            countries=["NLD", "MEX"],
        )
        s.add(ew)
        s.flush()
        return ew.id


def demo(engine: Engine) -> dict[str, int]:
    """A small registry: users, one facility, shipments and a few alerts of each kind."""
    standard_users(engine)
    make_facility(engine)
    pks = make_shipments(engine, 4)
    mirror = make_shipments(engine, 1, consignment_ref="PEN-2026-0001", facility_id="FAC-1")
    name_pks = make_shipments(
        engine, 1, product="1-benzyl-4-piperidone <b>bold</b> [x](http://evil)"
    )
    out = {
        "high": make_alert(engine, severity="high", shipment_pks=pks),
        "low": make_alert(engine, severity="low", summary="A low one.", shipment_pks=pks[:1]),
        "mirror": make_alert(
            engine,
            severity="medium",
            detector="export_never_arrived",
            shipment_pks=mirror,
            summary="Export PEN-2026-0001 of 40 kg NPP to MEX has no import record after 60 days.",
            evidence=evidence(
                "export_never_arrived",
                {
                    "quantity_kg": 40.0,
                    "date": "2026-03-01",
                    "days_since": 60,
                    "coverage": 0.95,
                    "exports": 20,
                },
            ),
        ),
        "name": make_alert(
            engine,
            severity="medium",
            detector="designer_analogue",
            shipment_pks=name_pks,
            summary="Product '=HYPERLINK(\"x\")' looks like an analogue of 4-piperidone.",
            evidence=evidence(
                "designer_analogue",
                {
                    "products": ["1-benzyl-4-piperidone <b>bold</b> [x](http://evil)"],
                    "importers": ["Blue Harbour Trading"],
                    "count": 1,
                    "total_kg": 40.0,
                    "first_date": "2026-03-01",
                    "listed_parent": "41661-47-6",
                },
                explanation="Benzyl-protected 4-piperidone: one step from 4-piperidone.",
                smiles="O=C1CCN(Cc2ccccc2)CC1",
            ),
        ),
        "old": make_alert(
            engine,
            severity="critical",
            summary="An old critical one.",
            created_at=utcnow() - dt.timedelta(days=5),
        ),
    }
    out["early_warning"] = make_early_warning(engine)
    return out


# --- driving the console with AppTest -----------------------------------------------------

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")


def new_app() -> Any:
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=60)


def login(username: str, password: str = PASSWORD) -> Any:
    """A fresh console session, logged in through the login form."""
    at = new_app().run()
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Log in").click().run()
    assert not at.exception, at.exception
    return at


def open_detail(at: Any, alert_id: int) -> Any:
    at.session_state["alert_id"] = alert_id
    at.switch_page("views/detail.py").run()
    assert not at.exception, at.exception
    return at


def messages(at: Any) -> list[str]:
    """Every success, info, warning and error text on the page (Markdown escapes removed)."""
    import re

    out: list[str] = []
    for kind in ("success", "info", "warning", "error"):
        out += [re.sub(r"\\(.)", r"\1", str(e.value)) for e in getattr(at, kind)]
    return out


_SNAKE = __import__("re").compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
_LONG_DECIMALS = __import__("re").compile(r"\d\.\d{5,}")


def visible_problems(at: Any) -> list[str]:
    """What a reader should never see in a table or a metric: snake_case keys or codes,
    'None', 'nan', or a number with more than 4 decimals."""
    problems: list[str] = []

    def check(where: str, value: Any) -> None:
        if isinstance(value, float):
            if value != value or round(value, 4) != value:
                problems.append(f"{where}: {value!r}")
            return
        text = str(value).strip()
        if (
            text in ("None", "nan", "NaN", "NaT", "null")
            or _SNAKE.match(text)
            or (_LONG_DECIMALS.search(text) and "http" not in text)
        ):
            problems.append(f"{where}: {text!r}")

    for i, df in enumerate(at.dataframe):
        frame = df.value
        for col in frame.columns:
            check(f"table {i} column", col)
            for v in frame[col].tolist():
                check(f"table {i} {col}", v)
    for m in at.metric:
        check("metric label", m.label)
        check(f"metric {m.label}", m.value)
    return problems


def try_action(at: Any, key: str) -> tuple[bool, str]:
    """Try a triage button as a person would: (True, the messages after clicking it) when it
    is enabled; (False, the reason it shows) when it is greyed out, as the console greys out
    every action the user cannot take now (the reason is the service layer's own words)."""
    button = at.button(key=key)
    if button.disabled:
        return False, str(button.help or "")
    button.click().run()
    assert not at.exception, at.exception
    return True, " | ".join(messages(at))
