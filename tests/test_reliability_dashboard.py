"""Dashboard safety (issue 8, item 5).

* Uploaded files are parsed as data only (TOML with tomllib, CSV with the csv module):
  code, pickles, YAML tags, templates and formula cells are never evaluated.
* `pmsim dashboard` binds to 127.0.0.1 only, and its server refuses bodies above the
  upload cap.
* Nothing lets a user read or write outside the project's results folder: experiment and
  result names, scenario references and links are confined.
"""

from __future__ import annotations

import ast
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from proc_helpers import children
from reliability_cases import case, register
from streamlit.testing.v1 import AppTest

from sim.batch.spec import ExperimentError
from sim.limits import MAX_UPLOAD_BYTES
from sim.scenarios import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ROOT / "dashboard" / "views"
SENTINEL_NAME = "pmsim-pwned"


class Exploit:
    """Unpickling this would create the sentinel file."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def payloads(sentinel: Path) -> dict[str, bytes]:
    """Files that would create ``sentinel`` if anything evaluated them."""
    t = str(sentinel)
    return {
        "python code": f"__import__('os').system('touch {t}')\n".encode(),
        "code in TOML strings": (f'name = "__import__(\'os\').system(\'touch {t}\')"\n'
                                 f'description = "{{{{ self.__init__.__globals__ }}}} $(touch {t}) `touch {t}`"\n'
                                 f'[pm]\nstrategy = "balanced"\n').encode(),
        "pickle": pickle.dumps(Exploit(t)),
        "YAML python tag": f"!!python/object/apply:os.system ['touch {t}']\n".encode(),
        "extends outside": b'extends = "../../../../etc/passwd"\n',
        "extends absolute": b'extends = "/etc/passwd"\n',
        "extends a table": b'extends = {file = "/etc/passwd"}\n',
        "deep nesting": b"x = " + b"[" * 3000 + b"]" * 3000,
        "NUL bytes": b"[pm]\x00ownership = 1\n",
        "Latin-1": "[pm]\nstrategy = \"équipe\"\n".encode("latin-1"),
    }


def csv_payloads(sentinel: Path) -> dict[str, bytes]:
    t = str(sentinel)
    head = "name,department,power,interest,attitude,listens_to\n"
    return {
        "formula cells": (head + f"=cmd|' /C touch {t}'!A0,engineering,high,high,neutral,\n"
                          f"@SUM(1+1),engineering,0.5,+1,-1,=cmd|' /C touch {t}'!A0\n").encode(),
        "code cells": (head + f"__import__('os').system('touch {t}'),engineering,1,1,neutral,\n").encode(),
        "pickle": pickle.dumps(Exploit(t)),
        "ragged rows": (head + "A,engineering,1,1,neutral,,\nB,engineering,1,1,neutral\n").encode(),
        "oversized cell": (head + "A" * 200_000 + ",engineering,1,1,neutral,\n").encode(),
    }


def no_trouble(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# --------------------------------------------------------------------------- data only
@case("dashboard", "scenario uploads on the Explore page (AppTest): Python code, code/templates/shell "
      "substitutions inside TOML strings, a pickle that runs a shell command, a YAML python tag, extends "
      "pointing outside the library (relative, absolute, a table), 3000-deep nesting, NUL bytes, Latin-1",
      "each is refused with an st.error line or accepted as plain data (strings kept verbatim); nothing is "
      "executed (a sentinel file is never created); the page keeps working", count=10)
def test_explore_uploads_are_data_only(tmp_path):
    sentinel = tmp_path / SENTINEL_NAME
    at = AppTest.from_file(str(VIEWS / "explore.py"), default_timeout=90).run()
    no_trouble(at)
    for label, data in payloads(sentinel).items():
        at.file_uploader(key="upload").set_value((f"{label}.toml", data, "application/toml"))
        at.run()
        no_trouble(at)
        assert not sentinel.exists(), f"{label}: the upload was executed"
        errors = [e.value for e in at.error]
        if label == "code in TOML strings":
            assert not errors, errors
            sc = at.session_state["uploads"]["uploaded: " + f"__import__('os').system('touch {sentinel}')"]
            assert "{{ self.__init__.__globals__ }}" in sc.description and "$(touch" in sc.description
        else:
            assert errors and any("Could not use the uploaded file" in e for e in errors), (label, errors)
            assert all("\n" not in e.split(": ", 1)[1] for e in errors)
    assert at.metric, "the page stopped showing its run"


@case("dashboard", "an upload of MAX_UPLOAD_BYTES + 1 bytes on the Explore page, then a valid upload",
      "st.error naming MAX_UPLOAD_BYTES within seconds; the next (valid) upload is used: the app stays "
      "responsive", count=1)
def test_oversized_upload_is_refused_and_the_app_stays_responsive():
    at = AppTest.from_file(str(VIEWS / "explore.py"), default_timeout=90).run()
    t0 = time.perf_counter()
    at.file_uploader(key="upload").set_value(("big.toml", b"#" * (MAX_UPLOAD_BYTES + 1), "application/toml"))
    at.run()
    assert time.perf_counter() - t0 < 30
    no_trouble(at)
    assert any("MAX_UPLOAD_BYTES" in e.value for e in at.error), [e.value for e in at.error]
    at.file_uploader(key="upload").set_value(("fine.toml", b'extends = "baseline"\n[pm]\nownership = 0.9\n',
                                              "application/toml"))
    at.run()
    no_trouble(at)
    assert not at.error and at.session_state["scenario_name"] == "uploaded: fine"


@case("dashboard", "stakeholder-map uploads on the My organisation page (AppTest): spreadsheet formula "
      "cells (=cmd|..., @SUM, +1), Python code in cells, a pickle, ragged rows, a 200,000-character cell",
      "refused with an st.error line or loaded as text exactly as written (formulas are not evaluated); no "
      "sentinel file; no exception", count=5)
def test_map_uploads_are_data_only(tmp_path):
    sentinel = tmp_path / SENTINEL_NAME
    at = AppTest.from_file(str(VIEWS / "my_organisation.py"), default_timeout=90).run()
    no_trouble(at)
    for label, data in csv_payloads(sentinel).items():
        at.file_uploader(key="org_upload").set_value((f"{label}.csv", data, "text/csv"))
        at.run()
        no_trouble(at)
        assert not sentinel.exists(), f"{label}: the upload was executed"
        table = at.session_state["org_map"]
        if label == "formula cells":
            assert table["name"].tolist()[0] == f"=cmd|' /C touch {sentinel}'!A0"
            assert table["listens_to"].tolist()[1] == f"=cmd|' /C touch {sentinel}'!A0"
        if label == "ragged rows":
            assert table["name"].tolist() == ["A", "B"] and table["department"].tolist() == ["engineering"] * 2


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
FORBIDDEN_ATTRS = {("pickle", "load"), ("pickle", "loads"), ("marshal", "loads"), ("marshal", "load"),
                   ("yaml", "load"), ("yaml", "unsafe_load"), ("os", "system"), ("os", "popen"),
                   ("dill", "loads"), ("cloudpickle", "loads"), ("shelve", "open"), ("pd", "read_pickle"),
                   ("pandas", "read_pickle"), ("np", "load"), ("numpy", "load")}


def test_no_code_evaluating_calls_in_the_engine_or_the_dashboard():
    """Static check: nothing in sim/ or dashboard/ can evaluate data as code, and every
    subprocess is started with an argument list (no shell)."""
    problems = []
    for path in sorted([*ROOT.glob("sim/**/*.py"), *ROOT.glob("dashboard/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            literal = node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
            if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS and not (f.id == "__import__" and literal):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {f.id}()")
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in FORBIDDEN_ATTRS:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {f.value.id}.{f.attr}()")
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: shell=...")
    assert not problems, problems


# --------------------------------------------------------------------------- binding
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses of TCP sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, p = fields[1].split(":")
            if int(p, 16) == port and fields[3] == "0A":  # LISTEN
                if len(addr) == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
                else:
                    raw = bytes.fromhex(addr)
                    found.add(socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))
    return found


def other_address() -> str | None:
    """This machine's address on its default route (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


