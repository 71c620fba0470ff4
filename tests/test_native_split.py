"""``python -m bench.perf.native_split``: sampled time split of a training iteration."""

import pytest

from bench.perf.native_split import (
    ALLOCATOR,
    DISPATCH,
    ELEMENTWISE,
    MATMUL,
    OPTIMIZER,
    PYTHON,
    bucket_of,
    main,
    run_iterations,
    split_report,
)

# the shape of `perf report --no-children --sort dso,sym -g none --percent-limit 0` rows
REPORT = """\
# Overhead  Shared Object        Symbol
# ........  ...................  ......
#
    40.00%  libtorch_cpu.so      [.] mkl_blas_def_sgemm_kernel_0_zen
    10.00%  libtorch_cpu.so      [.] callback_fn<AVX2::VectorizedLoop2d<threshold_kernel>>
    20.00%  libtorch_cpu.so      [.] torch::autograd::Engine::evaluate_function
    15.00%  libpython3.11.so.1.0 [.] _PyEval_EvalFrameDefault
     5.00%  libc.so.6            [.] _int_malloc
    10.00%  libtorch_cpu.so      [.] at::native::(anonymous namespace)::fused_adam_kernel
"""


def test_samples_fall_into_their_buckets_and_shares_sum_to_one():
    shares = split_report(REPORT)
    assert shares[MATMUL] == pytest.approx(0.4)
    assert shares[ELEMENTWISE] == pytest.approx(0.1)
    assert shares[DISPATCH] == pytest.approx(0.2)
    assert shares[PYTHON] == pytest.approx(0.15)
    assert shares[ALLOCATOR] == pytest.approx(0.05)
    assert shares[OPTIMIZER] == pytest.approx(0.1)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_a_gemm_is_a_matrix_product_wherever_it_lives():
    assert bucket_of("libscipy_openblas.so", "sgemm_kernel_HASWELL") == MATMUL
    assert bucket_of("libtorch_cpu.so", "at::native::cpu_kernel_vec<add>") == ELEMENTWISE


def test_an_empty_report_is_refused():
    with pytest.raises(ValueError, match="no samples"):
        split_report("# nothing sampled\n")


def test_run_times_the_group_and_tells_perf_when_to_sample(tmp_path, capsys):
    control = tmp_path / "ctl"  # a plain file stands in for perf's FIFO
    control.touch()
    main(["run", "wgan-gp", "2", "8", "2", "--perf-control", str(control)])
    assert control.read_text() == "enable\ndisable\n"
    assert "wgan-gp K=2 W=8:" in capsys.readouterr().out
    assert run_iterations("gan", 1, 8, 1) > 0


def test_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys):
    for argv in (["split", str(tmp_path / "absent.data")], ["run", "wgan-gp", "0", "8", "1"],
                 ["run", "no-such-gan", "1", "8", "1"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
            "python -m bench.perf.native_split")
