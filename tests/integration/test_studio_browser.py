"""The studio in a real headless Chromium against `parley run` on a project with `access:`:
an annotator filters to low-confidence messages, corrects one message's intent and marks an
entity by selecting its words, and the project's data/nlu.yml changes by that one example with
its comments intact; a tester sees no
annotation controls; an analyst saves a shared filter and reads the analytics plots. An
annotator promotes a cluster of unhandled messages to a new intent (one message deselected), is
refused an existing name, keeps another cluster in the change set and applies it. Screenshots of
each page go to build/test-artifacts/studio/."""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parley.access.passwords import hash_password
from parley.access.service import Access
from parley.access.settings import AccessSettings
from tests.integration.test_webchat_browser import CHROMEDRIVER, CHROMIUM, FLAGS, _need_browser
from tests.parley_run import parley_run
from tests.server.helpdesk import helpdesk_model

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "studio"
PASSWORD = "correct horse battery"
COMMENT = "# Farewells: keep them short.\n"
ODD = "purple elephants juggle spreadsheets"


async def _users(project: Path) -> None:
    access = await Access.open(AccessSettings(), project)
    try:
        digest = hash_password(PASSWORD)
        for name in ("annotator", "tester", "analyst", "admin"):
            await access.users.create(name, name, "local", digest)
    finally:
        await access.close()


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`parley run` on a copy of the trained help-desk project with access control on."""
    _need_browser()
    root = tmp_path / "bot"
    shutil.copytree(helpdesk_model().parents[1], root, ignore=shutil.ignore_patterns("*.db*"))
    (root / "parley.yml").write_text("access: {}\n")
    nlu = root / "data" / "nlu.yml"
    nlu.write_text(
        nlu.read_text().replace("  - intent: goodbye", "  " + COMMENT + "  - intent: goodbye", 1)
    )
    asyncio.run(_users(root))
    with parley_run(root, "--enable-api", log=tmp_path / "server.log") as server:
        yield server.url, root


def _past_week(api: httpx.Client) -> None:
    """Conversations over the last six days (as an admin, through the tracker API), so the
    analytics plots have a few days, channels and outcomes to draw."""
    now = time.time()
    for day in range(1, 7):
        for n in range(day % 3 + 1):
            at = now - day * 86400 + n * 600
            intent = "nlu_fallback" if (day + n) % 3 == 0 else "greet"
            events = [
                {"event": "user", "timestamp": at, "text": "hello", "input_channel":
                 "socketio" if n % 2 else "rest", "parse_data": {"intent": {"name": intent,
                 "confidence": 0.9}, "entities": []}},
                {"event": "action", "timestamp": at + 1, "name": "action_default_fallback"
                 if intent == "nlu_fallback" else "utter_greet"},
            ]  # fmt: skip
            assert api.put(f"/conversations/past-{day}-{n}/tracker", json=events).is_success


def _driver():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def _login(driver, url: str, path: str, name: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url + path)
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "who"))


def _swapped() -> tuple[type[Exception], ...]:
    """What a wait reading an element's text ignores: htmx may swap the element out meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException

    return (StaleElementReferenceException,)


