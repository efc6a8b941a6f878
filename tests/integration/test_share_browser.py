"""Guest links in a real headless Chromium against `parley run`: a tester creates a link in the
studio, a guest opens it in a fresh browser session (no login) and chats, the conversation is
listed in the studio tagged with the link's name; once revoked, the link shows a 'cannot be used'
page. Screenshots go to build/test-artifacts/studio/share-*.png."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.test_studio_browser import _driver, _login, _shot, studio_url  # noqa: F401
from tests.server.helpdesk import GREETING

pytestmark = pytest.mark.integration

LINK = "browser-pilot"


def test_a_tester_shares_a_link_and_a_guest_chats_through_it(
    studio_url: tuple[str, Path],  # noqa: F811
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _root = studio_url
    studio = _driver()
    guest = _driver()  # a separate browser: no studio session, no cookies
    try:
        _login(studio, url, "/studio", "tester")
        studio.find_element(By.ID, "nav-share").click()
        WebDriverWait(studio, 10).until(lambda d: d.find_elements(By.ID, "share-form"))
        studio.find_element(By.ID, "share-name").send_keys(LINK)
        days = studio.find_element(By.ID, "share-days")
        days.clear()
        days.send_keys("3")
        studio.find_element(By.ID, "share-create").click()
        WebDriverWait(studio, 10).until(lambda d: d.find_elements(By.ID, "share-url"))
        link = studio.find_element(By.ID, "share-url").get_attribute("value") or ""
        _shot(studio, "share-01-link-created")
        assert link.startswith(f"{url}/share/")

        guest.get(link)
        WebDriverWait(guest, 10).until(
            lambda d: d.find_element(By.ID, "chat-status").text == "online"
        )
        guest.find_element(By.ID, "chat-input").send_keys("hi")
        guest.find_element(By.ID, "chat-send").click()
        WebDriverWait(guest, 15).until(
            lambda d: any(GREETING in e.text for e in d.find_elements(By.CSS_SELECTOR, ".msg.bot"))
        )
        _shot(guest, "share-02-guest-chat")
        assert guest.get_cookie("parley_session") is None  # the guest never logged in

        studio.refresh()
        row = WebDriverWait(studio, 10).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#share-links tbody tr")
        )
        assert row.find_element(By.CSS_SELECTOR, ".name").text == LINK
        assert row.find_element(By.CSS_SELECTOR, ".conversations").text == "1"
        _shot(studio, "share-03-link-listed")

        studio.delete_all_cookies()  # a reviewer who may read conversations
        _login(studio, url, "/studio", "annotator")
        studio.get(f"{url}/studio/conversations?tag={LINK}")
        rows = studio.find_elements(By.CSS_SELECTOR, "#conversations tbody tr")
        _shot(studio, "share-04-conversations-tagged")
        assert len(rows) == 1
        assert rows[0].find_element(By.CSS_SELECTOR, "a").text.startswith("share-")
        assert LINK in rows[0].text

        studio.delete_all_cookies()
        _login(studio, url, "/studio/share", "tester")
        studio.find_element(By.CSS_SELECTOR, "#share-links button.revoke").click()
        studio.switch_to.alert.accept()
        # htmx swaps the list in after the revocation: a row read during the swap goes stale
        WebDriverWait(studio, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: "revoked" in d.find_element(By.CSS_SELECTOR, "#share-links .state").text
        )
        _shot(studio, "share-05-link-revoked")

        guest.refresh()
        WebDriverWait(guest, 10).until(lambda d: d.find_elements(By.ID, "gone"))
        _shot(guest, "share-06-guest-link-revoked")
        assert "revoked" in guest.find_element(By.ID, "gone-reason").text
    finally:
        studio.quit()
        guest.quit()
    token = link.rsplit("/", 1)[1]
    refused = httpx.post(f"{url}/share/{token}/webhook", json={"message": "hi"})
    assert refused.status_code == 410
