"""`cnn-tui serve`: the dashboard in a browser (textual-serve), and a run that outlives its tab."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return int(sock.getsockname()[1])


async def screen_text(ws, until: str, seconds: float) -> str:
    """What the dashboard sent the browser (terminal output over the websocket) until `until` shows."""
    import aiohttp

    got, deadline = "", time.monotonic() + seconds
    while until not in got and time.monotonic() < deadline:
        try:
            message = await asyncio.wait_for(ws.receive(), 1)
        except TimeoutError:
            continue
        if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            break
        data = message.data
        got += data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return got


async def open_tab_start_the_default_recipe_and_close_it(port: int, runs: Path) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # the server takes a moment to listen
            try:
                async with session.get(f"http://localhost:{port}/") as page:
                    assert page.status == 200
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        async with session.ws_connect(f"http://localhost:{port}/ws") as ws:
            await ws.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
            picker = await screen_text(ws, "scratch_cnn", 30)
            await ws.send_str(json.dumps(["stdin", "\r"]))  # enter: train the selected recipe
            deadline = time.monotonic() + 30
            while not list(runs.glob("*/events.jsonl")) and time.monotonic() < deadline:
                await screen_text(ws, "\0", 0.5)  # keep reading what the tab is sent
            await screen_text(ws, "\0", 1.0)  # the run has started: close the tab mid-training
    return picker  # leaving the block closes the tab's websocket


def test_the_dashboard_serves_and_a_run_survives_its_tab(tmp_path):
    pytest.importorskip("textual_serve")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cnn_tui", "serve", "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        runs = tmp_path / "runs"
        picker = asyncio.run(open_tab_start_the_default_recipe_and_close_it(port, runs))
        assert "scratch_cnn" in picker  # the picker, drawn in the browser's terminal
        (events,) = runs.glob("*/events.jsonl")
        closed_at = events.read_text()
        assert '"type":"finished"' not in closed_at  # the tab closed while it trained
        deadline, after = time.monotonic() + 60, ""
        while '"type":"step"' not in after and '"type":"finished"' not in after and time.monotonic() < deadline:
            time.sleep(0.2)  # data generation first: under load the first step can take a while
            after = events.read_text()[len(closed_at):]
        time.sleep(2)  # a run told to stop would have finished its step, saved and said so by now
        after = events.read_text()[len(closed_at):]
        assert '"type":"step"' in after and '"type":"finished"' not in after, "the run stopped with its tab"
        assert training_processes(tmp_path), "the training process is gone"
    finally:
        for proc in training_processes(tmp_path):  # the detached run would train on: stop it
            proc.terminate()
        server.terminate()
        server.wait(timeout=30)


def training_processes(cwd: Path) -> list:
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = proc.info["cmdline"] or []
        if "cnn_tui" in cmdline and "run" in cmdline and proc.info["cwd"] == str(cwd):
            found.append(proc)
    return found
