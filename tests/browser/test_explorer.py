"""The "Anonymize (consistent)" button in Orthanc Explorer, driven in headless Chromium.

A real Orthanc with the plugin serves the Explorer; Selenium clicks through it
as a person would, and the results are checked over REST.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.dicom_data import ct_study, encoded
from tests.orthanc_server import REPO, OrthancServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOT = ARTIFACTS / "explorer-anonymized.png"
DIALOG_SCREENSHOT = ARTIFACTS / "explorer-dialog-preset-options.png"
PRESETS: dict[str, Any] = {
    "shifted": {"Description": "Shifted dates, kept age", "ShiftDates": True, "Keep": ["PatientAge"]},
}
# A preset with PS3.15 options: the plugin validates it against the "Options" list.
OPTION_PRESETS: dict[str, Any] = {
    **PRESETS,
    "characteristics": {"Description": "Patient characteristics", "Options": ["RetainPatientCharacteristics"]},
}
TIMEOUT = 60.0

if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
    pytest.skip(
        f"browser tests need Debian's {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

T = TypeVar("T")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("orthanc"), plugin_config={"Presets": PRESETS}) as orthanc:
        yield orthanc


@pytest.fixture(scope="module")
def options_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    with OrthancServer(tmp_path_factory.mktemp("orthanc"), plugin_config={"Presets": OPTION_PRESETS}) as orthanc:
        yield orthanc


def upload_study(server: OrthancServer) -> str:
    answers = server.upload_all(encoded(ct_study()))
    studies = {answer["ParentStudy"] for answer in answers}
    assert len(studies) == 1
    return studies.pop()


@pytest.fixture(scope="module")
def source_study(server: OrthancServer) -> str:
    return upload_study(server)


@pytest.fixture
def browser(tmp_path: Path, server: OrthancServer) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, server: OrthancServer, condition: Callable[[WebDriver], T], what: str) -> T:
    """Wait for ``condition``; on timeout, fail with what the page and Orthanc showed."""
    try:
        return WebDriverWait(driver, TIMEOUT, poll_frequency=0.2).until(condition)
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "explorer-timeout.png"))
        status = driver.execute_script(
            "var s = document.getElementById('anon-consistent-status'); return s ? s.textContent : null;"
        )
        pytest.fail(
            f"timed out waiting for {what}; URL {driver.current_url}; dialog status {status!r}\n"
            f"Orthanc log:\n{server.log_tail(30)}"
        )


def wait_visible(driver: WebDriver, server: OrthancServer, element_id: str, what: str) -> WebElement:
    def shown(driver: WebDriver) -> WebElement | None:
        found = driver.find_elements(By.ID, element_id)
        return found[0] if found and found[0].is_displayed() else None

    element = wait_for(driver, server, shown, what)
    assert element is not None
    return element


def location_hash(driver: WebDriver) -> str:
    return str(driver.execute_script("return window.location.hash;"))


def open_dialog(driver: WebDriver, server: OrthancServer, page: str, resource_id: str) -> WebElement:
    """Open ``page`` (patient, study or series) of ``resource_id`` and click our button."""
    driver.get(f"{server.url}/app/explorer.html#{page}?uuid={resource_id}")
    button = wait_visible(driver, server, "anon-consistent-button", "the Anonymize (consistent) button")
    assert button.text == "Anonymize (consistent)"
    owner = driver.execute_script("return $('#anon-consistent-button').closest('[data-role=\"page\"]').attr('id');")
    assert owner == page, "the button must be in the page being shown"
    button.click()
    dialog = wait_visible(driver, server, "anon-consistent-dialog", "the dialog")
    project = driver.find_element(By.ID, "anon-consistent-project")
    assert project.get_attribute("value") == "default"
    return dialog


def fill(driver: WebDriver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def option_box(driver: WebDriver, name: str) -> WebElement:
    return driver.find_element(By.ID, f"anon-consistent-option-{name}")


def tick(driver: WebDriver, name: str) -> None:
    """Click an option's label, as a person does (jQuery Mobile hides the box itself)."""
    driver.find_element(By.CSS_SELECTOR, f"label[for='anon-consistent-option-{name}']").click()


def choose_preset(driver: WebDriver, server: OrthancServer, name: str) -> None:
    select = driver.find_element(By.ID, "anon-consistent-preset")
    wait_for(
        driver,
        server,
        lambda d: name in [o.get_attribute("value") for o in Select(select).options],
        f"the preset {name} in the list",
    )
    Select(select).select_by_value(name)


def last_job(server: OrthancServer) -> dict[str, Any]:
    job: dict[str, Any] = server.json("/anon-consistent/jobs")[-1]
    return job


