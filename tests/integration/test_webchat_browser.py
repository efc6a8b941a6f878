"""A real headless Chromium opens /chat, sends "hi" and sees the bot's answer."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from parley.server import AgentHolder, ServerConfig, create_app
from tests.parley_run import parley_run
from tests.server.helpdesk import GREETING, helpdesk_agent
from tests.server.live import running

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _need_browser() -> None:
    if shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER):
        return
    if os.environ.get("CI"):
        pytest.fail("Debian chromium and chromium-driver must be installed (see .ci/run)")
    pytest.skip("needs Debian's chromium and chromium-driver")


def chat_in_browser(url: str, text: str, wait_for: Callable[[list[str]], bool]) -> list[str]:
    """Open the page, send `text`, return the bot bubbles' texts once `wait_for` accepts them."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.get(url)
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "chat-status").text == "online"
        )
        box = driver.find_element(By.ID, "chat-input")
        box.send_keys(text)
        driver.find_element(By.ID, "chat-send").click()

        def bot_texts(d: webdriver.Chrome) -> list[str] | bool:
            texts = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".msg.bot")]
            return texts if wait_for(texts) else False

        result: list[str] = WebDriverWait(driver, 10).until(bot_texts)
        user = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".msg.user")]
        assert user == [text]
        return result
    finally:
        driver.quit()


@pytest.mark.parametrize("channel", ["socketio", "rest"])
async def test_chat_page_shows_the_bot_answer(channel: str) -> None:
    _need_browser()
    agent = helpdesk_agent()
    credentials = {channel: {"session_persistence": True} if channel == "socketio" else None}
    server = create_app(AgentHolder(agent, None), ServerConfig(credentials=credentials))
    async with running(server) as port:
        texts = await asyncio.to_thread(
            chat_in_browser, f"http://127.0.0.1:{port}/chat", "hi", lambda t: bool(t)
        )
    assert len(texts) == 1 and texts[0].startswith(GREETING)


def test_chat_page_works_with_several_workers(tmp_path: Path) -> None:
    """`parley run --workers 2`: socket.io offers only the websocket transport, which the page
    uses; every page load below may land on either worker."""
    _need_browser()
    from tests.server.helpdesk import helpdesk_model

    root = tmp_path / "bot"
    shutil.copytree(helpdesk_model().parents[1], root, ignore=shutil.ignore_patterns("*.db*"))
    with parley_run(root, workers=2, log=tmp_path / "server.log") as server:
        for _ in range(2):
            texts = chat_in_browser(f"{server.url}/chat", "hi", lambda t: bool(t))
            assert len(texts) == 1 and texts[0].startswith(GREETING)
