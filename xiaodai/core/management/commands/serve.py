"""`xiaodai serve`: migrate, start the job consumer, and serve the product with waitress.

The one demo command must give a working queue (an upload queues an import; something has to run it), so the
huey consumer runs as a child process beside the web server and stops with it. `--no-worker` leaves it out
(production runs `xiaodai run_huey` under its own supervisor); with immediate jobs nothing needs consuming.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def worker_command() -> list[str]:
    """The consumer, started through the same interpreter and the `xiaodai` entry point as this process."""
    return [sys.executable, "-m", "xiaodai.cli", "run_huey"]


def jobs_immediate() -> bool:
    huey = getattr(settings, "HUEY", {})
    return bool(huey.get("immediate")) if isinstance(huey, dict) else bool(getattr(huey, "immediate", False))


def start_worker() -> subprocess.Popen[bytes]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    return subprocess.Popen(worker_command(), env=env)  # noqa: S603 - our own interpreter and module


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM (huey stops at once; an interrupted import is failed and freed when its drop is next queued),
    then SIGKILL if it has not gone within `timeout` seconds. Safe to call twice."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Worker:
    """The consumer child process, restarted if it dies while the server runs (queued imports would otherwise
    wait forever), stopped for good by stop()."""

    RESTART_DELAY = 5.0

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # stop() never races a restart into an orphaned process

    def start(self) -> None:
        self.proc = start_worker()
        threading.Thread(target=self._watch, name="job-worker-watch", daemon=True).start()

    def _watch(self) -> None:
        while True:
            proc = self.proc
            assert proc is not None
            code = proc.wait()
            if self.stopping.wait(self.RESTART_DELAY):  # True at once when stop() has begun
                return
            with self.lock:
                if self.stopping.is_set():
                    return
                self.log(f"job worker exited ({code}); restarting")
                self.proc = start_worker()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            if self.proc is not None:
                stop_worker(self.proc)


class Command(BaseCommand):
    help = (
        "Serve xiaodai on HOST:PORT (default 127.0.0.1:8000) with the waitress WSGI server and a job worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the job consumer (run `xiaodai run_huey` separately).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import waitress

        from config.wsgi import application

        call_command("migrate", interactive=False, verbosity=0)
        worker: Worker | None = None
        if not options["no_worker"] and not jobs_immediate():
            worker = Worker(log=self.stderr.write)
            worker.start()
            atexit.register(worker.stop)  # also on an exit that skips the finally below
            # SIGTERM (systemd, docker stop) would skip `finally`: turn it into a normal exit.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
            assert worker.proc is not None
            self.stdout.write(f"job worker started (pid {worker.proc.pid})")
        self.stdout.write(f"xiaodai on http://{options['host']}:{options['port']}/  (Ctrl+C to stop)")
        try:
            waitress.serve(
                application, host=options["host"], port=options["port"], threads=options["threads"]
            )
        finally:
            if worker is not None:
                worker.stop()
