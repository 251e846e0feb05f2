"""Run the ``baresoil`` command in-process as a user would, and see what it printed."""

from __future__ import annotations

from baresoil.cli.main import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``baresoil ARGS``."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
