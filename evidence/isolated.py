"""`clean` in a process of its own, for as long as CLEAN_SECONDS at most.

Why not a thread of the bot: the parsers of Office XML, PDFs and pictures are C code that
holds Python's lock for long stretches. Two residents' files of highly compressible XML being
cleaned in the bot's threads stopped its event loop for 300 ms at a time, again and again for
the seconds a cleaning lasts (bench/evidence_isolation.py), so everyone else's answers waited
behind one person's files. A process of its own also gives what a thread cannot:

- a wall-clock limit that holds: past CLEAN_SECONDS the process is killed, its slot freed and
  the resident told the file took too long (`TOO_SLOW`); a thread cannot be stopped;
- a memory limit (MEMORY_BYTES of address space) against a bomb the budgets of
  evidence/office.py and evidence/pdf.py would miss: the cleaner fails, the bot does not;
- a lower priority (nice), so the bot's own process is served first by the two cores;
- none of the line's settings in its environment: no `TIPBOT_` variable (the key, the token),
  nor the path of systemd's credentials folder. The bot's own memory and environment are
  closed to it (bot/core_dumps.py: the bot is not dumpable). This is not a sandbox: the child
  runs as the bot's user, so a parser taken over by a hostile file could still read that
  user's files, the key's file among them (docs/reviews.md). Another user, namespaces or
  seccomp for the child are not done.

The file goes to the child on its standard input and comes back on its standard output, never
through the disk; the child writes nothing else anywhere, and what it prints on standard error
(a library's complaint, which could quote the file) is dropped, never logged.

    python -m evidence.isolated   # the child: one request on stdin, one answer on stdout
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile

from evidence import video
from evidence.clean import TOO_SLOW, UNREADABLE, CannotClean, Cleaned, clean

log = logging.getLogger(__name__)

#: Longest a file's cleaning may take (a video's ffmpeg has 120 s of its own, inside this).
CLEAN_SECONDS = 150.0
#: The child's address space: the cleaners need far less for a 20 MB file.
MEMORY_BYTES = 3 * 1024**3
#: How much lower than the bot the child runs (nice).
NICENESS = 10
#: Besides the TIPBOT_ settings: where systemd put the key and token files (deploy/).
_WITHHELD = ("CREDENTIALS_DIRECTORY",)


async def clean_elsewhere(
    data: bytes, file_name: str | None, mime_type: str | None, *,
    seconds: float = CLEAN_SECONDS,
) -> Cleaned:
    """`clean(data, file_name, mime_type)` in a child process; CannotClean as `clean` raises
    it, `TOO_SLOW` past `seconds`, `UNREADABLE` when the child fails otherwise.

    The child has a session of its own, and it and whatever it started (ffmpeg) are killed as
    a group when the time is up or the caller is cancelled; its scratch folder is the
    parent's, removed here in every case (a killed child cannot remove the copy of the
    original it gave ffmpeg). The child ignores SIGINT and SIGTERM: a stop of the bot (systemd
    sends SIGTERM to every process of the service) lets the cleaning finish instead of
    turning the file "unreadable" and handing the resident the choice to send it as it is."""
    scratch = tempfile.mkdtemp(prefix="tipline-clean-", dir=video.memory_folder())
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "evidence.isolated",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=_environment(), start_new_session=True,
        )
        request = json.dumps({"name": file_name, "mime": mime_type, "scratch": scratch}
                             ).encode() + b"\n" + data
        try:
            out, _ = await asyncio.wait_for(child.communicate(request), seconds)
        except TimeoutError:
            log.warning("evidence: a file's cleaning took longer than %.0f s; stopped", seconds)
            raise CannotClean(TOO_SLOW) from None
        finally:
            if child.returncode is None:  # timed out, or the caller was cancelled
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)
                await child.wait()
        return _answer(out, child.returncode)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _environment() -> dict[str, str]:
    """The bot's environment without the line's settings (its key and token among them) and
    without the path of the credentials' folder."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("TIPBOT_") and name not in _WITHHELD}


def _answer(out: bytes, status: int | None) -> Cleaned:
    """The child's answer: a JSON line, then exactly `length` bytes of the copy."""
    head, _, data = out.partition(b"\n")
    try:
        answer = json.loads(head) if status == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        log.warning("evidence: the cleaning process failed (exit %s)", status)
        raise CannotClean(UNREADABLE)
    if not answer.get("ok"):
        raise CannotClean(str(answer.get("reason", UNREADABLE)))
    if answer.get("length") != len(data):
        log.warning("evidence: the cleaning process's answer was cut or mixed; not used")
        raise CannotClean(UNREADABLE)
    return Cleaned(data, str(answer["extension"]), str(answer["fmt"]))


def _limit_self() -> None:
    for stop in (signal.SIGINT, signal.SIGTERM):  # the parent decides when this one ends
        signal.signal(stop, signal.SIG_IGN)
    with contextlib.suppress(ImportError, OSError, ValueError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


def main() -> int:
    """The child: read one request, clean, write one answer. Standard output is kept for the
    answer alone: a library that prints writes to /dev/null instead."""
    answers = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)
    _limit_self()
    head, _, data = sys.stdin.buffer.read().partition(b"\n")
    request = json.loads(head)
    video.SCRATCH = request.get("scratch") or None
    payload = b""
    try:
        result = clean(data, request.get("name"), request.get("mime"))
    except CannotClean as error:
        answer: dict[str, object] = {"ok": False, "reason": error.reason}
    except Exception:  # MemoryError past the limit, a library's own failure: not cleaned
        answer = {"ok": False, "reason": UNREADABLE}
    else:
        payload = result.data
        answer = {"ok": True, "extension": result.extension, "fmt": result.fmt,
                  "length": len(payload)}
    answers.write(json.dumps(answer).encode() + b"\n" + payload)
    answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
