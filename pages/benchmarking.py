"""Benchmarking: the plan area's published figures (DfE LAIT) against England, its region and its ten
statistical neighbours, in the LAIT manner: the plan's KPIs with a published measure first, then every
measure by topic, then one measure as sorted bars and over time."""
import streamlit as st

from cypp_dash import benchmark, benchmark_charts
from cypp_dash.web import benchmark as benchmark_ui
from cypp_dash.web.components import chart
from cypp_dash.web.downloads import downloads_for_chart, downloads_for_table
from cypp_dash.web.frame import page

view = page("Benchmarking", needs_area=False)
area = view.plan.area
area_name = view.config.area_name(area)
st.title("Benchmarking")
place = benchmark_ui.cached_place(view.version, area)
if place is None:
    st.info(f"{area_name} is not an English upper-tier local authority in DfE's published data (LAIT), so it has "
            "no national rank, quartile band or statistical neighbours. Benchmarking covers county councils, "
            "unitary authorities, metropolitan districts and London boroughs.")
    st.stop()
st.caption(f"{view.plan.name} · {area_name} · DfE published figures, latest year each, against England, "
           f"{place.region_name} and {area_name}'s ten statistical neighbours")
rows = benchmark_ui.cached_rows(view.version, area)
SOURCE = ("Source: Department for Education, Local Authority Interactive Tool (LAIT), statistical neighbours "
          "May 2025. Open Government Licence v3.0.")

st.markdown("**How to read this.** Rank 1 is the best of England's local authorities with a figure that year "
            "(ties share a rank). Quartile band A is the best quarter of authorities, D the worst. Measures "
            "where neither higher nor lower is better have no rank or band. Neighbour average is the mean of "
            "the statistical neighbours with a figure.")
st.markdown(f"**Statistical neighbours of {area_name}:** " + ", ".join(n for _, n in place.neighbours))

st.header("The plan's measures")
plan_rows = benchmark_ui.cached_plan_rows(view.version, view.plan, view.plan.id, area)
if plan_rows.empty:
    st.info("No KPI of this plan is mapped to a published measure (a KPI's `published:` key in the plan file). "
            "Every published measure for the area is listed below.")
else:
    shown = benchmark_ui.plan_measures_table(plan_rows, place.region_name)
    st.html(benchmark_ui.plan_measures_html(shown, view.plan.name, area_name))
    downloads_for_table(shown, f"benchmark-{area}-plan-kpis")
    for code, note in zip(plan_rows["code"], plan_rows["relation_note"]):
        if note:
            st.caption(f"{code}: {note}")

st.header("One measure against the neighbours")
ids = list(rows.sort_values("name")["indicator_id"])
first = benchmark.first_plan_measure(plan_rows, ids)
names = dict(zip(rows["indicator_id"], rows["name"]))
measure = st.selectbox("Measure", ids, index=ids.index(first[0]) if first else 0, key="w_bench_measure",
                       format_func=lambda i: names.get(i, i))
row = rows[rows["indicator_id"] == measure].iloc[0]
decimals = int(row["decimals"])
st.markdown(f"**{row['name']}** ({row['period']}): {area_name} "
            f"{benchmark.figure_text(row['value'], decimals)}; England {benchmark.figure_text(row['england'], decimals)}; "
            f"{row['region_name']} {benchmark.figure_text(row['region'], decimals)}; neighbour average "
            f"{benchmark.figure_text(row['neighbours_average'], decimals)}. "
            + (f"Rank {benchmark.rank_text(row['rank'], row['rank_of'])}, quartile band {row['quartile_band']}."
               if row["quartile_band"] else (row["why_no_rank"] or "No rank: no figure this year.").capitalize())
            + (f" Next update: {row['next_update']}." if row["next_update"] else ""))
bars = benchmark_ui.cached_bars(view.version, area, measure)
args = (bars, row["name"], row["period"], row["polarity"], area_name, SOURCE, decimals, row["unit_label"] or "")
if chart(benchmark_charts.neighbour_bars, *args):
    downloads_for_chart(benchmark_charts.neighbour_bars, f"benchmark-{area}-{measure}-neighbours", *args)
series = benchmark_ui.cached_series(view.version, area, measure)
sargs = (series, row["name"], area_name, SOURCE, row["unit_label"] or "")
if chart(benchmark_charts.benchmark_series, *sargs):
    downloads_for_chart(benchmark_charts.benchmark_series, f"benchmark-{area}-{measure}-over-time", *sargs)
downloads_for_table(benchmark_ui.series_table(view.version, area, measure), f"benchmark-{area}-{measure}-series",
                    what="Series")
if row["why_no_rank"]:
    st.caption(row["why_no_rank"].capitalize() + ".")
st.caption(SOURCE)

st.header("Every published measure")
topics = ["All topics", *benchmark_ui.topics(rows)]
topic = st.selectbox("Topic", topics, key="w_bench_topic",
                     index=topics.index(row["topic"].split(" / ")[0]) if row["topic"].split(" / ")[0] in topics else 0)
chosen, table = benchmark_ui.topic_table(view.version, area, topic, place.region_name)
st.html(benchmark_ui.topic_table_html(chosen, table, topic, area_name, place.region_name))
downloads_for_table(table.assign(Indicator=chosen["indicator_id"].to_numpy()),
                    f"benchmark-{area}-{topic}")
st.caption(SOURCE)