def tags(server: OrthancServer, instance_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = server.json(f"/instances/{instance_id}/simplified-tags")
    return answer


def test_anonymize_study_from_explorer(browser: WebDriver, server: OrthancServer, source_study: str) -> None:
    source = server.json(f"/studies/{source_study}")
    source_tags = [tags(server, i) for i in server.study_instances(source_study)]
    studies_before = set(server.json("/studies"))
    project = f"browser-{uuid.uuid4().hex[:12]}"
    new_name = "BROWSER^TEST"

    open_dialog(browser, server, "study", source_study)
    fill(browser, "anon-consistent-project", project)
    fill(browser, "anon-consistent-patient-name", new_name)
    # The preset's ShiftDates shows as its option, ticked and not for the user to untick.
    choose_preset(browser, server, "shifted")
    hint = browser.find_element(By.ID, "anon-consistent-preset-hint").text
    assert "Shifted dates, kept age" in hint and "Keep: PatientAge" in hint
    shift = option_box(browser, "RetainLongitudinalModifiedDates")
    assert shift.is_selected() and not shift.is_enabled()
    assert not any(option_box(browser, o).is_selected() for o in ("RetainLongitudinalFullDates", "CleanDescriptors"))
    browser.find_element(By.ID, "anon-consistent-start").click()

    # The Explorer moves to the new study's page, and shows that study.
    def new_study_in_hash(driver: WebDriver) -> str | None:
        match = re.fullmatch(r"#study\?uuid=([0-9a-f-]+)", location_hash(driver))
        return match.group(1) if match and match.group(1) != source_study else None

    new_study = wait_for(browser, server, new_study_in_hash, "the anonymized study's page")
    assert new_study is not None
    assert location_hash(browser) == f"#study?uuid={new_study}"
    study = server.json(f"/studies/{new_study}")
    new_uid = study["MainDicomTags"]["StudyInstanceUID"]
    wait_for(
        browser,
        server,
        lambda d: new_uid in d.find_element(By.ID, "study-info").text,
        "the study page to show the new study",
    )
    assert not browser.find_element(By.ID, "anon-consistent-dialog").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#list-series li:not([data-role='list-divider'])")) == 2
    # Like native's "Before anonymization", a link back to the source study.
    back = wait_for(
        browser,
        server,
        lambda d: d.find_elements(By.ID, "anon-consistent-provenance-link"),
        "the link to the study before anonymization",
    )
    assert len(back) == 1 and str(back[0].get_attribute("href")).endswith(f"#study?uuid={source_study}")

    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))

    # Over REST: a new, complete, consistently anonymized study.
    assert new_study != source_study
    assert set(server.json("/studies")) == studies_before | {new_study}
    new_tags = [tags(server, i) for i in server.study_instances(new_study)]
    assert len(new_tags) == len(source_tags) == 7
    assert {t["StudyInstanceUID"] for t in new_tags} == {new_uid}
    assert new_uid != source["MainDicomTags"]["StudyInstanceUID"]
    assert len({t["SeriesInstanceUID"] for t in new_tags}) == 2
    frames = {t["FrameOfReferenceUID"] for t in new_tags}
    assert len(frames) == 1 == len({t["FrameOfReferenceUID"] for t in source_tags})
    assert frames.isdisjoint({t["FrameOfReferenceUID"] for t in source_tags})
    # The form's fields reached the server: the new PatientName, the default
    # "Tags to keep" (SeriesDescription) and the date shift box.
    assert {t["PatientName"] for t in new_tags} == {new_name}
    assert {t["PatientName"] for t in source_tags} == {"Doe^Peter"}
    assert {t["PatientID"] for t in new_tags}.isdisjoint({t["PatientID"] for t in source_tags})
    assert {t["SeriesDescription"] for t in new_tags} == {t["SeriesDescription"] for t in source_tags}
    source_date = source["MainDicomTags"]["StudyDate"]
    assert all("" < t["StudyDate"] < source_date for t in new_tags), "ShiftDates moves dates into the past"
    job = last_job(server)
    assert job["Description"]["Project"] == project
    # Only what the user chose is sent; the server added the preset to it.
    assert job["Request"]["Body"] == {
        "Project": project,
        "Keep": ["StudyDescription", "SeriesDescription"],
        "Asynchronous": True,
        "Preset": "shifted",
        "Replace": {"PatientName": new_name},
    }
    assert job["Request"]["ResolvedBody"]["Keep"] == ["PatientAge", "StudyDescription", "SeriesDescription"]
    assert {t["PatientAge"] for t in new_tags} == {t["PatientAge"] for t in source_tags} == {"043Y"}


