"""The voice of children and young people: a plan's consultation results (its `voice:` section)
checked at start-up and turned into plain tables for the Voice page and its charts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

_TOP_KEYS = {"title", "as_of", "source", "responses_text", "responses", "tables", "questions", "caveats"}
_TABLE_KEYS = {"id", "title", "label", "rows", "caveat"}
_QUESTION_KEYS = {"question", "groups", "answers", "caveat"}


@dataclass(frozen=True)
class CountTable:
    """One breakdown of respondents (by type, district, gender, ...): label and count rows."""

    id: str
    title: str
    label: str
    rows: pd.DataFrame  # columns: label, count
    caveat: str = ""


@dataclass(frozen=True)
class Question:
    """One consultation question: which groups raised each answer (not how many people did)."""

    question: str
    groups: tuple[str, ...]
    answers: pd.DataFrame  # columns: answer, then one bool column per group
    caveat: str = ""


@dataclass(frozen=True)
class Voice:
    title: str
    as_of: str
    source: str
    responses_text: str
    responses: pd.DataFrame
    tables: tuple[CountTable, ...]
    questions: tuple[Question, ...]
    caveats: tuple[str, ...]


def check_voice(node: Any, fail: Callable[[str, str], None], path: str = "voice") -> None:
    """Refuse a malformed voice section at start-up: `fail(key path, message)` names the key."""
    if not isinstance(node, dict):
        fail(path, "must be a mapping of keys")
    _known(node, _TOP_KEYS, path, fail)
    for key in ("title", "source"):
        if not isinstance(node.get(key), str) or not node[key].strip():
            fail(f"{path}.{key}", "is missing (a required key)")
    _counts(node.get("responses", []), f"{path}.responses", fail)
    for i, table in enumerate(_list(node.get("tables", []), f"{path}.tables", fail)):
        p = f"{path}.tables[{i}]"
        if not isinstance(table, dict):
            fail(p, "must be a mapping of keys")
        _known(table, _TABLE_KEYS, p, fail)
        for key in ("id", "title", "label"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                fail(f"{p}.{key}", "is missing (a required key)")
        if "rows" not in table:
            fail(f"{p}.rows", "is missing (a required key)")
        _counts(table["rows"], f"{p}.rows", fail)
    for i, q in enumerate(_list(node.get("questions", []), f"{path}.questions", fail)):
        p = f"{path}.questions[{i}]"
        if not isinstance(q, dict):
            fail(p, "must be a mapping of keys")
        _known(q, _QUESTION_KEYS, p, fail)
        if not isinstance(q.get("question"), str) or not q["question"].strip():
            fail(f"{p}.question", "is missing (a required key)")
        groups = [str(g) for g in _list(q.get("groups"), f"{p}.groups", fail)]
        if not groups:
            fail(f"{p}.groups", "must list the groups asked")
        for j, a in enumerate(_list(q.get("answers", []), f"{p}.answers", fail)):
            pa = f"{p}.answers[{j}]"
            if not isinstance(a, dict) or not isinstance(a.get("answer"), str):
                fail(f"{pa}.answer", "is missing (a required key)")
            _known(a, {"answer", "groups"}, pa, fail)
            for g in _list(a.get("groups", []), f"{pa}.groups", fail):
                if str(g) not in groups:
                    fail(f"{pa}.groups", f'"{g}" is not one of the question\'s groups: ' + ", ".join(groups))
    for i, c in enumerate(_list(node.get("caveats", []), f"{path}.caveats", fail)):
        if not isinstance(c, str):
            fail(f"{path}.caveats[{i}]", "must be text")


def _known(node: dict, allowed: set[str], path: str, fail) -> None:
    for key in node:
        if key not in allowed:
            fail(f"{path}.{key}", "is not a key this dashboard knows (check its spelling); allowed: "
                 + ", ".join(sorted(allowed)))


def _list(value: Any, path: str, fail) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        fail(path, "must be a list")
    return value


def _counts(rows: Any, path: str, fail) -> None:
    for i, row in enumerate(_list(rows, path, fail)):
        p = f"{path}[{i}]"
        if not isinstance(row, dict):
            fail(p, "must be a mapping with label and count")
        _known(row, {"label", "count"}, p, fail)
        if not isinstance(row.get("label"), str) or not row["label"].strip():
            fail(f"{p}.label", "is missing (a required key)")
        count = row.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            fail(f"{p}.count", f"must be a whole number, 0 or more, not {count!r}")


def voice_of(plan) -> Voice | None:
    """The plan's consultation as tables, or None when the plan has no voice section."""
    node = plan.voice
    if not node:
        return None
    tables = tuple(CountTable(t["id"], t["title"], t["label"], _count_frame(t["rows"]), t.get("caveat") or "")
                   for t in node.get("tables") or [])
    questions = []
    for q in node.get("questions") or []:
        groups = tuple(str(g) for g in q["groups"])
        answers = pd.DataFrame([{"answer": a["answer"], **{g: g in [str(x) for x in a.get("groups") or []]
                                                          for g in groups}} for a in q.get("answers") or []],
                               columns=["answer", *groups])
        questions.append(Question(q["question"], groups, answers, q.get("caveat") or ""))
    return Voice(title=node["title"], as_of=str(node.get("as_of") or ""), source=node["source"],
                 responses_text=str(node.get("responses_text") or ""),
                 responses=_count_frame(node.get("responses") or []), tables=tables, questions=tuple(questions),
                 caveats=tuple(node.get("caveats") or []))


def _count_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"label": r["label"], "count": int(r["count"])} for r in rows], columns=["label", "count"])


def groups_long(question: Question) -> pd.DataFrame:
    """A question's answers as one row per answer and group, with whether that group raised it
    (what the grid chart draws; a group that did not raise an answer is kept as "not raised")."""
    df = question.answers.melt(id_vars="answer", var_name="group", value_name="raised")
    df["raised_text"] = df["raised"].map({True: "raised", False: "not raised"})
    df["groups_raising"] = df["answer"].map(question.answers.set_index("answer")[list(question.groups)].sum(axis=1))
    return df


def table_download(table: CountTable) -> pd.DataFrame:
    """A count table with the column names the page shows and downloads."""
    return table.rows.rename(columns={"label": table.label, "count": "Respondents"})


def question_table(question: Question) -> pd.DataFrame:
    """A question's grid with ✓ where a group raised the answer (word columns, for the table view)."""
    df = question.answers.copy()
    for g in question.groups:
        df[g] = df[g].map({True: "✓ raised", False: ""})
    return df.rename(columns={"answer": "Answer"})
