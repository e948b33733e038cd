"""The dashboard in a real browser (see ../shared/BROWSER_TESTS.md): the app on 127.0.0.1,
Debian's Chromium driven headless by Playwright, one test per page that changes a
parameter, runs, waits for the charts, checks no Streamlit exception is shown and saves
a screenshot under the test's temporary directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'

if not Path(CHROMIUM).exists():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests skipped outside CI",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer ok within {timeout} s")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    env = dict(os.environ, PMSIM_RESULTS_DIR=str(tmp_path_factory.mktemp("results")))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none", "--server.showEmailPrompt", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()  # end only the process this fixture started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1500, "height": 1000})
    yield pg
    pg.close()


def idle(pg, timeout: float = 60_000) -> None:
    pg.wait_for_selector(IDLE, timeout=timeout)


def open_page(pg, url: str, title: str) -> None:
    """Go to a page and wait until its script has run (its title is shown) and is idle."""
    pg.goto(url)
    pg.get_by_role("heading", name=title).wait_for(timeout=60_000)
    idle(pg)


def screenshot(pg, path: Path) -> Path:
    """Full page: first make the window as tall as Streamlit's scrolling main block."""
    height = pg.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    pg.set_viewport_size({"width": 1500, "height": int(height) + 120})
    time.sleep(0.3)  # let the charts re-fit the new window size before the capture
    pg.screenshot(path=str(path), full_page=True)
    return path


def no_exception(pg) -> None:
    assert pg.get_by_test_id("stException").count() == 0, pg.get_by_test_id("stException").all_inner_texts()


DRAWN = """n => {
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  return charts.length >= n && charts.every(c => [...c.querySelectorAll('canvas, svg.marks')]
      .some(el => el.getBoundingClientRect().width > 50 && el.getBoundingClientRect().height > 50));
}"""


def charts_drawn(pg, n: int, timeout: float = 30_000) -> None:
    """Wait until ``n`` charts are on the page and every one has drawn (a chart whose spec
    Vega rejects leaves an empty box, which this catches)."""
    pg.wait_for_function(DRAWN, arg=n, timeout=timeout)


def metric_values(pg) -> list[str]:
    return pg.get_by_test_id("stMetricValue").all_inner_texts()


# ----------------------------------------------------------------------------- pages
def group(pg, name: str) -> None:
    """Show one group of the Explore page's parameters."""
    pg.get_by_test_id("stButtonGroup").get_by_role("radio", name=name, exact=True).click()
    idle(pg)


def test_explore_in_the_browser(page, app_url, tmp_path):
    from playwright.sync_api import expect

    open_page(page, app_url, "Explore a scenario")
    page.get_by_test_id("stMetric").first.wait_for()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(4, timeout=30_000)
    charts_drawn(page, 4)
    # the PM's ownership to the maximum: the change alone re-runs the simulation
    thumb = page.get_by_test_id("stSlider").filter(has_text="Ownership").first.get_by_role("slider")
    thumb.focus()
    thumb.press("End")
    expect(thumb).to_have_value("1")
    page.wait_for_url(re.compile(r"pm\.ownership=1\.0(&|$)"), timeout=30_000)
    idle(page)
    # then the strategy
    group(page, "Strategy")
    page.get_by_test_id("stSelectbox").filter(has_text="Strategy").first.click()
    page.get_by_role("option", name=re.compile(r"^consultative")).click()
    page.wait_for_url(re.compile(r"pm\.strategy=consultative"), timeout=30_000)
    idle(page)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(4)
    charts_drawn(page, 4)
    no_exception(page)
    screenshot(page, tmp_path / "explore.png")
    page.set_viewport_size({"width": 1500, "height": 1000})
    # replay the network to day 0
    day = page.get_by_test_id("stSlider").filter(has_text="Replay the organisation").get_by_role("slider")
    day.focus()
    day.press("Home")
    expect(page.get_by_text("Organisation on day 0")).to_be_visible(timeout=15_000)
    idle(page)
    # the negotiation tab draws its two charts when opened
    page.get_by_role("tab", name="The negotiation").click()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(6, timeout=30_000)
    expect(page.get_by_text("Negotiation in utility space")).to_be_visible()
    idle(page)
    charts_drawn(page, 6)
    # an impossible combination and a broken upload: messages, no traceback, the edits kept
    group(page, "Project")
    horizon = page.get_by_test_id("stNumberInput").filter(has_text="Horizon").get_by_role("spinbutton")
    horizon.fill("30")
    horizon.press("Enter")
    errors = page.get_by_test_id("stAlertContentError")
    expect(errors.filter(has_text="horizon (30) must be at least")).to_be_visible(timeout=30_000)
    idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "broken.toml", "mimeType": "application/toml", "buffer": b"[pm]\nownership = 3\n"}])
    expect(errors.filter(has_text="pm.ownership = 3 is out of range")).to_be_visible(timeout=30_000)
    idle(page)
    no_exception(page)
    group(page, "PM")
    expect(thumb).to_have_value("1")  # the user's edits survived
    assert "pm.ownership=1.0" in page.url and "pm.strategy=consultative" in page.url
    screenshot(page, tmp_path / "explore_bad_input.png")


