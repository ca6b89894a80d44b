"""Voice of children and young people: the plan's consultation (who answered, what matters to
them, the main challenges) as charts and tables, with the consultation's own caveats."""
import streamlit as st

from cypp_dash import charts, voice
from cypp_dash.web.components import chart
from cypp_dash.web.downloads import downloads_for_chart, downloads_for_table
from cypp_dash.web.frame import page

view = page("Voice of children and young people", needs_area=False)
plan = view.plan
st.title("Voice of children and young people")
consultation = voice.voice_of(plan)
if consultation is None:
    st.caption(plan.name)
    st.info("No consultation with children and young people is recorded for this plan yet. When the partnership "
            "holds one, what they said is shown here.")
    st.stop()

st.caption(f"{plan.name} · {consultation.title}" + (f" · as of {consultation.as_of}" if consultation.as_of else ""))
st.warning("**Read with care.**\n\n" + "\n".join(f"- {c}" for c in consultation.caveats), icon=":material/info:")
source = f"Source: {consultation.source}"

if consultation.responses_text or not consultation.responses.empty:
    st.header("Responses", divider="gray")
    if consultation.responses_text:
        st.markdown(consultation.responses_text)
    cols = st.columns(max(1, len(consultation.responses)))
    for col, (label, count) in zip(cols, consultation.responses.itertuples(index=False)):
        col.metric(label, f"{count:,}", border=True)

for table in consultation.tables:
    st.header(table.title, divider="gray")
    subtitle = [f"Provisional counts as of {consultation.as_of}" if consultation.as_of else "Counts as reported"]
    if table.caveat:
        st.caption(table.caveat)
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    drawn = (table.rows, table.title, table.label, subtitle, source)
    with chart_tab:
        chart(charts.voice_counts_chart, *drawn)
        downloads_for_chart(charts.voice_counts_chart, f"voice-{table.id}", *drawn)
    counts = voice.table_download(table)
    with table_tab:
        st.dataframe(counts, hide_index=True)
    # CSV and Excel of the table, with text that a spreadsheet could run as a formula made safe.
    downloads_for_table(counts, f"voice-{table.id}")

for i, question in enumerate(consultation.questions):
    st.header(question.question, divider="gray")
    st.caption("Which groups raised each answer (✓). The summary records whether a group raised it, not how many "
               "people did." + (f" {question.caveat}" if question.caveat else ""))
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    answers = (voice.groups_long(question), list(question.groups), question.question,
               ["Answers by the groups that raised them"], source)
    with chart_tab:
        chart(charts.voice_answers_chart, *answers)
        downloads_for_chart(charts.voice_answers_chart, f"voice-question-{i + 1}", *answers)
    answer_table = voice.question_table(question)
    with table_tab:
        st.dataframe(answer_table, hide_index=True, width="stretch")
    downloads_for_table(answer_table, f"voice-question-{i + 1}")

st.caption(source)
