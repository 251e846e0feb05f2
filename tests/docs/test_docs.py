"""The documentation generator: generated blocks, staleness checks, quality reports, recorded benchmarks."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from baresoil import registry
from baresoil.products import soilsuite as _soilsuite  # noqa: F401  (registers the layers)

from tools.docs import DocsError, fill, generate
from tools.docs.quality import load_results, quality_page

ROOT = Path(__file__).resolve().parents[2]


def test_committed_docs_are_what_the_code_generates():
    """Encoding tables, defaults, options and quality reports in docs/ must match the code and the
    recorded benchmarks: run `make docs` after changing any of them."""
    stale = generate(ROOT, check=True)
    assert stale == [], f"stale documentation, run `make docs`: {[str(p.relative_to(ROOT)) for p in stale]}"


def test_fill_renders_blocks_and_keeps_the_prose():
    text = (
        "intro\n<!-- generated: echo a b -->\nold body\n<!-- end generated -->\nmiddle\n"
        "<!-- generated: echo c -->\n<!-- end generated -->\nend\n"
    )
    out = fill(text, {"echo": lambda args: "|".join(args)}, "page.md")
    assert out == (
        "intro\n<!-- generated: echo a b -->\na|b\n<!-- end generated -->\nmiddle\n"
        "<!-- generated: echo c -->\nc\n<!-- end generated -->\nend\n"
    )
    assert fill(out, {"echo": lambda args: "|".join(args)}, "page.md") == out  # idempotent


def test_a_block_inside_a_list_item_is_indented_like_its_marker():
    text = "1. step\n   <!-- generated: echo x -->\n   <!-- end generated -->\n2. next\n"
    out = fill(text, {"echo": lambda args: "| a |\n\n| b |"}, "page.md")
    body = "   | a |\n\n   | b |\n"
    assert out == f"1. step\n   <!-- generated: echo x -->\n{body}   <!-- end generated -->\n2. next\n"


def test_unknown_or_unclosed_blocks_are_errors():
    with pytest.raises(DocsError, match=r"page\.md: unknown generated block 'nope'"):
        fill("<!-- generated: nope -->\n<!-- end generated -->", {}, "page.md")
    with pytest.raises(DocsError, match="1 generated block\\(s\\) opened but 0 closed"):
        fill("<!-- generated: echo -->\nno end", {"echo": lambda args: ""}, "page.md")


def _page_root(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "manual.md"
    page.write_text(
        "# Layers\n\n<!-- generated: layers soilsuite -->\nhand-edited, wrong\n<!-- end generated -->\n"
    )
    return page


def test_encoding_table_is_generated_from_the_registry_and_goes_stale_with_it(tmp_path, monkeypatch):
    page = _page_root(tmp_path)
    assert page in generate(tmp_path, check=True)
    assert "hand-edited" in page.read_text()  # check mode writes nothing
    generate(tmp_path)
    text = page.read_text()
    assert "hand-edited" not in text
    for lay in registry.layers("soilsuite"):
        assert f"| `{lay.code}` | {lay.title} |" in text
    bsf = "| `BSF` | Bare-soil frequency | Bare observations in percent of valid observations. |"
    assert f"{bsf} uint16 | 65535 | 0.01 | 0 | % | 1 | drawn |" in text
    assert generate(tmp_path, check=True) == []  # written pages (and quality reports) are now current
    # the registry changes: the committed page no longer matches
    changed = dataclasses.replace(registry.layer("BSF"), scale=0.1)
    monkeypatch.setitem(registry._REGISTRY, "BSF", changed)
    assert page in generate(tmp_path, check=True)


def _record(bench: str, run: str, args: list[str], **figures: object) -> str:
    stamp = {"bench": bench, "run": run, "date": f"{run[:4]}-01-01T00:00:00Z", "commit": "abc123" * 7}
    return json.dumps({**stamp, "dirty": False, "args": args, "cpus": 2, **figures})


def test_quality_report_takes_the_latest_full_run_and_later_partial_ones_and_checks_the_targets(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    accuracy = {
        "benchmark": "soilsuite-accuracy",
        "threshold": "auto",
        "landcover": True,
        "confusion_pure": {"1->1": 90, "1->2": 10, "2->2": 50, "3->3": 5},
    }
    lines = [
        _record("bench_soilsuite", "2024", [], **accuracy, mask_oa_pure=0.90, bsf_mae_pp_pure=9.0),
        _record(
            "bench_soilsuite",
            "2025",
            [],
            **accuracy,
            mask_oa_pure=0.97,
            bsf_mae_pp_pure=2.5,
            src_rmse_max_interior=0.012,
        ),
        _record(
            "bench_soilsuite",
            "2026",
            ["--only", "speed"],
            benchmark="soilsuite-speed",
            ratio_to_reading=1.4,
        ),
    ]
    (results / "bench_soilsuite.jsonl").write_text("\n".join(lines) + "\n")
    runs = load_results(results)
    # the latest full run, and what the later partial run measured again
    assert [(r["run"], r["benchmark"]) for r in runs["bench_soilsuite"].records] == [
        ("2025", "soilsuite-accuracy"),
        ("2026", "soilsuite-speed"),
    ]
    page = quality_page("soilsuite", runs)
    assert (
        "Figures soilsuite-speed from `python benchmarks/record.py benchmarks/bench_soilsuite.py --only"
        in page
    )
    assert "| MASK overall accuracy | ≥ 0.95 | 0.97 | yes |" in page
    assert "| BSF mean absolute error (percentage points) | ≤ 3 | 2.5 | yes |" in page
    assert "| SRC_MEAN RMSE, worst band (reflectance) | ≤ 0.01 | 0.012 | **no** |" in page
    assert "| end-to-end time / reading the same COGs onto the grid (worst run) | ≤ 1.5 | 1.4 | yes |" in page
    assert "| 1 bare surface | 90 | 10 | 0 | 0 | 0.9 |" in page  # confusion matrix row with recall
    assert "on commit `abc123abc123`" in page
    assert "Not measured yet" in quality_page("seasons", runs)


def test_seasons_quality_states_coverage_against_width(tmp_path):
    conf = {
        "median_width_days": 12.0,
        "coverage_half_width": 0.88,
        "coverage_width": 0.97,
        "not_computable": 0.02,
    }
    record = _record(
        "bench_seasons",
        "2026",
        [],
        benchmark="seasons_accuracy",
        mode="pixel",
        combine="sum",
        year=2022,
        emergence_mae_days=5.0,
        harvest_mae_days=7.0,
        emergence_confidence=conf,
        harvest_confidence=conf,
    )
    (tmp_path / "bench_seasons.jsonl").write_text(record + "\n")
    page = quality_page("seasons", load_results(tmp_path))
    assert "| CPMCE mean absolute error (days) | ≤ 8 | 5 | yes |" in page
    assert "| CPMCH mean absolute error (days) | ≤ 6 | 7 | **no** |" in page
    assert "| CPMCECL | pixel | sum | band | 12 | 0.88 | 0.97 | 0.02 |" in page


def test_seasons_page_states_acceptance_per_pixel_and_per_field_with_declared_crops(tmp_path):
    common = {"benchmark": "seasons_accuracy", "combine": "sum", "harvest_rule": "views", "year": 2022}
    pixel = _record("bench_seasons", "2026", [], mode="pixel", emergence_mae_days=9.9, **common)
    field = _record("bench_seasons", "2026", [], mode="field+crops", emergence_mae_days=7.8, **common)
    (tmp_path / "bench_seasons.jsonl").write_text(pixel + "\n" + field + "\n")
    page = quality_page("seasons", load_results(tmp_path))
    per_pixel, per_field = page.split("Per field, with the crops declared for the year")
    assert "| CPMCE mean absolute error (days) | ≤ 8 | 9.9 | **no** |" in per_pixel
    assert "| CPMCE mean absolute error (days) | ≤ 8 | 7.8 | yes |" in per_field.split("## Accuracy")[0]


def test_seasons_page_splits_the_bare_period_error_by_how_it_ends(tmp_path):
    by_end = {"next emergence shown by a later view": {"pixels": 900, "mae_days": 7.5},
              "next emergence after the last views": {"pixels": 300, "mae_days": 30.0}}  # fmt: skip
    record = _record("bench_seasons", "2026", [], benchmark="seasons_accuracy", mode="pixel", combine="sum",
                     year=2022, CPBSA_mae_by_end=by_end, seen_days=20)  # fmt: skip
    (tmp_path / "bench_seasons.jsonl").write_text(record + "\n")
    page = quality_page("seasons", load_results(tmp_path))
    assert "comes 20 days or more after it" in page
    assert "| next emergence after the last views | 300 | 30 |" in page


def test_seasons_page_shows_the_band_on_views_left_out_of_its_fit(tmp_path):
    accuracy = _record("bench_seasons", "2026", [], benchmark="seasons_accuracy", mode="pixel", combine="sum")
    near = {"0-5": {"views": 200, "in_band": 0.81, "in_band_with_noise": 0.86}}
    figures = {"band_scale": 1.5, "pixels": 40, "views_held_out": 300, "in_band": 0.84}
    holdout = _record("bench_seasons", "2026", [], benchmark="seasons_band_holdout", **figures,
                      in_band_with_noise=0.87, by_days_to_nearest_view=near)  # fmt: skip
    (tmp_path / "bench_seasons.jsonl").write_text(accuracy + "\n" + holdout + "\n")
    page = quality_page("seasons", load_results(tmp_path))
    assert "(`seasons.band_scale` 1.5)" in page
    assert "| 0-5 | 200 | 0.81 | 0.86 |" in page
    assert "| all | 300 | 0.84 | 0.87 |" in page


def test_bench_seasons_tells_a_bare_period_ended_by_an_unseen_emergence():
    bench = _bench_module("bench_seasons")
    truth = pd.DataFrame({"harvest": [date(2022, 8, 1)] * 3, "bsa": [60.0, 60.0, 153.0]})
    times = np.array(["2022-10-05", "2022-10-25"], dtype="datetime64[D]")
    clear = np.array([[True, True, True], [True, False, True]])  # (time, pixel)
    errors = np.array([2.0, 40.0, 10.0])
    out = bench._bsa_by_end(errors, truth, clear, times)
    assert out == {  # the next crops emerge on 30 September
        "next emergence shown by a later view": {"pixels": 1, "mae_days": 2.0},  # clear on 25 October
        "next emergence after the last views": {"pixels": 1, "mae_days": 40.0},  # clear 5 days after only
        "no crop until 31 December": {"pixels": 1, "mae_days": 10.0},
    }


def _record_module():
    return _bench_module("record")


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_record_keeps_the_json_lines_with_their_provenance(tmp_path, capsys):
    record = _record_module()
    script = tmp_path / "bench_fake.py"
    script.write_text(
        'print("warming up")\nprint(\'{"benchmark": "fake", "seconds": 1.5}\')\n'
        'print(\'{"benchmark": "fake", "seconds": 2.5}\')\n'
    )
    results = tmp_path / "results"
    assert record.run(script, ["--x"], results) == 0
    assert "warming up" in capsys.readouterr().out  # the benchmark's output still shows
    rows = [json.loads(line) for line in (results / "bench_fake.jsonl").read_text().splitlines()]
    assert [r["seconds"] for r in rows] == [1.5, 2.5]
    assert {r["run"] for r in rows} == {rows[0]["run"]}
    assert rows[0]["bench"] == "bench_fake" and rows[0]["args"] == ["--x"]
    assert len(rows[0]["commit"]) == 40 and rows[0]["date"].endswith("Z")
    failing = tmp_path / "bench_broken.py"
    failing.write_text('print(\'{"benchmark": "broken"}\')\nraise SystemExit(3)\n')
    assert record.run(failing, [], results) == 3
    assert not (results / "bench_broken.jsonl").exists()  # a failed run records nothing


def test_docs_command_checks(capsys, tmp_path):
    """Through ``main`` as the shell runs it: a failing check is exit status 1, not 0."""
    from tests.support.cli_runner import run_cli

    _page_root(tmp_path)
    code, out, err = run_cli(capsys, "docs", "--check", "--root", str(tmp_path))
    assert code == 1
    assert "stale: docs/manual.md" in out + err
    assert run_cli(capsys, "docs", "--root", str(tmp_path))[0] == 0
    assert run_cli(capsys, "docs", "--check", "--root", str(tmp_path))[0] == 0


def test_docs_command_reports_the_tooling_errors_in_one_line(capsys, tmp_path, monkeypatch):
    """The tooling runs in a child interpreter: its error line and exit status come back as they were."""
    from tests.support.cli_runner import run_cli

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "manual.md").write_text("<!-- generated: nope -->\n<!-- end generated -->\n")
    monkeypatch.chdir(tmp_path)  # a relative --root is the caller's, not the checkout's
    code, out, err = run_cli(capsys, "docs", "--check", "--root", ".")
    assert (code, out) == (1, "")
    assert err.startswith("error: docs/manual.md: unknown generated block 'nope'; known: ")
    assert err.count("\n") == 1


def test_docs_command_finds_the_checkout_from_the_current_directory(tmp_path, monkeypatch):
    from baresoil.cli import docs

    monkeypatch.setattr(docs, "INSTALLED_FROM", tmp_path / "lib" / "python3")  # not a checkout
    assert docs.checkout_root(ROOT / "docs" / "quality") == ROOT
    assert docs.checkout_root(tmp_path) is None


def test_docs_command_outside_a_checkout_fails_in_one_line(capsys, tmp_path, monkeypatch):
    from baresoil.cli import docs

    from tests.support.cli_runner import run_cli

    monkeypatch.setattr(docs, "INSTALLED_FROM", tmp_path / "lib" / "python3")  # a wheel in site-packages
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "docs", "--check")
    assert (code, out) == (1, "")
    assert err.startswith("error: `baresoil docs` rebuilds the docs/ of a baresoil source checkout")
    assert err.count("\n") == 1


def test_generalisation_page_keeps_every_family_and_world_each_from_its_latest_run(tmp_path):
    results = tmp_path / "results"
    results.mkdir()

    def world(run, family, name, held_out, **figures):
        return _record("generalisation", run, ["--set", name], benchmark="generalisation", family=family,
                       world=name, held_out=held_out, **figures)  # fmt: skip

    summary = _record("generalisation", "2026-02", ["--set", "heldout"], benchmark="generalisation-summary",
                      family="soilsuite", set="heldout",
                      bsf_mae_pp_pure={"median": 4.0, "worst": 5.0, "worst_world": "south-203",
                                       "target": "<= 3.0", "met_on_every_world": False})  # fmt: skip
    lines = [
        world("2026-01", "soilsuite", "south-203", True, bsf_mae_pp_pure=9.0),
        world("2026-01", "seasons", "south-203", True, harvest_mae_days=4.0),
        world("2026-02", "soilsuite", "south-203", True, bsf_mae_pp_pure=5.0),  # replaces the first
        world("2026-02", "soilsuite", "central-201", True, bsf_mae_pp_pure=3.0),
        world("2026-03", "soilsuite", "central-101", False, bsf_mae_pp_pure=2.0),
        summary,
    ]
    (results / "generalisation.jsonl").write_text("\n".join(lines) + "\n")
    page = quality_page("generalisation", load_results(results))
    assert "| south-203 | 5 |" in page and "| south-203 | 9 |" not in page
    assert "| central-201 | 3 |" in page
    assert "| **worst** | 5 (south-203; met: **no**) |" in page
    assert "## seasons" in page and "| south-203 | 4 |" in page  # an earlier run of another family stays
    assert page.index("Held-out worlds") < page.index("| central-201") < page.index("Tuning worlds")
    assert page.index("Tuning worlds") < page.index("| central-101")