def test_server_error_is_shown_in_dialog(browser: WebDriver, server: OrthancServer, source_study: str) -> None:
    studies_before = set(server.json("/studies"))
    refused = server.post(f"/anon-consistent/studies/{source_study}", {"Project": "bad name!", "Asynchronous": True})
    assert refused.status_code == 400
    message = refused.json()["Message"]

    open_dialog(browser, server, "study", source_study)
    fill(browser, "anon-consistent-project", "bad name!")
    browser.find_element(By.ID, "anon-consistent-start").click()

    status = browser.find_element(By.ID, "anon-consistent-status")
    wait_for(browser, server, lambda d: message in status.text, "the server's error message in the dialog")
    assert status.is_displayed()
    assert "400" in status.text
    assert "anon-consistent-error" in (status.get_attribute("class") or "")
    assert browser.find_element(By.ID, "anon-consistent-dialog").get_attribute("data-state") == "error"
    assert browser.find_element(By.ID, "anon-consistent-dialog").is_displayed()
    # Nothing happened: same page, no new study; the form can be corrected and sent again.
    assert location_hash(browser) == f"#study?uuid={source_study}"
    assert set(server.json("/studies")) == studies_before
    assert "ui-disabled" not in (browser.find_element(By.ID, "anon-consistent-start").get_attribute("class") or "")
    assert browser.find_element(By.ID, "anon-consistent-project").is_enabled()


def test_button_on_patient_and_series_pages(browser: WebDriver, server: OrthancServer, source_study: str) -> None:
    study = server.json(f"/studies/{source_study}")
    for page, resource_id in (("patient", study["ParentPatient"]), ("series", study["Series"][0])):
        open_dialog(browser, server, page, resource_id)
        title = browser.find_element(By.ID, "anon-consistent-title").text
        assert title == f"Anonymize this {page} (consistent)"
        assert len(browser.find_elements(By.ID, "anon-consistent-button")) == 1
        browser.find_element(By.ID, "anon-consistent-cancel").click()
        wait_for(browser, server, lambda d: not d.find_element(By.ID, "anon-consistent-dialog").is_displayed(), "close")


def test_preset_and_option_from_explorer(browser: WebDriver, options_server: OrthancServer) -> None:
    server = options_server
    source_study = upload_study(server)
    source_tags = [tags(server, i) for i in server.study_instances(source_study)]
    project = f"browser-{uuid.uuid4().hex[:12]}"
    open_dialog(browser, server, "study", source_study)
    fill(browser, "anon-consistent-project", project)
    fill(browser, "anon-consistent-keep", "")

    # A date option of the user replaces the preset's other one, on the form as on the server.
    choose_preset(browser, server, "shifted")
    tick(browser, "RetainLongitudinalFullDates")
    assert option_box(browser, "RetainLongitudinalFullDates").is_selected()
    assert not option_box(browser, "RetainLongitudinalModifiedDates").is_selected()
    tick(browser, "RetainLongitudinalFullDates")
    assert option_box(browser, "RetainLongitudinalModifiedDates").is_selected()

    choose_preset(browser, server, "characteristics")
    characteristics = option_box(browser, "RetainPatientCharacteristics")
    assert characteristics.is_selected() and not characteristics.is_enabled()
    assert not option_box(browser, "RetainLongitudinalModifiedDates").is_selected()
    tick(browser, "RetainDeviceIdentity")
    assert option_box(browser, "RetainDeviceIdentity").is_selected()
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(DIALOG_SCREENSHOT))
    browser.find_element(By.ID, "anon-consistent-start").click()

    wait_for(
        browser,
        server,
        lambda d: re.fullmatch(r"#study\?uuid=(?!" + source_study + r")[0-9a-f-]+", location_hash(d)),
        "the anonymized study's page",
    )
    job = last_job(server)
    assert job["State"] == "Success", job
    assert job["Request"]["Body"] == {
        "Project": project,
        "Keep": [],
        "Asynchronous": True,
        "Preset": "characteristics",
        "Options": ["RetainDeviceIdentity"],
    }
    assert job["Request"]["ResolvedBody"]["Options"] == ["RetainPatientCharacteristics", "RetainDeviceIdentity"]
    new_tags = [tags(server, i) for i in server.study_instances(job["Content"]["ID"])]
    # Retain Patient Characteristics keeps sex and age; the Basic Profile alone would not.
    assert {(t["PatientSex"], t["PatientAge"]) for t in new_tags} == {("M", "043Y")}
    assert {(t["PatientSex"], t["PatientAge"]) for t in source_tags} == {("M", "043Y")}
    assert {t["PatientName"] for t in new_tags}.isdisjoint({t["PatientName"] for t in source_tags})