def _shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_an_annotator_corrects_an_intent_and_a_tester_cannot(
    studio_url: tuple[str, Path],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, root = studio_url
    for sender, text in (("confident", "hi"), ("unsure", ODD)):
        reply = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert reply.status_code == 200
    with httpx.Client(base_url=url) as api:  # what the model made of the odd message
        api.post("/auth/login", json={"username": "annotator", "password": PASSWORD})
        tracker = api.get("/conversations/unsure/tracker").json()
    confidence = next(e for e in tracker["events"] if e["event"] == "user")["parse_data"]
    threshold = math.ceil((confidence["intent"]["confidence"] + 0.001) * 1000) / 1000
    suggested = confidence["intent"]["name"]
    corrected = "out_of_scope" if suggested != "out_of_scope" else "bot_challenge"
    nlu = root / "data" / "nlu.yml"
    before = nlu.read_text()

    driver = _driver()
    try:
        _login(driver, url, "/studio", "annotator")
        _shot(driver, "01-annotator-home")
        driver.find_element(By.LINK_TEXT, "Conversations").click()
        driver.find_element(By.ID, "filter-low").click()
        box = driver.find_element(By.NAME, "threshold")
        box.clear()
        box.send_keys(str(threshold))
        driver.find_element(By.ID, "apply").click()
        WebDriverWait(driver, 10).until(lambda d: "low_confidence=true" in d.current_url)
        rows = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#conversations tbody a")]
        _shot(driver, "02-low-confidence-conversations")
        assert "unsure" in rows
        driver.find_element(By.LINK_TEXT, "unsure").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "transcript"))
        _shot(driver, "03-transcript")
        driver.get(f"{url}/studio/inbox?threshold={threshold}")
        item = next(
            e for e in driver.find_elements(By.CSS_SELECTOR, ".item")
            if ODD in e.find_element(By.CSS_SELECTOR, ".text").text
        )  # fmt: skip
        _shot(driver, "04-inbox")
        driver.execute_script(  # select the word "spreadsheets" as a user would with the mouse
            """const node = arguments[0].firstChild, at = node.textContent.indexOf(arguments[1]);
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + arguments[1].length);
            window.getSelection().removeAllRanges(); window.getSelection().addRange(range);""",
            item.find_element(By.CSS_SELECTOR, ".text"),
            "spreadsheets",
        )
        item.find_element(By.CSS_SELECTOR, "button.mark").click()
        assert item.find_element(By.CSS_SELECTOR, ".marked").text == "[spreadsheets](username)"
        item.find_element(By.CSS_SELECTOR, ".correct-intent").send_keys(corrected)
        item.find_element(By.CSS_SELECTOR, "button.correct").click()
        WebDriverWait(driver, 10, ignored_exceptions=_swapped()).until(
            lambda d: any(f"Saved as {corrected}" in e.text for e in d.find_elements(By.CSS_SELECTOR, ".result"))
        )  # fmt: skip
        _shot(driver, "05-inbox-saved")

        driver.delete_all_cookies()
        _login(driver, url, "/studio", "tester")
        _shot(driver, "06-tester-home")
        assert driver.find_elements(By.ID, "nav-inbox") == []
        driver.get(f"{url}/studio/inbox")
        _shot(driver, "07-tester-inbox-refused")
        assert driver.find_elements(By.ID, "refused")
        assert driver.find_elements(By.CSS_SELECTOR, "form.annotate") == []
        driver.get(f"{url}/studio/conversations/unsure")
        assert driver.find_elements(By.CSS_SELECTOR, "button.flag") == []

        with httpx.Client(base_url=url) as api:
            login = api.post("/auth/login", json={"username": "admin", "password": PASSWORD})
            api.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            _past_week(api)
        driver.delete_all_cookies()  # an analyst saves a filter and reads the plots
        _login(driver, url, "/studio/conversations?low_confidence=true", "analyst")
        driver.find_element(By.ID, "filter-name").send_keys("unsure ones")
        driver.find_element(By.ID, "filter-shared").click()
        driver.find_element(By.ID, "save").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '.saved-filter[data-name="unsure ones"]')
        )
        _shot(driver, "08-saved-filter")
        driver.find_element(By.ID, "nav-analytics").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "plot-volume"))
        circles = driver.find_elements(By.CSS_SELECTOR, "#plot-volume circle")
        assert len(circles) == 2 * 7  # conversations and users, on each of the last 7 days
        _shot(driver, "09-analytics-plots-by-day")
        driver.get(f"{url}/studio/analytics?group=channel")
        bars = driver.find_elements(By.CSS_SELECTOR, "#plot-volume rect.series")
        assert [b.get_attribute("data-series") for b in bars] == ["conversations"] * 2 + [
            "users"
        ] * 2  # rest and socketio
        assert all(float(b.get_attribute("height") or 0) > 0 for b in bars)
        _shot(driver, "10-analytics-plots-by-channel")
    finally:
        driver.quit()

    after = nlu.read_text()
    assert COMMENT in after
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    marked = ODD.replace("spreadsheets", "[spreadsheets](username)")
    assert added == [f"      - {marked}"]
    block = after[after.index(f"- intent: {corrected}") :]
    assert block.index(f"- {marked}") < block.index("- intent:", 1)


PAYMENT = ["can I pay with paypal", "do you accept paypal?", "is paypal supported for payment",
           "I want to pay using PayPal"]  # fmt: skip
SHOPS = ["where is the nearest store", "find a shop near me", "is there a branch near me",
         "store locations nearby"]  # fmt: skip


async def _admin(project: Path) -> None:
    access = await Access.open(AccessSettings(), project)
    try:
        await access.users.create("boss", "admin", "local", hash_password(PASSWORD))
    finally:
        await access.close()


def _fell_back(api: httpx.Client, sender: str, text: str, handoff: bool) -> None:
    """A user message the assistant could not handle, recorded through the HTTP API."""
    now = time.time()
    events = [
        {"event": "user", "timestamp": now, "text": text,
         "parse_data": {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3},
                        "entities": []}},
        {"event": "action", "timestamp": now + 0.1,
         "name": "action_handoff_to_human" if handoff else "action_default_fallback"},
    ]  # fmt: skip
    reply = api.post(f"/conversations/{sender}/tracker/events", json=events)
    assert reply.status_code == 200, reply.text


