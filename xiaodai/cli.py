"""The `xiaodai` command: `xiaodai demo`, `xiaodai serve`, and every Django management command.

xiaodai demo [--customers N] [--seed S] [--reset]   build the demo branch (migrates first)
xiaodai serve [--host H] [--port P] [--no-worker]    serve with waitress, plus the job worker
xiaodai ingest DIR [--source S] [--date D]           load a data drop; --rollback RUN undoes one
xiaodai contract [--check]                           write (or check) docs/data-contract.md
xiaodai run_huey                                     the job worker on its own (production)
xiaodai <django command> ...                          e.g. `xiaodai migrate`, `xiaodai verify_audit`
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    # `demo` and `serve` are management commands too (xiaodai/core/management/commands/), so every
    # sub-command goes through Django's own dispatcher with its --help and error handling.
    execute_from_command_line(["xiaodai", *argv[1:]])


if __name__ == "__main__":
    main()
