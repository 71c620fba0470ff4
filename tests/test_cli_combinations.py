"""Option combinations that would do nothing are refused before any work: one `error:`
line, exit 2, nothing written."""

import pytest

from bench.cli import main


@pytest.mark.parametrize("argv, says", [
    (["perf", "--study", "--roofline"], "one at a time"),
    (["perf", "--members", "2"], "--members only apply to --roofline"),
    (["perf", "--roofline", "--trials", "3"], "--trials only apply to --study"),
])
def test_perf_options_that_would_be_ignored_are_refused(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and says in err


def test_perf_out_naming_a_directory_is_refused_before_timing(tmp_path, capsys):
    assert main(["perf", "--out", str(tmp_path), "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "is a directory" in err
    assert list(tmp_path.iterdir()) == []


def test_the_report_says_what_it_is_doing(tmp_path, capsys):
    """No silent minute: each stage and figure of the report is announced on stderr, and
    --no-progress silences them."""
    import yaml

    from tests.conftest import tiny_suite

    suite = tmp_path / "tiny.yaml"
    suite.write_text(yaml.safe_dump(tiny_suite(gans=["wgan-gp"], seeds=2,
                                               budget={"generator_steps": 4},
                                               model={"width": 8, "depth": 1})))
    out = tmp_path / "out"
    assert main(["run", "--suite", str(suite), "--out", str(out), "--no-progress",
                 "--no-report", "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "report: summary and tables" in err and "report: figure 1/" in err
    assert main(["report", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "report:" not in capsys.readouterr().err


def test_list_wraps_whole_sentences_in_aligned_columns(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 100 for line in lines)
    suites = lines[lines.index(next(x for x in lines if x.startswith("suites"))) + 1:]
    first = next(x for x in suites if x.startswith("  optimizers-toy"))
    text_column = len(first) - len(first[2:].split(" ", 1)[1].lstrip())
    assert all(x[text_column - 1] == " " for x in suites[:6])  # one column for every name
