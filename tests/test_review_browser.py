"""`prepkit review` driven in a real headless Chromium (Debian's chromium + chromium-driver, through Selenium):
a token-less request is refused, the queue opens from the printed URL, a record is released to RAG (checked in
the audit log and the store), and a policy is approved.

`make test` installs chromium and chromium-driver when they are missing. In CI (CI set) a browser that cannot
start fails the test; elsewhere it skips with the reason. PREPKIT_SCREENSHOTS=1 writes docs/review-queue.png,
docs/review-record.png and docs/review-report.png.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.keys import KeyRing
from prepkit.rag import run_query
from tests.conftest import ROOT, TEST_KEY
from tests.webtools import IBAN_VALUE, audit_entries, copy_run, start_review, stop

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000"]
SHOTS = os.environ.get("PREPKIT_SCREENSHOTS") == "1"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    chromium = shutil.which("chromium")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        _unavailable("chromium / chromedriver not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers online
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(chromium)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    try:
        driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=str(driver_bin)))
    except WebDriverException as e:
        _unavailable(f"headless chromium did not start: {e.msg}")
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory, quarantine_run: Path):
    tmp = tmp_path_factory.mktemp("browser")
    out = copy_run(quarantine_run, tmp)
    signing = tmp / "signing.pem"
    assert CliRunner().invoke(main, ["audit", "keygen-signing", str(signing)]).exit_code == 0
    policy = tmp / "policy.yaml"
    policy.write_text((ROOT / "policies" / "default.yaml").read_text())
    proc, url = start_review(out, ["--approvals", str(tmp / "approvals.json")],
                             env={"PREPKIT_SIGNING_KEY_FILE": str(signing)})
    yield out, url, tmp
    stop(proc)


def _flash(browser, expected: str) -> str:
    """The flash message of the page a form's POST leads to. The click returns before that page has loaded (once,
    under load, the old page was read and had no #flash), so wait for it; a wrong message still fails the assert."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with contextlib.suppress(TimeoutException):  # the caller's assert then shows what the page says instead
        WebDriverWait(browser, 60).until(expected_conditions.text_to_be_present_in_element((By.ID, "flash"), expected))
    found = browser.find_elements(By.ID, "flash")
    return found[0].text if found else "(no #flash on the page)"


def test_review_in_a_browser(browser, review):
    from selenium.webdriver.common.by import By

    out, url, tmp = review
    base = url.split("/queue")[0]

    # no token, no cookie: refused
    browser.get(f"{base}/queue")
    assert "Refused" in browser.find_element(By.TAG_NAME, "h1").text

    # the printed URL opens the queue and leaves the token out of the address bar
    browser.get(url)
    assert browser.current_url == f"{base}/queue"
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert sorted(r.find_element(By.TAG_NAME, "a").text for r in rows) == ["t-iban", "t-ssn"]
    assert "government-and-bank-ids" in browser.find_element(By.ID, "queue").text
    if SHOTS:
        browser.save_screenshot(str(ROOT / "docs" / "review-queue.png"))

    # the record: findings highlighted by type, then release to RAG with the hr label only
    browser.find_element(By.LINK_TEXT, "t-iban").click()
    marks = browser.find_elements(By.CSS_SELECTOR, "mark.finding")
    assert "IBAN_CODE" in {m.get_attribute("data-type") for m in marks}
    if SHOTS:
        browser.save_screenshot(str(ROOT / "docs" / "review-record.png"))
    form = browser.find_element(By.ID, "form-rag")
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=labels]"):
        if box.is_selected() != (box.get_attribute("value") == "hr"):
            box.click()
    form.find_element(By.CSS_SELECTOR, "input.reviewer").send_keys("Ana Reviewer")
    form.find_element(By.ID, "release-rag").click()
    assert "t-iban: released to RAG with label(s) hr" in _flash(browser, "t-iban: released")
    assert [r.find_element(By.TAG_NAME, "a").text
            for r in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")] == ["t-ssn"]

    [entry] = audit_entries(out, "review_decision")
    assert (entry["reviewer"], entry["action"], entry["record_id"], entry["labels"]) == \
        ("Ana Reviewer", "release_rag", "t-iban", ["hr"])
    assert IBAN_VALUE not in (out / "audit.jsonl").read_text()
    key = KeyRing.from_bytes(bytes.fromhex(TEST_KEY))
    hits = run_query(out, "refund scheduled", "hr", key, audit_path=None).hits
    assert [h.chunk.record_id for h in hits] == ["t-iban"] and hits[0].chunk.labels == ("hr",)

    # policy sign-off from the app
    browser.find_element(By.LINK_TEXT, "Policy sign-off").click()
    assert "not approved" in browser.find_element(By.ID, "status").text
    browser.find_element(By.ID, "approver").send_keys("Clara Compliance")
    browser.find_element(By.ID, "approve").click()
    assert "approved by Clara Compliance" in _flash(browser, "approved by")
    assert "approved" in browser.find_element(By.ID, "status").text
    assert "not approved" not in browser.find_element(By.ID, "status").text
    [approved] = audit_entries(out, "policy_approved")
    assert approved["approver"] == "Clara Compliance"
    assert (tmp / "approvals.json").is_file()

    browser.find_element(By.LINK_TEXT, "Run report").click()
    assert browser.find_element(By.ID, "rules") and "t-ssn" in browser.find_element(By.ID, "quarantined").text
    if SHOTS:  # the whole report, top to bottom
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, min(int(height) + 40, 6000))
        browser.save_screenshot(str(ROOT / "docs" / "review-report.png"))
        browser.set_window_size(1280, 1000)
