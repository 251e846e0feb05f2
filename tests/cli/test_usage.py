"""Usage errors end as click's do (usage line, the error, exit status 2); help, completion and exit codes."""

from __future__ import annotations

import pytest

from baresoil.cli.main import main

from tests.support.cli_runner import run_cli


def assert_usage_error(code: int, err: str, usage: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.lstrip().startswith(f"Usage: {usage}"), err
    assert "unexpected" not in err and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_no_arguments_print_the_help_and_exit_2(capsys):
    code, out, err = run_cli(capsys)
    assert code == 2
    assert "Usage: baresoil [OPTIONS] COMMAND [ARGS]..." in out + err
    assert "soilsuite" in out + err  # the commands are listed
    assert "unexpected" not in out + err


def test_a_missing_option_prints_the_usage_line(capsys):
    code, _, err = run_cli(capsys, "cube", "--stac", "catalog.json")
    assert_usage_error(
        code, err, "baresoil cube [OPTIONS]", "Missing option '--start'", "baresoil cube --help"
    )


def test_a_bad_value_prints_the_usage_line(capsys):
    args = ("--start", "2021-01-01", "--end", "2021-12-31", "--out", "out")
    code, _, err = run_cli(capsys, "cube", "--stac", "c.json", "--bbox", "11", "48", "east", "49", *args)
    assert_usage_error(code, err, "baresoil cube [OPTIONS]", "Invalid value for '--bbox'")
    code, _, err = run_cli(capsys, "soilsuite", "--stac", "c.json", "--min-bare-obs", "2.7", *args)
    assert_usage_error(code, err, "baresoil soilsuite [OPTIONS]", "Invalid value for '--min-bare-obs'")


def test_an_unknown_command_or_option_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "cubes")
    assert_usage_error(code, err, "baresoil [OPTIONS] COMMAND [ARGS]...", "No such command 'cubes'")
    code, _, err = run_cli(capsys, "cube", "--resoluton", "10")
    assert_usage_error(code, err, "baresoil cube [OPTIONS]", "No such option: --resoluton")


def test_a_config_value_out_of_range_is_one_line_naming_the_flag_key(capsys, tmp_path):
    """Flags pass through the typed config: ``--resolution 15`` would make tiles overlap."""
    code, _, err = run_cli(capsys, "cube", "--stac", "c.json", "--tile", "E44N27", "--start", "2021-01-01",
                           "--end", "2021-12-31", "--out", tmp_path, "--resolution", "15")  # fmt: skip
    assert code == 1
    assert err.strip() == (
        "error: flags: cube.resolution = 15.0: expected a number: "
        "a pixel size in metres that divides the 100 km EEA tiles (10, 20, 25 …)"
    )


def test_help_names_the_values_of_bbox_and_what_parcels_writes(capsys):
    code, out, _ = run_cli(capsys, "cube", "--help")
    assert code == 0
    assert "--bbox                     W S E N" in out and "<float,float" not in out
    code, out, _ = run_cli(capsys, "parcels", "--help")
    assert code == 0
    assert "GeoParquet and CSV" in out and "COGs" not in out


def test_version_exits_0(capsys):
    from baresoil import __version__

    code, out, _ = run_cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"baresoil {__version__}")


def test_show_completion_prints_a_bash_script(capsys, monkeypatch):
    """``--show-completion`` detects the user's shell; typer's switch for tests makes it take one."""
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    code, out, err = run_cli(capsys, "--show-completion", "bash")
    assert code == 0, err
    assert "complete -o default -F _baresoil_completion baresoil" in out
    assert "_BARESOIL_COMPLETE=complete_bash" in out


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("baresoil soil", "1", {"soil", "soilsuite"}),
        ("baresoil cube --res", "2", {"--resolution", "--resume"}),
    ],
)
def test_the_completion_script_completes_commands_and_options(capsys, monkeypatch, words, cword, expected):
    """What the shell runs on TAB (the script above): ``_BARESOIL_COMPLETE=complete_bash baresoil``."""
    monkeypatch.setenv("_BARESOIL_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", cword)
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert set(out.split()) == expected


def test_docs_check_that_finds_a_stale_page_exits_1(capsys, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text(
        "<!-- generated: cli cube -->\nstale\n<!-- end generated -->\n"
    )
    code, out, err = run_cli(capsys, "docs", "--check", "--root", tmp_path)
    assert code == 1
    assert "stale: docs/page.md" in out
    assert "run `make docs`" in err


def test_an_unexpected_error_is_one_line_and_exit_1(capsys, monkeypatch):
    """A bug is not a usage error: exit 1 (2 is click's usage status), one line unless --debug."""
    from baresoil.io import report  # the command imports it when it runs

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(report, "write_report", broken)
    code, _, err = run_cli(capsys, "report", "somewhere")
    assert code == 1
    assert err.strip() == "error: unexpected RuntimeError: a bug (run with --debug for details)"
    with pytest.raises(RuntimeError, match="a bug"):
        main(["--debug", "report", "somewhere"])


def test_the_report_title_default_is_the_reports_own():
    """The command keeps a copy of the page title (its help shows it without importing matplotlib)."""
    from baresoil.cli import report as command
    from baresoil.io import report

    assert command.TITLE == report.TITLE


def test_a_command_runs_with_its_own_module_imported_alone():
    """`baresoil soilsuite --help` imports no other command's libraries (matplotlib, scikit-learn)."""
    import subprocess
    import sys

    code = (
        "import sys; from baresoil.cli.main import main; main(['soilsuite', '--help']); "
        "print(sorted(m for m in ('matplotlib', 'sklearn', 'scipy.stats', 'baresoil.cli.report', "
        "'baresoil.simulate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")