@case("dashboard", "`pmsim dashboard` started as a user would (real Streamlit server): its listening "
      "sockets, a connection to the machine's non-loopback address, the server's upload cap",
      "listens on 127.0.0.1 only (no 0.0.0.0 / ::); the non-loopback address is refused; the server runs with "
      "server.maxUploadSize 1 (MB), so Streamlit itself answers 413 to bigger bodies before the app's exact "
      "byte check", count=3)
def test_pmsim_dashboard_listens_on_loopback_only():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.2)
        assert listening_addresses(port) == {"127.0.0.1"}
        ip = other_address()
        if ip is not None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(3)
                assert s.connect_ex((ip, port)) != 0, f"the dashboard answers on {ip}"
        cmdline = [Path(f"/proc/{k}/cmdline").read_bytes().split(b"\0") for k in children(proc.pid)]
        server = [c for c in cmdline if b"streamlit" in c]
        assert server, "no streamlit server process under pmsim dashboard"
        args = [a.decode() for a in server[0]]
        assert args[args.index("--server.maxUploadSize") + 1] == "1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the process group this test started (pmsim and its server)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_dashboard_command_line_is_local_by_default(capsys):
    from sim.cli import main

    with pytest.raises(SystemExit) as code:
        main(["dashboard", "--dry-run"])
    out = capsys.readouterr().out
    assert code.value.code == 0
    assert "--server.address 127.0.0.1" in out and "--server.maxUploadSize 1" in out


# --------------------------------------------------------------------------- paths
TRAVERSALS = ["..", ".", "", "../x", "../../etc", "/etc", "/", "a/../../b", "x\\..\\y", "..\\..", "~", "~root",
              "a\x00b", "%2e%2e", "%2e%2e%2fetc", "\u2025", "．．", "x" * 5000, " ..", ".. ", "results/../..",
              "link_out"]


