"""The map page (``GET /viewer``) in headless Chromium: it loads without console errors, a job submitted
from it finishes, its tiles are not blank and its legend and downloads are shown.  Skipped, saying why,
where Selenium, Chromium or its driver is missing (as the report's browser test)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.api_server import USERS, bbox

INSTALL = "apt-get install chromium chromium-driver (and pip install selenium)"
PIXELS = """
const img = arguments[0];
const canvas = document.createElement('canvas');
canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
const ctx = canvas.getContext('2d');
ctx.drawImage(img, 0, 0);
const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
let n = 0, sum = 0, sum2 = 0;
for (let i = 0; i < data.length; i += 4) {
  if (data[i + 3] === 0) continue;
  const v = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
  n += 1; sum += v; sum2 += v * v;
}
const mean = n ? sum / n : 0;
return {opaque: n, variance: n ? sum2 / n - mean * mean : 0};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason=f"selenium is not installed: {INSTALL}")
    binary = next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None
    )
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip(f"no headless browser for the viewer test: {INSTALL}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


def _wait(condition, seconds: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_viewer_submits_a_job_and_shows_its_tiles(browser, api):
    from selenium.webdriver.common.by import By

    browser.get(f"{api.url}/viewer")
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#collection option"), 20, "the collections")
    browser.find_element(By.ID, "user").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(USERS["alice"])
    browser.find_element(By.ID, "login-button").click()
    _wait(lambda: "logged in" in browser.find_element(By.ID, "login-state").text, 20, "the login")
    box = bbox()
    browser.execute_script(
        "setArea(arguments[0], arguments[1], arguments[2], arguments[3]);"
        "document.getElementById('start').value = '2021-07-01';"
        "document.getElementById('end').value = '2021-07-31';",
        box["west"],
        box["south"],
        box["east"],
        box["north"],
    )
    browser.find_element(By.ID, "submit").click()
    _wait(lambda: "finished" in browser.find_element(By.ID, "status").text, 90, "the job")
    links = browser.find_elements(By.CSS_SELECTOR, "#assets a")
    assert any(a.text.endswith("_B04.tif") for a in links)
    download = next(a for a in links if a.text.endswith("_B04.tif")).get_attribute("href")
    assert requests.get(download, timeout=10).status_code == 200  # the link carries the token
    tiles = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "img.leaflet-tile-loaded"), 30, "tiles")
    stats = [browser.execute_script(PIXELS, tile) for tile in tiles]
    assert any(s["opaque"] > 100 and s["variance"] > 1 for s in stats), stats
    assert "…" in browser.find_element(By.ID, "legend").text  # a ramp with its range
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
