"""The picker's client for the layer-table helper process (describe_server.py).

One helper, started on first use and reused (torch is imported once), asked one recipe
at a time. `stop()` kills it: the app calls it when a run starts, and a later preview
starts a new one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys


class Describer:
    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()
        self.stops = 0  # how many times stop() was called: an answer cut short by it is no error

    async def describe(self, path: str, classes: int | None = None) -> dict | None:
        """{"rows", "total", "trainable"} or {"error"} for the recipe at `path` (its classifier sized
        for `classes` where given); None when stop() cut the request short (ask again later)."""
        return await self.request({"path": path, **({"classes": classes} if classes else {})})

    async def augment(self, path: str) -> dict | None:
        """{"picture": a temporary PNG (the caller deletes it), "what"} or {"error"}: `cnn-tui augment`."""
        return await self.request({"path": path, "augment": True})

    async def request(self, request: dict) -> dict | None:
        path = request["path"]
        async with self.lock:
            stops = self.stops
            try:
                return await self._ask(request)
            except (OSError, ValueError, ConnectionError, asyncio.IncompleteReadError) as exc:
                if self.stops != stops:
                    return None
                await self.stop()
                return {"path": path, "error": f"the layer-table helper failed ({exc})"}

    async def _ask(self, request: dict) -> dict:
        if self.proc is None or self.proc.returncode is not None:
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cnn_tui.engine.describe_server", stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env,
                limit=16 * 1024 * 1024)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        await self.proc.stdin.drain()
        while True:  # answers to requests whose asker was cancelled are skipped
            line = await self.proc.stdout.readline()
            if not line:
                raise ConnectionError("it exited")
            answer = json.loads(line)
            if answer.get("request") == request:
                return answer

    async def stop(self) -> None:
        self.stops += 1
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