@case("dashboard", f"result/experiment names used as folders: {len(TRAVERSALS)} traversal attempts ('..', "
      "absolute paths, backslashes, NUL, URL-encoded and Unicode dots, 5000 characters, a symlink inside "
      "results/ that points outside) plus 100 random names",
      "ExperimentError, or a folder that resolves inside the results folder", count=len(TRAVERSALS) + 100)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.lists(st.sampled_from([".", "/", "\\", "~", "%2e", "\x00", "a", "_", "-", "..", "\u2025", "results"]), max_size=8).map("".join))
@example(name="..")
def test_result_names_stay_inside_the_results_folder(tmp_path_factory, monkeypatch, name):
    from dashboard.experiments import results_dir_for

    root = tmp_path_factory.mktemp("results")
    outside = tmp_path_factory.mktemp("outside")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("PMSIM_RESULTS_DIR", str(root))
    for candidate in [name, *TRAVERSALS]:
        try:
            folder = results_dir_for(candidate)
        except (ExperimentError, ValueError):
            continue
        resolved = folder.resolve()
        assert resolved != root.resolve() and resolved.is_relative_to(root.resolve()), (candidate, resolved)


EXPERIMENT_REFS = [
    ('scenario = "../../../etc/passwd.toml"', "outside"),
    ('scenario = "/etc/hostname"', "outside"),
    ('scenario = "baseline"\n[factors]\nscenario = ["baseline", "/tmp/elsewhere.toml"]', "outside"),
    ('scenario = "baseline"\n[design]\nmethod = "lhs"\nsamples = 2\n[factors]\n'
     'scenario = {values = ["baseline", "../../../../tmp/elsewhere.toml"]}\n"pm.ownership" = {low = 0, high = 1}',
     "outside"),
    ('name = ".."\nscenario = "baseline"', "results folder"),
]


@case("dashboard", "edited experiments on the Experiments page naming scenarios outside the project "
      "(relative ../, absolute, inside a scenario factor list, inside a scenario choice) or the name '..'",
      "ExperimentError before any file outside the project is read or any folder is written", count=len(EXPERIMENT_REFS))
@pytest.mark.parametrize("body,message", EXPERIMENT_REFS)
def test_experiment_scenarios_outside_the_project_are_refused(tmp_path, monkeypatch, body, message):
    from dashboard.experiments import check_experiment

    monkeypatch.setenv("PMSIM_RESULTS_DIR", str(tmp_path / "results"))
    text = body if body.startswith("name") else f'name = "probe"\n{body}\n'
    with pytest.raises(ExperimentError, match=message):
        check_experiment(text, source="edited")
    assert not (tmp_path / "results").exists()


@case("dashboard", "links to the Explore page naming scenarios by path (?scenario=../../etc/passwd, "
      "?scenario=/etc/passwd)", "the link's scenario is ignored with a note; the library default is shown",
      count=2)
@pytest.mark.parametrize("ref", ["../../etc/passwd", "/etc/passwd"])
def test_links_cannot_name_files(ref):
    at = AppTest.from_file(str(VIEWS / "explore.py"), default_timeout=90)
    at.query_params["scenario"] = ref
    at.run()
    no_trouble(at)
    assert at.session_state["scenario_name"] == "baseline"


def test_uploads_cannot_reach_files(tmp_path):
    from dashboard.library import parse_upload

    secret = tmp_path / "secret.toml"
    secret.write_text('[pm]\nownership = 0.123\n')
    for ext in (str(secret), "../" * 12 + str(secret).lstrip("/"), secret.name, "baseline/../secret"):
        with pytest.raises(ScenarioError, match="may only extend a library scenario"):
            parse_upload(f'extends = "{ext}"\n'.encode(), "x.toml")


register("dashboard", "starting a fresh sweep of an experiment whose results folder holds no manifest, or "
         "that is a symlink out of results/", "refused: only folders inside results/ that hold a pmsim "
         "manifest are ever deleted", count=2, test="tests/test_reliability_dashboard.py::test_fresh_start_deletes_only_results")


def test_fresh_start_deletes_only_results(tmp_path, monkeypatch):
    from dashboard.experiments import check_experiment, results_dir_for, start_sweep

    root = tmp_path / "results"
    root.mkdir()
    monkeypatch.setenv("PMSIM_RESULTS_DIR", str(root))
    precious = root / "probe"
    precious.mkdir()
    (precious / "thesis.txt").write_text("not results")
    prepared = check_experiment('name = "probe"\nscenario = "default"\n', source="edited")
    with pytest.raises(ExperimentError):
        start_sweep(prepared, fresh=True)
    assert (precious / "thesis.txt").read_text() == "not results"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}")
    (root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ExperimentError):
        results_dir_for("evil")
    assert (outside / "manifest.json").exists()
