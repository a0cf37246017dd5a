"""The offline sandbox: `python -m bot sandbox` runs the real bot against the project's Bot API
emulator and serves a page on 127.0.0.1 where one chats as a resident, an officer and an admin
side by side. No token, no Telegram, no real data: see docs/sandbox.md.

- `sandbox.runner`: the command: data folder and key, demo staff, the bot subprocess, shutdown;
- `sandbox.web`: the page's server (static files, the emulator's control API, media);
- `sandbox.demo`: the demo people and the sample photo and location the page can send.
"""
