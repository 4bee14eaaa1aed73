"""The Dagster UI in a real headless Chromium: the asset graph and release_gate's report for one partition.

Materializes partition r1 of a small archive-backed release history into a real instance, serves it with
`dagster-webserver` on loopback, and drives Debian's chromium through chromedriver. Screenshots are kept
in var/artifacts/ui/ for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.webserver import REPO, Webserver, dagster_webserver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Debian's /usr/bin/chromium is a shell wrapper that adds flags of its own (extensions, GPU rasterization);
# the browser binary behind it takes exactly the flags given here.
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")
ARTIFACTS = REPO / "var" / "artifacts" / "ui"
PARTITION = "r1"
ASSETS = (
    "deidentified_conversations",
    "conversation_sample",
    "regenerated_responses",
    "evaluator_scores",
    "eval_awareness_report",
    "behavior_rates",
    "backtest_calibration",
    "release_gate",
)
# The graph draws full asset names only at a zoom of 0.6 or more, so the window must fit the whole
# expanded graph at that zoom; narrower, nodes shrink to middle-truncated labels.
GRAPH_WINDOW = (2560, 1200)
PAGE_WINDOW = (1600, 1600)
WAIT = 60.0
# Dagster renders a markdown metadata entry, once opened, inside a dialog.
REPORT = "[role='dialog'] .dagster-markdown"
REPORT_TABLE = f"{REPORT} table"

try:
    from selenium import webdriver
    from selenium.common.exceptions import (
        StaleElementReferenceException,
        TimeoutException,
        WebDriverException,
    )
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    SELENIUM_MISSING = ""
except ImportError as error:  # the default test run collects this module without selenium
    SELENIUM_MISSING = f"selenium is not installed ({error})"


def _require_browser() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        problem = f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver"
    elif SELENIUM_MISSING:
        problem = SELENIUM_MISSING
    else:
        return
    # CI installs all of them, and there a skip would hide a broken install step.
    if os.environ.get("CI"):
        pytest.fail(problem)
    pytest.skip(problem)


def _materialize(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Partition r1 in a real instance under a fresh DAGSTER_HOME; returns the environment and the gate."""
    import dagster as dg

    from orchestration.definitions import build_defs
    from orchestration.settings import from_environment
    from tests.support.history_world import build

    world = tmp_path / "world"
    world.mkdir()
    env = build(world, releases=2)
    home = tmp_path / "dagster_home"
    home.mkdir()
    # No telemetry, and no first-visit newsletter dialog over the pages under test.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    env["DAGSTER_HOME"] = str(home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    defs = build_defs(from_environment())
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("model_versions", [PARTITION])
        result = defs.resolve_job_def("deployment_simulation_job").execute_in_process(
            partition_key=PARTITION,
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False,
        )
        assert result.success, f"materializing {PARTITION} failed in run {result.run_id}"
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("release_gate"), asset_partitions=[PARTITION]),
            limit=1,
        ).records
        assert records, f"no release_gate materialization for {PARTITION}"
        metadata = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
    return env, metadata


def _browser(profile: Path, log: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM_BINARY if CHROMIUM_BINARY.exists() else CHROMIUM)
    # The machine reaches nothing but package registries: no background fetches, updates or sync.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={PAGE_WINDOW[0]},{PAGE_WINDOW[1]}",
    ):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager is never run, so nothing is downloaded.
    service = Service(str(CHROMEDRIVER), log_output=str(log))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = _browser(tmp_path / "chromium-profile", ARTIFACTS / "chromedriver.log")
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, what: str, condition: Callable[[WebDriver], Any], timeout: float = WAIT) -> Any:
    # React re-renders replace elements between finding and reading them; that is a retry, not a failure.
    ignored = [StaleElementReferenceException]
    wait = WebDriverWait(driver, timeout, poll_frequency=0.25, ignored_exceptions=ignored)
    return wait.until(
        condition, message=f"timed out after {timeout:.0f}s waiting for {what} on {driver.current_url}"
    )


def _graph_labels(driver: WebDriver) -> set[str]:
    # Node labels live in <foreignObject> elements inside the graph's SVG, not in the sidebar tree.
    return {
        element.text.strip()
        for element in driver.find_elements(By.XPATH, "//*[local-name()='foreignObject']//div[text()]")
    }


def _graph_loaded(driver: WebDriver) -> bool:
    """Every asset's node is drawn with its full name and its live data (latest event, partitions)."""
    if not set(ASSETS) <= _graph_labels(driver):
        return False
    nodes = driver.find_elements(By.XPATH, "//*[local-name()='foreignObject']")
    return not any("Loading" in node.text for node in nodes)


def _screenshot(driver: WebDriver, name: str) -> Path:
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), f"chromium could not write {path}"
    return path


def _cell(driver: WebDriver, key: str) -> str:
    """The value beside `key` in an asset event's metadata table."""
    row = driver.find_element(By.XPATH, f"//table//tr[td[1][normalize-space()='{key}']]")
    return row.find_elements(By.TAG_NAME, "td")[1].text.strip()


