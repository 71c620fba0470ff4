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
