"""A map of trade flows drawn offline with Altair (Vega-Lite): no tile server is needed.

Country outlines and country points come from the `countryinfo` package (MIT licence), which
ships each country's outline as GeoJSON (Natural Earth's low-resolution boundaries, as in
world.geo.json) and a representative latitude and longitude; nothing is fetched at run time.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import altair as alt
import polars as pl

__all__ = ["country_points", "flow_map", "world_outline"]


def _round(coords: Any) -> Any:
    """Coordinates to one decimal (about 10 km): the outline stays small in the page."""
    if isinstance(coords, list | tuple):
        if coords and isinstance(coords[0], int | float):
            return [round(float(c), 1) for c in coords]
        return [_round(c) for c in coords]
    return coords


@cache
def world_outline() -> dict[str, Any]:
    """Every country outline countryinfo ships, as one GeoJSON FeatureCollection."""
    from countryinfo import all_countries

    features = []
    for country in all_countries():
        try:
            geo = country.geo_json()
        except Exception:  # a territory without an outline
            continue
        for feature in (geo or {}).get("features", []):
            geometry = feature.get("geometry") or {}
            features.append(
                {
                    "type": "Feature",
                    "properties": {"iso3": feature.get("id")},
                    "geometry": {
                        "type": geometry.get("type"),
                        "coordinates": _round(geometry.get("coordinates")),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


@cache
def country_points() -> dict[str, tuple[float, float]]:
    """ISO alpha-3 -> (latitude, longitude) of a representative point of the country."""
    from countryinfo import all_countries

    out: dict[str, tuple[float, float]] = {}
    for country in all_countries():
        try:
            code, latlng = country.iso(3), country.latlng()
        except Exception:
            continue
        if code and latlng and len(latlng) == 2:
            out[str(code)] = (float(latlng[0]), float(latlng[1]))
    return out


def flow_map(flows: pl.DataFrame, *, height: int = 380) -> dict[str, Any]:
    """Lines from exporting to importing country, thicker for more tonnes, over the world, as
    a Vega-Lite spec for st.vega_lite_chart.

    `flows`: columns from, to (alpha-3), from_name, to_name, tonnes, consignments. The outline
    (some 170 kB) is put into the finished spec: through Altair it took about 0.9 s a page."""
    points = country_points()
    known = flows.filter(
        pl.col("from").is_in(list(points)) & pl.col("to").is_in(list(points))
    ).with_columns(
        pl.col("from").replace_strict({k: v[0] for k, v in points.items()}).alias("lat"),
        pl.col("from").replace_strict({k: v[1] for k, v in points.items()}).alias("lon"),
        pl.col("to").replace_strict({k: v[0] for k, v in points.items()}).alias("lat2"),
        pl.col("to").replace_strict({k: v[1] for k, v in points.items()}).alias("lon2"),
    )
    projection = "equalEarth"
    land = (
        alt.Chart(alt.Data(values=[]))
        .mark_geoshape(fill="#eef0f3", stroke="#c4c9d1", strokeWidth=0.5)
        .project(projection)
    )
    tooltip = [
        alt.Tooltip("from_name:N", title="from"),
        alt.Tooltip("to_name:N", title="to"),
        alt.Tooltip("tonnes:Q", format=",.1f"),
        alt.Tooltip("consignments:Q", format=","),
    ]
    lines = (
        alt.Chart(known)
        .mark_rule(color="#c0392b", opacity=0.55)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            longitude2="lon2:Q",
            latitude2="lat2:Q",
            strokeWidth=alt.StrokeWidth(
                "tonnes:Q", scale=alt.Scale(range=[0.5, 7]), title="tonnes"
            ),
            tooltip=tooltip,
        )
        .project(projection)
    )
    exporters = (
        known.group_by("from", "from_name", "lat", "lon")
        .agg(pl.col("tonnes").sum())
        .rename({"from_name": "country"})
    )
    dots = (
        alt.Chart(exporters)
        .mark_circle(color="#7b241c", opacity=0.85)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            size=alt.Size("tonnes:Q", scale=alt.Scale(range=[20, 300]), legend=None),
            tooltip=[
                alt.Tooltip("country:N", title="exporting country"),
                alt.Tooltip("tonnes:Q", format=",.1f"),
            ],
        )
        .project(projection)
    )
    spec = alt.layer(land, lines, dots).properties(height=height).to_dict()
    spec["layer"][0]["data"] = {"values": world_outline()["features"]}
    return spec
