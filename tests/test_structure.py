"""The shape of the package: domain modules load without Streamlit, no module imports another in a
circle, and README's "How it is built" map names every module under cypp_dash/ (and nothing else)."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cypp_dash.config import ROOT

PACKAGE = ROOT / "cypp_dash"
# The web layer: the page frame and what it needs from Streamlit. Every other module is domain code.
WEB_LAYER = ("cypp_dash.web",)
# Importing it runs the command line (`python -m cypp_dash`).
ENTRY_POINT = "cypp_dash.__main__"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_web_layer(name: str) -> bool:
    return any(name == w or name.startswith(w + ".") for w in WEB_LAYER)


DOMAIN = sorted(n for n in MODULES if not is_web_layer(n) and n != ENTRY_POINT)


def loaded_modules(names: list[str]) -> list[str]:
    """Every module a fresh interpreter holds after importing `names`."""
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def streamlit_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m == "streamlit" or m.startswith("streamlit.")]


def test_every_domain_module_loads_without_streamlit():
    assert "cypp_dash.auth" in DOMAIN and "cypp_dash.actions" in DOMAIN and "cypp_dash.cli" in DOMAIN
    if streamlit_in(loaded_modules(DOMAIN)):
        culprits = [name for name in DOMAIN if streamlit_in(loaded_modules([name]))]
        pytest.fail(f"these domain modules load Streamlit (only web/ may): {culprits}")


def test_the_check_sees_streamlit_when_the_page_frame_loads_it():
    assert streamlit_in(loaded_modules(["cypp_dash.web.frame"]))


# --- imports between cypp_dash modules, read from the source -------------------------------------

def _resolve(target: str) -> str | None:
    """The cypp_dash module an import names (a name inside a module counts as that module)."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target if target and target != "cypp_dash" else None


def imports_of(path: Path, *, in_functions: bool) -> set[str]:
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), in_functions=in_functions)


def imports_in(source: str, own: str, *, in_functions: bool) -> set[str]:
    """The cypp_dash modules a module's source imports: at module level (run when it loads), and with
    `in_functions` also those imported inside functions."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not in_functions:
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(m for a in child.names if (m := _resolve(a.name)))
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    module = _resolve(f"{child.module}.{alias.name}") or _resolve(child.module)
                    if module:
                        found.add(module)
            visit(child)

    visit(ast.parse(source))
    found.discard(own)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path round each circle of imports (depth-first search; empty when there is none)."""
    found, state = [], {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            walk(start, [start])
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_import_reader_sees_module_level_and_function_level_imports():
    source = ("from cypp_dash import store, overview\nfrom cypp_dash.config import Config\nimport cypp_dash.periods\n"
              "from cypp_dash.web.session import current_account\nimport pandas\n"
              "class A:\n    from cypp_dash import charts\n"
              "def later():\n    from cypp_dash import export\n")
    module_level = {"cypp_dash.store", "cypp_dash.overview", "cypp_dash.config", "cypp_dash.periods",
                    "cypp_dash.web.session", "cypp_dash.charts"}
    assert imports_in(source, "cypp_dash.x", in_functions=False) == module_level
    assert imports_in(source, "cypp_dash.x", in_functions=True) == module_level | {"cypp_dash.export"}


def test_no_cypp_dash_module_imports_another_in_a_circle():
    graph = {name: imports_of(path, in_functions=False) for name, path in MODULES.items()}
    assert not cycles(graph), "imports in a circle: " + "; ".join(" -> ".join(c) for c in cycles(graph))


def test_no_import_inside_a_function_closes_a_circle():
    """An import moved into a function body would hide a circle from the test above; this one counts them too."""
    graph = {name: imports_of(path, in_functions=True) for name, path in MODULES.items()}
    assert not cycles(graph), "imports in a circle: " + "; ".join(" -> ".join(c) for c in cycles(graph))


# --- README's map -------------------------------------------------------------------------------

def readme_map() -> dict[str, str]:
    """{path: job} from the first code block under "## How it is built", its tree read by indentation."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## How it is built", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    entries: dict[str, str] = {}
    folders: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        name, _, job = line.strip().partition(" ")
        if "/" not in name and not name.endswith((".py", ".yaml", ".js")):
            continue  # a job's second line
        folders = [(i, f) for i, f in folders if i < indent]
        path = "".join(f for _, f in folders) + name
        entries[path] = job.strip()
        if name.endswith("/"):
            folders.append((indent, name))
    return entries


def test_the_readme_map_names_every_module_and_folder_of_the_package_with_its_job():
    entries = readme_map()
    wanted = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    wanted |= {p.relative_to(ROOT).as_posix() + "/" for p in PACKAGE.rglob("*") if p.is_dir()
               and (p / "__init__.py").exists()}
    missing = sorted(wanted - set(entries))
    assert not missing, f"README's 'How it is built' map leaves out {missing}"
    assert not [p for p in wanted if not entries[p]], "every entry says what the module is for"


def test_the_readme_map_names_no_module_that_is_not_there():
    named = [p for p in readme_map() if p.startswith("cypp_dash/")]
    assert named and not [p for p in named if not (ROOT / p).exists()]


@pytest.mark.parametrize("folder", ["tools", "benchmarks", "tests"])
def test_the_readme_map_names_the_folders_outside_the_package(folder):
    assert f"{folder}/" in readme_map()


# --- HTML comes from templates that escape by default ---------------------------------------------

HTML_TAG = re.compile(r"<(/?)(a|p|div|span|section|figure|img|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|td|th|caption|"
                      r"strong|em|br|h[1-6])\b", re.I)


def html_in_strings(source: str) -> list[str]:
    """String literals (f-strings' text included, docstrings left out) that hold an HTML tag."""
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and HTML_TAG.search(node.value)]


def test_no_module_or_page_builds_html_in_python_strings():
    """Every HTML piece is a template in cypp_dash/web/templates/ drawn with autoescape (cypp_dash/web/render.py):
    HTML glued together in Python is safe only while every caller remembers to escape."""
    files = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "pages").glob("*.py"))
    found = {f.relative_to(ROOT).as_posix(): html_in_strings(f.read_text(encoding="utf-8")) for f in files}
    assert not {f: s for f, s in found.items() if s}


def test_the_html_check_sees_html_built_in_an_f_string_but_not_in_a_docstring():
    assert html_in_strings('"""An <img> of the chart."""\nx = f"<td>{v}</td>"\n') == ["<td>", "</td>"]
    assert html_in_strings('"""An <img> of the chart."""\nx = "a < b"\n') == []


def test_every_template_escapes_by_default():
    from cypp_dash.web.render import render

    hostile = "<script>alert(1)</script>"
    assert "<script>" not in render("paragraph.html", text=hostile, css="cypp-small")
    assert "&lt;script&gt;" in render("paragraph.html", text=hostile, css="")
