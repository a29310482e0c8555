"""The console in a real browser (Chromium through Selenium and the system's chromedriver): a
teacher builds the default workbook and downloads it (it passes the check), makes a class of
five from a roster, grades three submissions and reads the gradebook table.

Skipped where Chromium is absent, run under CI=true (.ci/run installs it). With
SHEETNET_SCREENSHOTS=docs/img the same run saves a screenshot of every page in both languages
(docs/console.md shows them).
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import sheetnet
from tests.conftest import CHROMEDRIVER, CHROMIUM, needs_chromium
from tests.test_class import answers_of, fill

pytestmark = needs_chromium

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")
ROSTER = "id,name\ns01,Ann Lee\ns02,Bo Chen\ns03,王小明\ns04,Dee Roy\ns05,Eli Ito\n"
SHOTS = os.environ.get("SHEETNET_SCREENSHOTS")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The console served by uvicorn on a free loopback port, as `sheetnet serve` runs it."""
    import uvicorn

    from sheetnet.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    assert not app.state.console.store.root.exists()  # the uploads' folder went with the server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    root = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={root / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(root / "downloads"), "download.prompt_for_download": False,
        "intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(root / "downloads")})
    driver.downloads = root / "downloads"
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(check: Callable[[], Any], timeout: float = 240) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            found = check()
        except Exception:  # the page is reloading under the script
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def download(driver: Any, name: str) -> Path:
    """Click the page's download link for name and wait for the whole file."""
    target = driver.downloads / name
    target.unlink(missing_ok=True)
    css(driver, f'a[href^="/download/{name}"]')[0].click()
    return wait_for(lambda: target if target.is_file() and target.stat().st_size else None, 60)


def shot(driver: Any, name: str) -> None:
    """A full-page screenshot into $SHEETNET_SCREENSHOTS (docs/img), when asked for."""
    if not SHOTS:
        return
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"])
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1280, "height": min(height, 2400), "scale": 1}})
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    (Path(SHOTS) / f"console-{name}.png").write_bytes(base64.b64decode(data["data"]))


def test_a_teachers_term_in_the_browser(server: str, browser: Any, tmp_path: Path) -> None:
    driver = browser
    # Build: the default template's workbook, downloaded, passes the check.
    driver.get(f"{server}/build")
    assert css(driver, "svg.net circle") and len(css(driver, "svg.net circle")) == 6
    css(driver, "#run")[0].click()
    wait_for(lambda: css(driver, 'a[href^="/download/workbook.xlsx"]'))
    workbook = download(driver, "workbook.xlsx")
    report = sheetnet.check(workbook)
    assert report.ok and report.cells > 1000
    shot(driver, "build-en")
    ws = driver.find_element("css selector", "body").get_attribute("data-ws")

    # Class: five students from a roster; the class zip downloaded for their files.
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    driver.get(f"{server}/class?ws={ws}")
    css(driver, 'input[name="roster"]')[0].send_keys(str(roster))
    css(driver, 'input[name="secret"]')[0].send_keys("browser-secret-1234")
    css(driver, "#run")[0].click()
    made = wait_for(lambda: css(driver, "p.ok"))
    assert "5 students" in made[0].text
    assert "browser-secret-1234" not in driver.page_source
    shot(driver, "class-en")
    with zipfile.ZipFile(download(driver, "class.zip")) as z:
        z.extractall(tmp_path)
    folder = tmp_path / "class"

    # Grade: three submissions (all right, all ×1.1, blank); the gradebook read from the table.
    keys = answers_of(folder)
    answers = {"s01": keys["s01"], "s02": {k: v * 1.1 for k, v in keys["s02"].items()}, "s03": {}}
    files = [fill(folder, sid, tmp_path / f"{sid}.xlsx", a) for sid, a in answers.items()]
    driver.get(f"{server}/grade?ws={ws}")
    css(driver, 'input[name="submissions"]')[0].send_keys("\n".join(map(str, files)))
    css(driver, "#run")[0].click()
    wait_for(lambda: css(driver, "#gradebook tbody tr"))
    head = [th.text for th in css(driver, "#gradebook thead th")]
    rows = {r[0]: r for r in ([td.text for td in tr.find_elements("css selector", "td")]
                              for tr in css(driver, "#gradebook tbody tr"))}
    n = int(rows["s01"][head.index("max")])
    assert rows["s01"][head.index("percent")] == "100.0" and rows["s01"][head.index("score")] == str(n)
    assert rows["s03"][head.index("score")] == "0" and rows["s04"][head.index("score")] == ""
    assert 0 < float(rows["s02"][head.index("percent")]) < 100 or rows["s02"][head.index("score")] == "0"
    # sortable: a click on "score" orders the rows by it
    css(driver, f'#gradebook th[data-col="{head.index("score")}"]')[0].click()
    scores = [tr.find_elements("css selector", "td")[head.index("score")].text
              for tr in css(driver, "#gradebook tbody tr")]
    numbers = [float(s) for s in scores if s]
    assert numbers == sorted(numbers) and numbers[-1] == n
    shot(driver, "grade-en")
    feedback = feedback_of(driver, "s02")
    assert "wrong" in feedback and "Ann Lee" not in feedback
    shot(driver, "feedback-en")

    # Check: the downloaded workbook uploaded, its report per sheet and group.
    driver.get(f"{server}/check?ws={ws}")
    css(driver, 'input[name="workbook"]')[0].send_keys(str(workbook))
    css(driver, "#run")[0].click()
    verdict = wait_for(lambda: css(driver, "#verdict"))
    assert verdict[0].text.startswith("OK") and f"{report.cells:,}" in verdict[0].text
    groups = [tr.find_elements("css selector", "td")[1].text for tr in css(driver, "#check-report tbody tr")]
    assert groups == report.listed()
    shot(driver, "check-en")

    # Practice exercise, and every page in Chinese through the language switch.
    driver.get(f"{server}/exercise?ws={ws}")
    shot(driver, "exercise-en")
    for page in ("build", "exercise", "class", "grade", "check"):
        driver.get(f"{server}/{page}?ws={ws}")
        css(driver, "#lang-switch")[0].click()
        wait_for(lambda: driver.find_element("css selector", "html").get_attribute("lang") == "zh-CN")
        shot(driver, f"{page}-zh")
        css(driver, "#lang-switch")[0].click()
        wait_for(lambda: driver.find_element("css selector", "html").get_attribute("lang") == "en")
    driver.get(f"{server}/grade?ws={ws}&lang=zh")
    assert "错" in feedback_of(driver, "s02")
    shot(driver, "feedback-zh")
    driver.get(f"{server}/grade?ws={ws}&lang=en")


def feedback_of(driver: Any, sid: str) -> str:
    """Open a student's feedback from the gradebook's row, as a teacher clicks it; its text."""
    row = next(tr for tr in css(driver, "#gradebook tbody tr") if tr.text.startswith(sid))
    row.find_element("css selector", "a").click()
    return wait_for(lambda: css(driver, "table.feedback") and css(driver, "main")[0].text)
