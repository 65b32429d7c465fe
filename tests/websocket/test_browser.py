"""The demo page in headless Chromium: an order entered in the page appears in its
ladder, and a trade between FIX clients appears on its tape.

Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them); skipped with a
reason where they are absent. Selenium is given the driver's path, so it never looks
for (or downloads) a driver or browser of its own.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.conftest import rest
from tests.websocket.conftest import TOKEN, WsVenue

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 15.0

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        f"headless browser test needs {CHROMIUM} and {CHROMEDRIVER} "
        "(apt-get install chromium chromium-driver; .ci/run does)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402 - only importable where the test runs
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_page_order_reaches_the_ladder_and_fix_trade_reaches_the_tape(
    venue: WsVenue, browser: webdriver.Chrome
) -> None:
    browser.get(f"http://127.0.0.1:{venue.ws_port}/?token={TOKEN}&symbol=MSFT")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: "logged in as alice" in d.find_element(By.ID, "status").text)

    Select(browser.find_element(By.ID, "side")).select_by_value("buy")
    qty = browser.find_element(By.ID, "qty")
    qty.clear()
    qty.send_keys("25")
    browser.find_element(By.ID, "px").send_keys("415.50")
    browser.find_element(By.ID, "send").click()
    row = '#ladder tr[data-side="buy"][data-px="415.50"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, f"{row} td")]
    assert cells[:3] == ["1", "25", "415.50"]
    wait.until(lambda d: "ack" in d.find_element(By.ID, "orders").text)

    a = venue.client("CLIENT1", "FIX.4.4")
    b = venue.client("CLIENT2", "FIX.4.4")
    rest(a, "MSFT", "2", 9, "416.00")
    b.new_order("MSFT", "1", 9, "416.00")
    b.expect("8", {150: "F"})
    tape = "#tape tbody tr"
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, tape))
    trade = [c.text for c in browser.find_elements(By.CSS_SELECTOR, f"{tape}:first-child td")]
    assert trade[1:] == ["416.00", "9", "buy"]
    # The page's own order is still in the ladder, and the lifted offer is gone.
    assert browser.find_elements(By.CSS_SELECTOR, row)
    assert not browser.find_elements(By.CSS_SELECTOR, '#ladder tr[data-px="416.00"]')
