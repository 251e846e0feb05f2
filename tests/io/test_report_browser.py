"""The HTML report in a real headless browser: Debian's Chromium driven by Selenium.

Skipped, saying why, where Selenium, Chromium or its driver is missing (CI installs
``chromium`` and ``chromium-driver`` with apt-get, see .ci/run).  The page must load
without a script error, the layer switcher (and a "show on map" button) must show
the chosen layer and its legend and hide the others, the parcel overlay must
switch on and off, and no image on the map may be blank: every quick-look is
drawn into a canvas and its opaque pixels must vary.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_report import SEASONS, SOILSUITE, build_outputs

from baresoil.io.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
INSTALL = "apt-get install chromium chromium-driver (and pip install selenium)"


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason=f"selenium is not installed: {INSTALL}")
    binary, driver = _which(BROWSERS), _which(DRIVERS)
    if binary is None or driver is None:
        missing = " and ".join(
            n for n, p in (("a Chromium browser", binary), ("chromedriver", driver)) if not p
        )
        pytest.skip(f"no headless browser for the report test ({missing} not found): {INSTALL}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build_outputs(tmp_path_factory.mktemp("browser"))
    return write_report(out, title="browser test")


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
return {complete: img.complete, width: img.naturalWidth, opaque: n, variance: n ? sum2 / n - mean * mean : 0};
"""


def _visible_layers(browser: Any) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('img.maplayer')).filter(i => !i.hidden && "
        "i.offsetParent !== null).map(i => i.dataset.layer);"
    )


def _visible_legends(browser: Any) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('div.legend[data-layer]')).filter(d => !d.hidden && "
        "d.offsetParent !== null).map(d => d.dataset.layer);"
    )


def test_page_loads_without_script_errors(browser, report):
    browser.get(report.as_uri())
    assert browser.title == "browser test"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert browser.execute_script("return typeof window.baresoilReport.show") == "function"


def test_layer_switcher_shows_one_layer_and_its_legend(browser, report):
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())
    assert _visible_layers(browser) == [f"{SOILSUITE}/MASK"]
    assert _visible_legends(browser) == [f"{SOILSUITE}/MASK"]
    target = f"{SEASONS}/CPBSA"
    browser.find_element(By.CSS_SELECTOR, f'input[name=layer][value="{target}"]').click()
    assert _visible_layers(browser) == [target]
    assert _visible_legends(browser) == [target]
    button = browser.find_element(By.CSS_SELECTOR, f'button[data-show="{SOILSUITE}/BSF"]')
    browser.execute_script("arguments[0].click();", button)
    assert _visible_layers(browser) == [f"{SOILSUITE}/BSF"]
    checked = browser.find_element(By.CSS_SELECTOR, "input[name=layer]:checked").get_attribute("value")
    assert checked == f"{SOILSUITE}/BSF"


def test_parcel_overlay_switches_on_and_off(browser, report):
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())
    overlay = browser.find_element(By.CSS_SELECTOR, "svg.overlay")
    assert not overlay.is_displayed()
    browser.find_element(By.ID, "overlay-toggle").click()
    assert overlay.is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.overlay path[data-parcel]")) == 4
    browser.find_element(By.ID, "overlay-toggle").click()
    assert not overlay.is_displayed()


def test_no_map_image_is_blank(browser, report):
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())
    keys = [img.get_attribute("data-layer") for img in browser.find_elements(By.CSS_SELECTOR, "img.maplayer")]
    assert len(keys) == 6
    for key in keys:
        browser.execute_script("window.baresoilReport.show(arguments[0]);", key)
        assert _visible_layers(browser) == [key]
        image = browser.find_element(By.CSS_SELECTOR, f'img.maplayer[data-layer="{key}"]')
        figures = browser.execute_script(PIXELS, image)
        assert figures["complete"] and figures["width"] > 0, key
        assert figures["opaque"] > 0, key
        assert figures["variance"] > 1.0, (key, figures)
