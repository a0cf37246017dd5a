"""``python -m emulator --port 8081``: a standalone emulator for the sandbox or manual runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .core import Emulator


async def _serve(args: argparse.Namespace) -> None:
    emu = Emulator(token=args.token, host=args.host, port=args.port, bot_username=args.username)
    await emu.start()
    print(f"Bot API emulator: base_url={emu.base_url} file_url={emu.file_url}", flush=True)
    print(f"control API: {emu.url}/_emulator/state", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-token")
    parser.add_argument("--username", default="tipline_test_bot")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
