"""Entry point of the ``friqa`` command.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function
``(args) -> int``. Modules are discovered, so adding a command is adding a file.

User errors (:class:`~friqa.exceptions.FriqaError`, files that cannot be read or
written) print one
clear line on stderr and exit with status 2; nothing prints a traceback unless
``--debug`` is given. The exit statuses of every command are in
:mod:`friqa.cli._status`.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

import friqa.cli as cli_package
from friqa import __version__
from friqa.cli._status import EXIT_USER_ERROR
from friqa.exceptions import FriqaError

__all__ = ["main", "build_parser", "command_modules", "entry"]


def command_modules() -> list[str]:
    """The modules of this package that are sub-commands (``import_dataset`` is
    ``friqa import-dataset``), sorted."""
    names = (m.name for m in pkgutil.iter_modules(cli_package.__path__))
    return sorted(n for n in names if not n.startswith("_") and n != "main")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every discovered sub-command, or only ``command``'s.

    Each command's module is imported to register it; ``command`` (a sub-command's
    name) spares the others' imports when the command line names it.
    """
    parser = argparse.ArgumentParser(
        prog="friqa",
        description="Training-free full-reference image quality assessment "
        "(SMIC, DeepSSIM, PSNR, SSIM, LPIPS, DISTS, DeepWSD).",
    )
    parser.add_argument("--version", action="version", version=f"friqa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        if command is not None and name != command.replace("-", "_"):
            continue
        module = importlib.import_module(f"{cli_package.__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def _named_command(argv: Sequence[str]) -> str | None:
    """The sub-command the command line names, when it is one of :func:`command_modules`."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is None or first.replace("-", "_") not in command_modules():
        return None
    return first


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_given = sys.argv[1:] if argv is None else list(argv)
    if args_given == ["--version"]:  # without discovering (and importing) every command
        sys.stdout.write(f"friqa {__version__}\n")
        raise SystemExit(0)  # as argparse's version action does
    parser = build_parser(_named_command(args_given))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="friqa: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        status: int = args.func(args)
        return status
    except (FriqaError, OSError) as exc:  # OSError: unreadable or unwritable user files
        if args.debug:
            raise
        sys.stderr.write(f"friqa {args.command}: error: {exc}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("friqa: interrupted\n")
        return 130


def entry() -> NoReturn:
    """The ``friqa`` console script: :func:`main`, then a quick process exit.

    After the command has returned (its files written and closed), the exit
    handlers run as at a normal exit (Ray's shutdown, logging's flush, temporary
    directories), the standard streams are flushed, and the process ends with
    :func:`os._exit`, skipping the interpreter's teardown of torch and
    matplotlib: 0.3-0.4 s of every command's wall time on a 2-core CPU, for
    nothing the user can see. ``FRIQA_SLOW_EXIT=1`` keeps the normal exit.
    """
    status = main()
    if os.environ.get("FRIQA_SLOW_EXIT") == "1":
        sys.exit(status)
    atexit._run_exitfuncs()  # what a normal exit runs before the teardown
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
