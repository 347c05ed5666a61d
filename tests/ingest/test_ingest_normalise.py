"""Normalisation tables: units, countries, dates, company names, flow, activity, CAS."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.normalise import (
    cas_ok,
    normalise_activity,
    normalise_company,
    normalise_flow,
    parse_date,
    to_alpha3,
    unit_factor,
)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("kg", ("mass", 1.0)),
        ("KGS", ("mass", 1.0)),
        ("Kilogram", ("mass", 1.0)),
        ("kilograms", ("mass", 1.0)),
        ("kilo", ("mass", 1.0)),
        ("K.G.", ("mass", 1.0)),
        ("g", ("mass", 0.001)),
        ("grams", ("mass", 0.001)),
        ("gr", ("mass", 0.001)),
        ("mg", ("mass", 1e-6)),
        ("t", ("mass", 1000.0)),
        ("tonnes", ("mass", 1000.0)),
        ("MT", ("mass", 1000.0)),
        ("metric ton", ("mass", 1000.0)),
        ("lb", ("mass", 0.45359237)),
        ("LBS", ("mass", 0.45359237)),
        ("pounds", ("mass", 0.45359237)),
        # UN/ECE Recommendation 20 codes, as on customs declarations
        ("KGM", ("mass", 1.0)),
        ("GRM", ("mass", 0.001)),
        ("TNE", ("mass", 1000.0)),
        ("LBR", ("mass", 0.45359237)),
        ("DTN", ("mass", 100.0)),
        ("LTR", ("volume", 1.0)),
        ("MLT", ("volume", 0.001)),
        ("MTQ", ("volume", 1000.0)),
        # net-weight qualifiers name the same unit; gross weight is not the substance's mass
        ("kg net", ("mass", 1.0)),
        ("Kgs (Net Weight)", ("mass", 1.0)),
        ("N.W. KG", ("mass", 1.0)),
        ("kg gross", None),
        ("net", None),
        ("mcg", ("mass", 1e-9)),
        ("short ton", ("mass", 907.18474)),
        ("long ton", ("mass", 1016.0469088)),
        ("L", ("volume", 1.0)),
        ("litres", ("volume", 1.0)),
        ("ml", ("volume", 0.001)),
        # the same words in the languages of the feeds (accents and case ignored)
        ("Kilogramm", ("mass", 1.0)),
        ("kilogramos", ("mass", 1.0)),
        ("quilos", ("mass", 1.0)),
        ("KGR", ("mass", 1.0)),
        ("Gramm", ("mass", 0.001)),
        ("gramos", ("mass", 0.001)),
        ("miligramos", ("mass", 1e-6)),
        ("toneladas", ("mass", 1000.0)),
        ("toneladas métricas", ("mass", 1000.0)),
        ("Tm", ("mass", 1000.0)),
        ("Tonnen", ("mass", 1000.0)),
        ("M/T", ("mass", 1000.0)),
        ("litros", ("volume", 1.0)),
        ("mililitros", ("volume", 0.001)),
        ("µg", ("mass", 1e-9)),
        ("drums", None),
        ("furlongs", None),
        ("", None),
    ],
)
def test_unit_factor(unit: str, expected: tuple[str, float] | None) -> None:
    assert unit_factor(unit) == expected


@pytest.mark.parametrize(
    ("value", "iso3"),
    [
        ("China", "CHN"),
        ("CN", "CHN"),
        ("chn", "CHN"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("Korea, Republic of", "KOR"),
        ("USA", "USA"),
        ("U.S.A.", "USA"),
        ("United States", "USA"),
        ("UK", "GBR"),
        ("United Kingdom", "GBR"),
        ("Holland", "NLD"),
        ("Russian Fed.", "RUS"),
        ("DE - Germany", "DEU"),
        ("CN/China", "CHN"),
        ("DE - France", None),  # code and name disagree: not guessed
        ("156", "CHN"),  # ISO 3166 numeric
        ("36", "AUS"),  # ... without its leading zero
        ("Cote d Ivoire", "CIV"),
        ("S. Korea", "KOR"),
        ("KSA", "SAU"),
        ("The Netherlands", "NLD"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Russia", "RUS"),
        ("Iran", "IRN"),
        ("Taiwan", "TWN"),
        ("Czechia", "CZE"),
        ("Czech Republic", "CZE"),
        ("India", "IND"),
        ("  germany ", "DEU"),
        ("Narnia", None),
        ("XX", None),
    ],
)
def test_to_alpha3(value: str, iso3: str | None) -> None:
    assert to_alpha3(value) == iso3


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        ("2024-01-05", None, dt.date(2024, 1, 5)),
        ("2024/01/05", None, dt.date(2024, 1, 5)),
        ("20240105", None, dt.date(2024, 1, 5)),
        ("05.01.2024", None, dt.date(2024, 1, 5)),
        ("5 Jan 2024", None, dt.date(2024, 1, 5)),
        ("05-Jan-2024", None, dt.date(2024, 1, 5)),
        ("2024-01-05T10:30:00Z", None, dt.date(2024, 1, 5)),
        ("13/01/2024", None, dt.date(2024, 1, 13)),
        ("01/13/2024", None, dt.date(2024, 1, 13)),
        ("05/05/2024", None, dt.date(2024, 5, 5)),
        ("05/01/2024", "%d/%m/%Y", dt.date(2024, 1, 5)),
        ("05/01/2024", "%m/%d/%Y", dt.date(2024, 5, 1)),
        ("2024-01-05", "%d/%m/%Y", dt.date(2024, 1, 5)),  # ISO always accepted
        # a time after a non-ISO date, weekdays, ordinals
        ("13/01/2024 13:45", None, dt.date(2024, 1, 13)),
        ("Jan 5, 2024 1:45 PM", None, dt.date(2024, 1, 5)),
        ("Fri, 05 Jan 2024", None, dt.date(2024, 1, 5)),
        ("5th January 2024", None, dt.date(2024, 1, 5)),
        ("JAN-05-2024", None, dt.date(2024, 1, 5)),
        # month names of the feeds' other languages
        ("5 de enero de 2024", None, dt.date(2024, 1, 5)),
        ("05-ene-2024", None, dt.date(2024, 1, 5)),
        ("5 de março de 2024", None, dt.date(2024, 3, 5)),
        ("le 1er mai 2024", None, dt.date(2024, 5, 1)),
        ("05/janv./2024", None, dt.date(2024, 1, 5)),
        ("5. Januar 2024", None, dt.date(2024, 1, 5)),
        ("10 ott 2024", None, dt.date(2024, 10, 10)),
        ("30-Sept-2024", None, dt.date(2024, 9, 30)),
        # a spreadsheet day number from a column that lost its date format
        ("45296", None, dt.date(2024, 1, 5)),
    ],
)
def test_parse_date(value: str, fmt: str | None, expected: dt.date) -> None:
    assert parse_date(value, fmt) == (expected, None)


@pytest.mark.parametrize(
    ("value", "fmt", "reason_part"),
    [
        ("2024-02-30", None, "impossible"),
        ("2023-13-01", None, "impossible"),
        ("31/02/2024", "%d/%m/%Y", "impossible"),
        ("05/01/2024", None, "ambiguous"),
        ("yesterday", None, "unreadable"),
        ("5 xyz 2024", None, "unreadable"),
        ("31-Sept-2024", None, "impossible"),
        ("12345", None, "unreadable"),  # no day number of 1990-2069
        ("05-01-2024 13:45", None, "ambiguous"),
    ],
)
def test_parse_date_problems(value: str, fmt: str | None, reason_part: str) -> None:
    date, reason = parse_date(value, fmt)
    assert date is None
    assert reason is not None and reason_part in reason


@pytest.mark.parametrize(
    ("name", "norm"),
    [
        ("Hebei Chem Co., Ltd.", "hebei chem"),
        ("HEBEI CHEM CO LTD", "hebei chem"),
        ("Hebei Chem Company Limited", "hebei chem"),
        ("Acme GmbH", "acme"),
        ("ACME GmbH & Co. KG", "acme"),
        ("Müller Chemie AG", "muller chemie"),
        ("Sharma Pharma Pvt. Ltd.", "sharma pharma"),
        ("Quimica Alfa S.A. de C.V.", "quimica alfa"),
        ("Lyon Chimie S.A.S.", "lyon chimie"),
        ("Roma Chimica SRL", "roma chimica"),
        ("Delta Trading LLC", "delta trading"),
        ("Delta Trading, Inc.", "delta trading"),
        ("Omega Corp.", "omega"),
        ("Holland Chem B.V.", "holland chem"),
        ("Antwerp Chem N.V.", "antwerp chem"),
        ("AG", "ag"),  # nothing but a legal form: kept
        ("Company Chemicals Ltd", "company chemicals"),  # legal words only stripped at the end
        ('=HYPERLINK("http://x")', "hyperlink http x"),
        # legal forms written first, free-zone forms, slashed forms, a place after the form
        ("OOO Khimprom", "khimprom"),
        ("PT Kimia Farma Tbk", "kimia farma"),
        ("Gulf Chem Trading FZE", "gulf chem trading"),
        ("Nordic Lab A/S", "nordic lab"),
        ("Acme Limited Liability Company", "acme"),
        ("Acme Ltd. (HK)", "acme"),
        ("Sino Chem (Shanghai) Co., Ltd.", "sino chem shanghai"),  # a place inside the name
        # names in other scripts keep their letters (they became empty before)
        ("ООО Химпром", "химпром"),
        ("上海化工有限公司", "上海化工"),
        ("株式会社 化学", "化学"),
        ("Großhandel GmbH", "grohandel"),  # Latin letters fold as they always did
    ],
)
def test_normalise_company(name: str, norm: str) -> None:
    assert normalise_company(name) == norm


@pytest.mark.parametrize(
    ("value", "flow"),
    [
        ("X", "X"),
        ("export", "X"),
        ("Export", "X"),
        ("M", "M"),
        ("import", "M"),
        ("Q", None),
        ("export record", "X"),
        ("Import Record", "M"),  # the contract's own words
        ("Dispatches", "X"),
        ("Arrivals", "M"),  # EU intra-trade statistics
        ("in", None),
    ],
)
def test_normalise_flow(value: str, flow: str | None) -> None:
    assert normalise_flow(value) == flow


@pytest.mark.parametrize(
    ("value", "activity"),
    [
        ("production", "production"),
        ("Manufacturer", "production"),
        ("processing", "processing"),
        ("Trader", "trade"),
        ("distribution", "trade"),
        ("end user", "consumption"),
        ("alchemy", None),
    ],
)
def test_normalise_activity(value: str, activity: str | None) -> None:
    assert normalise_activity(value) == activity


@pytest.mark.parametrize(
    ("cas", "ok"),
    [("39742-60-4", True), ("39742-60-5", False), ("21409-26-7", True), ("junk", False)],
)
def test_cas_ok(cas: str, ok: bool) -> None:
    assert cas_ok(cas) is ok


def test_quantity_with_unit_and_net_qualifier_in_one_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A feed that writes "25 kg (net)" or "1,000 KGM" in the quantity column loads in kg."""
    from ingest import load_file
    from registry.db import init_db, make_engine

    feed = tmp_path / "feed.csv"
    feed.write_text(
        "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit\n"
        "A1,2025-01-02,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,25 kg (net),\n"
        'A2,2025-01-03,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,"1,000 KGM",\n'
        "A3,2025-01-04,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,2,TNE\n"
        "A4,2025-01-05,Alpha Ltd,CHN,Beta SA,MEX,4-piperidone,5 kg gross,\n",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    rep = load_file(engine, feed, "shipments")
    assert (rep.rows_loaded, rep.rows_quarantined) == (3, 1)
    with engine.connect() as conn:
        from sqlalchemy import text

        kg = dict(conn.execute(text("SELECT shipment_id, quantity_kg FROM shipments")).all())
        reasons = conn.execute(text("SELECT reasons FROM quarantined_rows")).scalar_one()
    assert kg == {"A1": 25.0, "A2": 1000.0, "A3": 2000.0}
    assert "unknown unit 'kg gross'" in str(reasons)
    engine.dispose()


def _date_feed(tmp_path, dates: list[str]):  # type: ignore[no-untyped-def]
    from ingest import load_file
    from registry.db import init_db, make_engine

    rows = [
        "shipment_id,date,exporter,exporter_country,importer,importer_country,product,quantity,unit"
    ]
    rows += [f"D{i},{d},Alpha Ltd,CHN,Beta SA,MEX,acetone,5,kg" for i, d in enumerate(dates)]
    feed = tmp_path / f"dates{len(list(tmp_path.iterdir()))}.csv"
    feed.write_text("\n".join(rows) + "\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    init_db(engine)
    rep = load_file(engine, feed, "shipments", source=feed.stem)
    from sqlalchemy import text

    with engine.connect() as conn:
        got = dict(
            conn.execute(
                text("SELECT shipment_id, date FROM shipments WHERE source = :s"), {"s": feed.stem}
            ).all()
        )
    engine.dispose()
    return rep, {k: str(v) for k, v in got.items()}


def test_day_month_order_is_settled_by_the_rest_of_the_feed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rep, got = _date_feed(tmp_path, ["13/01/2025", "02/01/2025", "28/02/2025"])
    assert rep.rows_quarantined == 0
    assert got == {"D0": "2025-01-13", "D1": "2025-01-02", "D2": "2025-02-28"}
    rep, got = _date_feed(tmp_path, ["01/13/2025", "02/01/2025"])
    assert got == {"D0": "2025-01-13", "D1": "2025-02-01"}
    # Nothing decides, or the feed proves both orders: such dates are quarantined, not guessed.
    rep, got = _date_feed(tmp_path, ["02/01/2025", "03/04/2025"])
    assert rep.rows_quarantined == 2 and got == {}
    rep, got = _date_feed(tmp_path, ["13/01/2025", "01/13/2025", "02/01/2025"])
    assert rep.rows_quarantined == 1 and set(got) == {"D0", "D1"}


@pytest.mark.parametrize(
    ("value", "flow"),
    [("Exportación", "X"), ("Importación", "M"), ("exportação", "X"), ("Ausfuhr", "X"),
     ("Einfuhr", "M"), ("Re-export", "X"), ("re-import", "M"), ("EX", "X"), ("IM", "M"),
     ("Exportations", "X"), ("transit", None), ("1", None)],
)  # fmt: skip
def test_flow_spellings(value: str, flow: str | None) -> None:
    assert normalise_flow(value) == flow


@pytest.mark.parametrize(
    ("name", "norm"),
    [("Acme Sp. z o.o.", "acme"), ("Acme S. de R.L. de C.V.", "acme"),
     ("Acme SAPI de CV", "acme"), ("Acme S.A.B. de C.V.", "acme"), ("The Acme Company", "acme"),
     ("Martinez y Hijos", "martinez y hijos"), ("Acme y Asociados S.A.", "acme y asociados"),
     ("Yoran Materials Limitada", "yoran materials"), ("Acme Société Anonyme", "acme"),
     ("Acme Limitée", "acme"), ("Acme Kabushiki Kaisha", "acme"), ("Sociedad Quimica", "sociedad quimica")],
)  # fmt: skip
def test_more_legal_forms(name: str, norm: str) -> None:
    assert normalise_company(name) == norm


def test_links_survive_abbreviated_business_words_and_typos() -> None:
    """Customs records abbreviate ("Pharm. Tech.", "Ind. Intl"); a typo in a short name
    must still link; two facilities that differ only by a business word stay apart."""
    from ingest.link import LinkIndex

    names = {
        "F2": ("Hebei Yuanda Pharmaceutical Technology Co., Ltd.", "CHN"),
        "F3": ("Wuhan Golden Industrial International Trading Co., Ltd.", "CHN"),
        "F6": ("Ulevo Industrial S.A.", "HND"),
        "F7": ("Hebei Chem Co., Ltd.", "CHN"),
        "T1": ("Twin Chemicals Ltd", "IND"),
        "T2": ("Twin Chemical Pvt Ltd", "IND"),
    }
    idx = LinkIndex([(f, n, normalise_company(n), c) for f, (n, c) in names.items()])

    def link(name: str, country: str):  # type: ignore[no-untyped-def]
        key = (normalise_company(name), country)
        return idx.link_many([key])[key]

    assert link("Hebei Yuanda Pharm. Tech. Co., Ltd.", "CHN").facility_id == "F2"
    assert link("WUHAN GOLDEN IND. INTL TRADING CO", "CHN").facility_id == "F3"
    assert link("Hebei Chemical Company", "CHN").facility_id == "F7"
    typo = link("Hebei Chemm Co Ltd", "CHN")
    assert (typo.facility_id, typo.method) == ("F7", "fuzzy")
    assert link("Uleov Ind. S.A.", "HND").facility_id == "F6"
    twin = link("Twin Chem Ltd", "IND")
    assert twin.facility_id is None and {c["facility_id"] for c in twin.candidates} == {"T1", "T2"}
    assert link("Yuanda Trading Co., Ltd.", "CHN").facility_id is None


@pytest.mark.parametrize(
    ("value", "activity"),
    [("Producción", "production"), ("Herstellung", "production"), ("fabricação", "production"),
     ("transformación", "processing"), ("Verarbeitung", "processing"), ("import/export", "trade"),
     ("Import-Export", "trade"), ("Handel", "trade"), ("comercialización", "trade"),
     ("distribuidor", "trade"), ("end-use", "consumption"), ("R&D", "consumption"),
     ("consumo", "consumption"), ("storage", None), ("", None)],
)  # fmt: skip
def test_activity_spellings(value: str, activity: str | None) -> None:
    from ingest.normalise import normalise_activity

    assert normalise_activity(value) == activity


@pytest.mark.parametrize(
    ("text", "dot_feed", "comma_feed"),
    [("1.234,5", 1234.5, 1234.5), ("1,234.5", 1234.5, 1234.5), ("12,5", 12.5, 12.5),
     ("12.5", 12.5, 12.5), ("1.234.567", 1234567.0, 1234567.0), ("1.234.567,89", 1234567.89, 1234567.89),
     ("1,234", 1234.0, 1.234), ("1.234", 1.234, 1234.0), ("1 234,5", 1234.5, 1234.5),
     ("1,2,3", None, None), ("nan", None, None)],
)  # fmt: skip
def test_numbers_with_either_decimal_separator(
    text: str, dot_feed: float | None, comma_feed: float | None
) -> None:
    import polars as pl

    from ingest.numbers import read_number as _number

    frame = pl.DataFrame({"q": [text]})
    got = frame.select(
        _number(pl.col("q"), False).alias("d"), _number(pl.col("q"), True).alias("c")
    )
    assert got.row(0) == (dot_feed, comma_feed)


def test_decimal_comma_feed_is_recognised_without_a_profile(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A feed writing 1.234,5 and 12,5 reads its "2.500" as 2500 kg, not 2.5 kg."""
    from sqlalchemy import text

    from ingest import load_file
    from registry.db import init_db, make_engine

    feed = tmp_path / "eu.csv"
    feed.write_text(
        "shipment_id;date;exporter;exporter_country;importer;importer_country;product;quantity;unit\n"
        "E1;2025-01-02;Alpha GmbH;DEU;Beta SA;MEX;acetone;1.234,5;kg\n"
        "E2;2025-01-03;Alpha GmbH;DEU;Beta SA;MEX;acetone;12,5;kg\n"
        "E3;2025-01-04;Alpha GmbH;DEU;Beta SA;MEX;acetone;2.500;kg\n",
        encoding="utf-8",
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    init_db(engine)
    assert load_file(engine, feed, "shipments").rows_loaded == 3
    with engine.connect() as conn:
        kg = dict(conn.execute(text("SELECT shipment_id, quantity_kg FROM shipments")).all())
    engine.dispose()
    assert kg == {"E1": 1234.5, "E2": 12.5, "E3": 2500.0}


def test_a_typo_that_changes_word_order_still_links() -> None:
    """token_sort_ratio sorts words first: "Cehngul Chem Industry" sorts before "chem", unlike
    "Chengul Chem Industry", and scored 76; read as written it is 95."""
    from ingest.link import LinkIndex

    name = "Chengul Chem Industry Co., Ltd."
    idx = LinkIndex([("F5", name, normalise_company(name), "CHN")])
    key = (normalise_company("Cehngul Chem Industry Co., Ltd."), "CHN")
    link = idx.link_many([key])[key]
    assert (link.facility_id, link.method) == ("F5", "fuzzy") and (link.score or 0) >= 90


def test_country_endonyms_are_cached_between_processes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The multilingual country table is built once (about a second) and then read from the
    user's cache; a corrupt or unwritable cache only costs the build."""
    from ingest import normalise as nz

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    nz._endonyms.cache_clear()
    built = nz._endonyms()
    cache = nz._endonym_cache()
    assert cache.parent.parent == tmp_path and cache.exists()
    assert built["deutschland"] == "DEU"
    nz._endonyms.cache_clear()
    assert nz._endonyms() == built  # read back
    cache.write_text("{not json", encoding="utf-8")
    nz._endonyms.cache_clear()
    assert nz._endonyms() == built  # rebuilt (and rewritten)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no directory can be made
    nz._endonyms.cache_clear()
    assert nz._endonyms() == built
    nz._endonyms.cache_clear()
