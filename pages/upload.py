"""Upload figures: check a quarterly CSV or XLSX, see exactly what it would change, then load it."""

import pandas as pd
import streamlit as st

from cypp_dash import auth, export, loading, store, upload_limits
from cypp_dash.web import session
from cypp_dash.web.downloads import downloads_for_table
from cypp_dash.web.frame import page
from cypp_dash.web.history import batch_label, rollback_question, upload_history

view = page("Upload figures", needs_area=False)
st.title("Upload figures")
st.caption(f"{view.plan.name} · one row per KPI, area and period; a file loads whole or not at all")

account = session.current_account()
if not auth.has_role(account, "editor"):
    st.warning("Uploading needs an editor or administrator account. Sign in first.", icon=":material/lock:")
    session.sign_in_link()
    st.stop()

with st.expander("The upload format and a template", expanded=False):
    st.markdown("""
Columns (any order, any case): **kpi, area, period, value** are required; **numerator, denominator, note** are
optional. Periods are financial-year quarters such as `2024/25 Q1` or years such as `2024/25`. Areas may be
codes or names. Values such as `87.6%` and `1,204` are fine; `c`, `[c]`, `x`, `*`, `..`, `-` or a blank mean
"no figure" (suppressed). A % must be 0-100; a count a whole number. Sending a figure already stored revises it:
the earlier one stays in the history.""")
    st.markdown(f"""
**Limits** (a file over any of them is refused before it is read, with the row and column named):
at most {view.config.settings.upload_max_mb} MB; at most {upload_limits.MAX_COLUMNS} columns and
{upload_limits.MAX_ROWS:,} rows of figures (an Excel sheet at most {upload_limits.MAX_XLSX_CELLS:,} filled cells; save
a larger one as CSV); at most {upload_limits.MAX_CELL_CHARS:,} characters in any cell, a note included, and
{upload_limits.MAX_FIGURE_CHARS} in a figure. Excel cells must hold values: a formula that was never calculated
(a workbook written by a script) is refused, so open it in Excel and save it, or paste values. CSV files are
UTF-8 or Windows-1252, not a mix of the two.""")
    template = loading.upload_template(view.config, view.plan)
    kpis, areas = loading.template_reference(view.config, view.plan)
    left, right = st.columns(2)
    left.download_button("Template (CSV)", export.table_csv(template), "cypp-upload-template.csv", "text/csv",
                         on_click="ignore", icon=":material/download:")
    right.download_button("Template (XLSX, with KPI and area lists)",
                          export.workbook_xlsx({"upload": template, "kpis": kpis, "areas": areas}),
                          "cypp-upload-template.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                          icon=":material/download:")

uploaded = st.file_uploader("Choose a CSV or XLSX file", type=["csv", "xlsx"], key="upload_file")
if uploaded is not None:
    # Checked once per file, not on every rerun of the page (a hostile file costs its refusal once).
    memo = st.session_state.get("upload_checked")
    if memo is None or memo[0] != uploaded.file_id:
        memo = (uploaded.file_id, loading.validate(view.config, uploaded.getvalue(), uploaded.name))
        st.session_state["upload_checked"] = memo
    checked = memo[1]
    if not checked.ok:
        st.error(f"**{uploaded.name} was not loaded.** {len(checked.problems)} problem(s) to put right; "
                 "nothing has been changed.", icon=":material/error:")
        problems = pd.DataFrame([{"row": p.row, "column": p.column, "problem": p.message} for p in checked.problems])
        st.dataframe(problems, hide_index=True, width="stretch")
        downloads_for_table(problems, f"{uploaded.name}-problems", what="Problems")
        st.text("\n".join(str(p) for p in checked.problems[:200]))
    else:
        preview = store.preview_batch(view.conn, checked.rows)
        counts = preview["change"].value_counts()
        st.success(f"**{uploaded.name} passed every check.** Nothing is written until you confirm.",
                   icon=":material/check_circle:")
        a, r, u = st.columns(3)
        a.metric("New figures", int(counts.get("added", 0)), border=True)
        r.metric("Revisions", int(counts.get("revised", 0)), border=True)
        u.metric("Unchanged", int(counts.get("unchanged", 0)), border=True)
        for w in checked.warnings:
            st.info(w)
        names = store.area_names(view.conn)
        shown = preview.assign(area=preview["area_code"].map(lambda c: names.get(c, c)))[
            ["change", "indicator_id", "area", "period", "value", "old_value", "numerator", "denominator", "note",
             "flags"]].rename(columns={"indicator_id": "kpi", "old_value": "stored now"})
        st.dataframe(shown.head(2000), hide_index=True, width="stretch")
        if len(shown) > 2000:
            st.caption(f"Showing the first 2,000 of {len(shown):,} rows.")
        if st.button(f"Load {len(preview):,} rows", type="primary", key="confirm_upload"):
            outcome, message = None, ""
            with st.status("Loading…", expanded=True) as box:
                bar = st.progress(0.0)
                try:
                    outcome = auth.upload(view.conn, account, checked,
                                          progress=lambda f, m: bar.progress(min(1.0, f), text=m))
                except store.StoreBusy as e:
                    box.update(label="The store is busy", state="error")
                    message = f"Nothing was loaded: {e}"
                except store.StoreError as e:  # e.g. the disk filled up: the load was undone whole
                    box.update(label="Not loaded", state="error")
                    message = f"Nothing was loaded: {e}"
                except auth.PermissionDenied as e:
                    box.update(label="Not allowed", state="error")
                    message = str(e)
                else:
                    box.update(label=f"Loaded as upload {outcome.batch_id}", state="complete", expanded=False)
            if outcome is None:
                st.error(message)
            else:
                st.success(f"Loaded {uploaded.name} as upload {outcome.batch_id}: {outcome.added} added, "
                           f"{outcome.revised} revised, {outcome.unchanged} unchanged. The pages show it now.")

st.header("Upload history", divider="gray")
history = upload_history(view.conn)
st.dataframe(history, hide_index=True, width="stretch")
downloads_for_table(history, "upload-history")
if auth.has_role(account, "admin"):
    st.subheader("Roll back an upload")
    if st.session_state.pop("cypp_rollback_clear", False):
        st.session_state["rollback_batch"] = None  # never leave a batch chosen after a roll back
    result = st.session_state.get("cypp_rollback_result")
    if result:  # the outcome of the last roll back stays on screen
        (st.success if result[0] == "ok" else st.error)(result[1])
    batches = store.history(view.conn)
    loaded = batches[batches["status"] == "loaded"].set_index("batch_id", drop=False)
    if loaded.empty:
        st.caption("No upload is loaded, so there is nothing to roll back.")
    else:
        batch = st.selectbox("Upload to roll back", loaded.index.tolist(), index=None, key="rollback_batch",
                             placeholder="Choose an upload", format_func=lambda b: batch_label(loaded.loc[b]))
        if batch is not None:
            st.warning(rollback_question(loaded.loc[batch]), icon=":material/warning:")
            yes, no = st.columns(2)
            if yes.button(f"Yes, roll back upload {batch}", type="primary", key="rollback_go"):
                try:
                    auth.rollback(view.conn, account, int(batch))
                except (store.StoreError, auth.PermissionDenied) as e:
                    st.session_state["cypp_rollback_result"] = ("error", f"Upload {batch} was not rolled back: {e}")
                else:
                    st.session_state["cypp_rollback_result"] = (
                        "ok", f"Upload {batch} ({loaded.loc[batch, 'file_name']}) has been rolled back: its "
                              "figures are gone and those it revised are back.")
                st.session_state["cypp_rollback_clear"] = True
                st.rerun()
            if no.button("Cancel", key="rollback_cancel"):
                st.session_state["cypp_rollback_clear"] = True
                st.rerun()
else:
    st.caption("Administrators can roll back an upload from here.")