def _expand_all_groups(driver: WebDriver) -> None:
    """With several groups the graph opens with every group collapsed; expand them with the UI's own
    "Expand all groups" shortcut (Alt+E), once the group boxes are drawn and so listen for it."""
    groups = {"ingestion", "simulation", "evaluation", "release"}
    _wait(driver, f"the collapsed groups {sorted(groups)}", lambda d: groups <= _graph_labels(d))
    for _ in range(3):
        ActionChains(driver).key_down(Keys.ALT).send_keys("e").key_up(Keys.ALT).perform()
        try:
            # Any label besides the groups' is an asset node: expanded. The shortcut toggles, so it is
            # pressed again only while nothing has expanded.
            _wait(driver, "the groups to expand", lambda d: _graph_labels(d) - groups, timeout=10)
            return
        except TimeoutException:
            continue
    raise AssertionError(f"Alt+E did not expand the asset groups on {driver.current_url}")


def _check_asset_graph(driver: WebDriver, server: Webserver) -> Path:
    driver.set_window_size(*GRAPH_WINDOW)
    driver.get(f"{server.url}/asset-groups")
    _wait(driver, "the 'Global asset lineage' page", lambda d: "Global asset lineage" in d.title)
    _expand_all_groups(driver)
    try:
        _wait(driver, "every asset's node in the graph, loaded", _graph_loaded)
    except TimeoutException as error:
        path = _screenshot(driver, "asset_graph.png")
        missing = sorted(set(ASSETS) - _graph_labels(driver))
        raise AssertionError(f"asset graph lacks {missing} or is still loading; see {path}") from error
    return _screenshot(driver, "asset_graph.png")


def _check_partition_page(driver: WebDriver, server: Webserver, gate: dict[str, Any]) -> list[Path]:
    driver.set_window_size(*PAGE_WINDOW)
    driver.get(f"{server.url}/assets/release_gate?view=partitions&partition={PARTITION}")
    # The partition's detail pane titles itself with the key and lists the latest materialization.
    _wait(
        driver,
        f"partition {PARTITION}'s latest materialization",
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, f"[title='{PARTITION}']")
            and "Latest materialization" in d.find_element(By.TAG_NAME, "body").text
            and d.find_elements(By.XPATH, "//table//td[normalize-space()='report']")
        ),
    )
    shots = [_screenshot(driver, f"release_gate_{PARTITION}.png")]
    assert _cell(driver, "model_version") == PARTITION
    assert _cell(driver, "verdict") == gate["verdict"]

    driver.find_element(
        By.XPATH, "//table//tr[td[1][normalize-space()='report']]//a[normalize-space()='[Show Markdown]']"
    ).click()
    table: WebElement = _wait(
        driver,
        "the report's markdown rendered as a table",
        lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, REPORT_TABLE)), False),
    )
    dialog = driver.find_element(By.CSS_SELECTOR, REPORT)
    shots.append(_screenshot(driver, f"release_gate_{PARTITION}_report.png"))

    heading = dialog.find_element(By.TAG_NAME, "h2").text
    expected = f"Release gate: {PARTITION} (prior {gate['prior_version']}) - {gate['verdict'].upper()}"
    assert heading == expected, f"report heading {heading!r}, expected {expected!r}"
    assert "|---" not in dialog.text, "the report is shown as raw markdown, not rendered"
    headers = [th.text.strip() for th in table.find_elements(By.TAG_NAME, "th")]
    assert headers[0] == "category" and headers[-1] == "verdict", f"gate table headers {headers}"
    rows = {
        cells[0].text.strip(): cells[-1].text.strip()
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        if (cells := row.find_elements(By.TAG_NAME, "td"))
    }
    for category in gate["gate"]["categories"]:
        name, verdict = category["category"], category["verdict"]
        assert name in rows, f"gate table has no row for {name!r}: {sorted(rows)}"
        assert rows[name].startswith(verdict), f"{name}: rendered verdict {rows[name]!r}, expected {verdict}"
    return shots


def test_asset_graph_and_release_gate_report_render_in_chromium(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, browser: WebDriver
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("*.png"):
        stale.unlink()
    env, gate = _materialize(monkeypatch, tmp_path)
    assert gate["gate"]["categories"], "the gate has no category to look for in the UI"

    with dagster_webserver({**os.environ, **env}, ARTIFACTS / "webserver.log") as server:
        try:
            shots = [_check_asset_graph(browser, server), *_check_partition_page(browser, server, gate)]
        except (AssertionError, WebDriverException) as error:
            browser.save_screenshot(str(ARTIFACTS / "failure.png"))
            raise AssertionError(
                f"{error}\nscreenshots in {ARTIFACTS}; webserver log {server.log}:\n{server.log_tail()}"
            ) from error

    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, f"{shot} looks empty"
        print(f"screenshot: {shot.relative_to(REPO)}")
