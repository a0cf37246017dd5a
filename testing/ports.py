"""A free TCP port on the loopback, for the servers the tests and benchmarks start (the bot's
webhook, the sandbox, PostgreSQL, nginx's upstreams)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick; another process may take it before the
    caller binds it, which the callers' start-up checks would show)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