def test_an_annotator_promotes_a_cluster_and_keeps_one_in_the_change_set(
    studio_url: tuple[str, Path],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, root = studio_url
    asyncio.run(_admin(root))
    with httpx.Client(base_url=url) as api:
        login = api.post("/auth/login", json={"username": "boss", "password": PASSWORD})
        api.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for n, text in enumerate(PAYMENT):
            _fell_back(api, f"pay{n}", text, handoff=False)
        for n, text in enumerate(SHOPS):
            _fell_back(api, f"shop{n}", text, handoff=n % 2 == 1)
        _fell_back(api, "noise", "my dog ate my homework", handoff=False)
    nlu, domain = root / "data" / "nlu.yml", root / "domain.yml"

    def cluster_of(driver, text: str):  # type: ignore[no-untyped-def]
        return next(
            s for s in driver.find_elements(By.CSS_SELECTOR, "section.cluster")
            if text in s.text and s.get_attribute("id") != "cluster-0"
        )  # fmt: skip

    def outcome(section, css: str) -> str:  # type: ignore[no-untyped-def]
        WebDriverWait(section, 10).until(
            lambda s: s.find_elements(By.CSS_SELECTOR, f".outcome {css}")
        )
        return str(section.find_element(By.CSS_SELECTOR, f".outcome {css}").text)

    driver = _driver()
    try:
        _login(driver, url, "/studio", "annotator")
        driver.find_element(By.ID, "nav-clusters").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "cluster-summary"))
        _shot(driver, "clusters-01-unhandled")
        payments = cluster_of(driver, PAYMENT[0])
        boxes = payments.find_elements(By.CSS_SELECTOR, "input[name=messages]")
        assert len(boxes) == len(PAYMENT)
        last = next(b for b in boxes if b.get_attribute("value").endswith(":pay3"))
        last.click()  # deselect one message
        payments.find_element(By.CSS_SELECTOR, ".intent-name").send_keys("ask_paypal")
        payments.find_element(By.CSS_SELECTOR, "button.promote-files").click()
        assert "Created the intent ask_paypal: 3 examples" in outcome(payments, ".result")
        _shot(driver, "clusters-02-promoted")

        shops = cluster_of(driver, SHOPS[0])
        name = shops.find_element(By.CSS_SELECTOR, ".intent-name")
        name.send_keys("greet")
        shops.find_element(By.CSS_SELECTOR, "button.promote-changeset").click()
        assert "already exists" in outcome(shops, ".error")
        _shot(driver, "clusters-03-name-refused")
        name.clear()
        name.send_keys("find_store")
        shops.find_element(By.CSS_SELECTOR, "button.promote-changeset").click()
        assert "Kept 4 messages as the new intent find_store" in outcome(shops, ".result")
        driver.find_element(By.ID, "nav-changeset").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "changeset"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#changeset tbody tr")
        assert len(rows) == len(SHOPS)
        _shot(driver, "clusters-04-changeset")
        driver.find_element(By.ID, "apply-changeset").click()
        driver.switch_to.alert.accept()
        WebDriverWait(driver, 10, ignored_exceptions=_swapped()).until(
            lambda d: "Applied: 4 to find_store" in d.find_element(By.ID, "changeset-outcome").text
        )
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "changeset-empty"))
        _shot(driver, "clusters-05-changeset-applied")

        # the inbox keeps an accepted message in the change set when asked to, and remembers
        reply = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": "kept", "message": ODD})
        assert reply.status_code == 200
        driver.get(f"{url}/studio/inbox?threshold=1")
        Select(driver.find_element(By.ID, "save-to")).select_by_value("changeset")
        item = next(
            e for e in driver.find_elements(By.CSS_SELECTOR, ".item")
            if ODD in e.find_element(By.CSS_SELECTOR, ".text").text
        )  # fmt: skip
        item.find_element(By.CSS_SELECTOR, ".correct-intent").send_keys("out_of_scope")
        item.find_element(By.CSS_SELECTOR, "button.correct").click()
        WebDriverWait(driver, 10, ignored_exceptions=_swapped()).until(
            lambda d: any("in the change set" in e.text for e in d.find_elements(By.CSS_SELECTOR, ".result"))
        )  # fmt: skip
        driver.get(f"{url}/studio/inbox?threshold=1")
        assert driver.find_element(By.ID, "save-to").get_attribute("value") == "changeset"
        driver.get(f"{url}/studio/changeset")
        assert ODD in driver.find_element(By.ID, "changeset").text
        _shot(driver, "clusters-06-inbox-kept")
    finally:
        driver.quit()

    text = nlu.read_text()
    assert COMMENT in text and ODD not in text
    for intent, examples in (("ask_paypal", PAYMENT[:3]), ("find_store", SHOPS)):
        block = text[text.index(f"- intent: {intent}") :].split("- intent:", 2)[1]
        assert sorted(
            line.strip()[2:] for line in block.splitlines()[2:] if line.strip()
        ) == sorted(examples)
    intents = [line.strip() for line in domain.read_text().splitlines()]
    assert "- ask_paypal" in intents and "- find_store" in intents