def test_compare_in_the_browser(page, app_url, tmp_path):
    from playwright.sync_api import expect

    open_page(page, f"{app_url}/compare", "Compare strategies")
    reps = page.get_by_test_id("stSlider").filter(has_text="Replications per variant").get_by_role("slider")
    reps.focus()
    reps.press("Home")
    for _ in range(4):
        reps.press("ArrowRight")
    expect(reps).to_have_value("6")
    expect(page.get_by_text("3 variant(s) x 6 replications = 18 runs")).to_be_visible(timeout=30_000)
    idle(page)
    page.get_by_role("button", name="Run comparison").click()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=60_000)
    idle(page)
    charts_drawn(page, 2)
    expect(page.get_by_text("All outcomes: mean [95% CI]")).to_be_visible()
    no_exception(page)
    screenshot(page, tmp_path / "compare.png")


TINY_EXPERIMENT = """name = "browser_tiny"
scenario = "baseline"
replications = 2
seed = 5
outcomes = ["delivered", "slip_days", "trust_change", "outcome"]
[factors]
"pm.ownership" = [0.2, 0.8]
"pm.strategy" = ["balanced", "pressure"]
"""


def test_experiments_in_the_browser(page, app_url, tmp_path):
    from playwright.sync_api import expect

    open_page(page, f"{app_url}/experiments", "Experiments")
    page.get_by_role("textbox", name="Experiment (TOML)").fill(TINY_EXPERIMENT)
    page.get_by_role("button", name="Run experiment").click()
    expect(page.get_by_test_id("stProgress")).to_contain_text("8 of 8 runs stored", timeout=60_000)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("browser_tiny: 8 of 8 runs stored")
    idle(page)
    page.get_by_role("tab", name="Browse results").click()
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=30_000)
    idle(page)
    charts_drawn(page, 2)
    no_exception(page)
    screenshot(page, tmp_path / "experiments.png")


def test_my_organisation_in_the_browser(page, app_url, tmp_path):
    from playwright.sync_api import expect

    open_page(page, f"{app_url}/my_organisation", "My organisation")
    expect(page.get_by_text("engineering led by Priya Raman")).to_be_visible(timeout=30_000)
    # Tom Becker (second row) gets more power than Priya Raman: he becomes engineering's lead.
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.get_by_test_id("glide-cell-1-1")).to_have_text("Tom Becker", timeout=30_000)
    row_height = 35  # Streamlit's data editor: a 35 px header, then 35 px rows

    def selected(col: int):  # the grid mirrors its selection in an accessible table
        return grid.get_by_test_id(f"glide-cell-{col}-1")

    box = grid.bounding_box()
    page.mouse.click(box["x"] + 60, box["y"] + 2 * row_height + row_height / 2)  # Tom Becker's name
    expect(selected(1)).to_have_attribute("aria-selected", "true")
    for col in (2, 3):  # -> department -> power
        page.keyboard.press("ArrowRight")
        expect(selected(col)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    editor = page.locator(".gdg-input")
    editor.fill("0.95")
    editor.press("Enter")
    expect(grid.get_by_test_id("glide-cell-3-1")).to_have_text("0.95", timeout=10_000)
    expect(page.get_by_text("engineering led by Tom Becker")).to_be_visible(timeout=30_000)
    idle(page)
    page.get_by_role("button", name="Run this organisation").click()
    expect(page.get_by_test_id("stMetric")).to_have_count(5, timeout=30_000)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2, timeout=30_000)
    idle(page)
    charts_drawn(page, 2)
    no_exception(page)
    screenshot(page, tmp_path / "my_organisation.png")
