"""What detection does with the noise of real feeds (issue #12): one consignment reported by
two sources, references that differ, a value on the import record only, a relation that
alternates between package sizes, a description that names nothing. Tiny factory frames; each
oracle is the hand count written beside it."""

from __future__ import annotations

from typing import Any

import polars as pl

from detection.prepare import prepare
from tests.detection.test_detectors import decl, decls, fake_screener, frame, run, ship


def _ctx(rows: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return prepare(frame(rows), decls(), screener=fake_screener)


def test_a_second_source_reporting_the_same_export_under_its_own_words_counts_once() -> None:
    """The exporting state's customs and its pre-export notification both report each export,
    the notification in other words and the quantity converted and rounded: 3 consignments
    of 50 kg, 150 kg, within a declaration of 150 kg."""
    rows = [ship(i, 30 * i, 50.0, consignment_ref=f"PEN-{i}") for i in range(1, 4)]
    pen = [
        {**r, "id": r["id"] + 100, "source": "PEN", "product": "4-AP (N-phenylpiperidin-4-amine)",
         "quantity_kg": 50.2, "consignment_ref": r["consignment_ref"]}
        for r in rows
    ]  # fmt: skip
    d = decls(decl("F1", kg=150.0, year=2024), decl("F2", kg=1000.0))
    assert run("declared_quantity_exceeded", [*rows, *pen], d).height == 0
    ctx = _ctx([*rows, *pen])
    assert ctx.consignments.height == 3
    # Another reference is another consignment, however alike (a repeat order).
    again = [{**r, "id": r["id"] + 200, "source": "PEN", "consignment_ref": "OTHER"} for r in rows]
    assert _ctx([*rows, *again]).consignments.height == 6


def test_records_with_different_references_are_not_paired_by_parties_and_date() -> None:
    x = ship(1, 10, 100.0, consignment_ref="A")
    m_other = ship(2, 20, 100.0, flow="M", consignment_ref="B")
    m_blank = ship(3, 20, 100.0, flow="M", consignment_ref=None)
    assert _ctx([x, m_other]).pairs.height == 0
    pairs = _ctx([x, m_blank]).pairs  # no reference on the import record: parties and date
    assert pairs.select("x_id", "m_id", "how").rows() == [(1, 3, "parties and date")]


def _priced(i: int, day: int, kg: float, usd_per_kg: float | None, **kw: Any) -> dict[str, Any]:
    value = None if usd_per_kg is None else kg * usd_per_kg
    return ship(i, day, kg, value=value, currency="USD", value_usd=value, **kw)


def test_a_price_is_judged_on_the_import_record_when_the_export_record_has_none() -> None:
    """20 exports of 4-AP at 180-218 USD/kg; one more at 10 USD/kg, its value on the import
    record only (the export record left it empty): about 1/20 of the peers' price."""
    market = [_priced(1 + k, 5 * k, 20.0, 180.0 + 2 * k) for k in range(20)]
    cheap = [
        _priced(100, 200, 20.0, None, consignment_ref="C"),
        _priced(101, 210, 20.0, 10.0, flow="M", consignment_ref="C"),
    ]
    alerts = run("value_mismatch", [*market, *cheap])
    assert alerts.height == 1
    assert set(alerts["shipment_pks"][0].to_list()) == {101}
    assert run("value_mismatch", [*market, cheap[0]]).height == 0  # no value: not judged


def test_a_relation_alternating_package_sizes_still_shows_a_shipment_far_above_them() -> None:
    """Eight shipments of 50 or 75 kg (a wide spread of their logs), then 425 kg: 5.7 times
    the median and the largest other shipment; 200 kg (2.7 times) is not unusual."""
    sizes = [75.0, 75.0, 50.0, 50.0, 75.0, 50.0, 75.0, 50.0]
    history = [ship(1 + k, 30 * k, q) for k, q in enumerate(sizes)]
    big = run("unusual_shipment_size", [*history, ship(50, 400, 425.0)])
    assert big.height == 1 and big["shipment_pks"][0].to_list() == [50]
    assert run("unusual_shipment_size", [*history, ship(50, 400, 200.0)]).height == 0


def test_a_description_naming_nothing_from_an_exporter_that_names_the_substance() -> None:
    """Five consignments named '4-anilinopiperidine', then two as 'Pharmaceutical intermediate'
    with 4-AP's CAS number: the name hides what the CAS says."""
    plain = [ship(1 + k, 20 * k, 10.0, cas=None) for k in range(5)]
    vague = [ship(10 + k, 200 + k, 10.0, product="Pharmaceutical intermediate") for k in range(2)]
    # Many consignments of the substance in the feed, so the vague text is rare for it.
    others = [
        ship(100 + k, 3 * k, 10.0, exporter=f"Other {k % 9}", exporter_norm=None,
             exporter_facility_id=None)
        for k in range(120)
    ]  # fmt: skip
    alerts = run("masked_listed_substance", [*plain, *vague, *others])
    hit = alerts.filter(pl.col("summary").str.contains("Pharmaceutical intermediate"))
    assert hit.height == 1
    assert sorted(hit["shipment_pks"][0].to_list()) == [10, 11]
    # The same text as this exporter's own habit (it never names the substance otherwise).
    habit = [ship(1 + k, 20 * k, 10.0, product="Pharmaceutical intermediate") for k in range(7)]
    assert run("masked_listed_substance", [*habit, *others]).height == 0
