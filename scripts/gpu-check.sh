#!/usr/bin/env bash
# The GPU checks of docs/PERFORMANCE.md in one unattended run, sized for a lent GPU:
# environment, CUDA-only tests, perf (K = 1, 8, 64, 256 x widths 64, 512, speed-ups on and off),
# FID on 10k images and the Frechet distance against pytorch-fid, the ci suite, a time-boxed
# paper-toy group, then summary.md. Each step has its own timeout and the whole run a time box
# (--budget-seconds, 8 minutes by default, the install included); a step that fails is logged
# and the next one runs. `--device cpu` is the dry run: the same steps at toy sizes.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: scripts/gpu-check.sh [--device cuda|cpu] [--out DIR] [--no-install] [--pack]
                            [--budget-seconds N]

  --device cuda|cpu    cuda (default): the GPU checks; cpu: the dry run at toy sizes, CUDA-only
                       steps skipped with a note
  --out DIR            output folder (default: $OUT if set, else results/gpu-check-<time>)
  --no-install         skip `pip install -e ".[dev]"` (the default installs first)
  --pack               leave only summary.md and gpu-check.tar.gz (everything) in the output
                       folder, for tools that copy back a few files
  --budget-seconds N   time box of the whole run, install included (default: 480)

  PYTHON               the interpreter every step runs (default: the first `python` on
                       PATH), e.g. PYTHON=.venv/bin/python for an environment not activated
EOF
}

die() { echo "error: $*" >&2; exit 2; }

device=cuda
install=1
pack=0
budget=480
out_dir=${OUT:-}
while (($#)); do
    case $1 in
        --device) [[ ${2:-} == cuda || ${2:-} == cpu ]] || die "--device takes cuda or cpu"
                  device=$2; shift 2 ;;
        --out) [[ -n ${2:-} ]] || die "--out takes a folder"; out_dir=$2; shift 2 ;;
        --no-install) install=0; shift ;;
        --pack) pack=1; shift ;;
        --budget-seconds) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--budget-seconds takes a positive integer"
                          budget=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ -n $out_dir ]] && out_dir=$(realpath -m -- "$out_dir")  # relative to where it was called
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's code, installed or not
python=${PYTHON:-python}
out_dir=${out_dir:-results/gpu-check-$(date +%Y%m%d-%H%M%S)}
if [[ -e $out_dir && -n $(ls -A -- "$out_dir" 2>/dev/null) ]]; then
    die "output folder $out_dir is not empty; give a new or empty one"
fi
mkdir -p "$out_dir/logs" || die "cannot create $out_dir"
steps_file=$out_dir/steps.tsv
: >"$steps_file"
start=$SECONDS
reserve=20  # seconds kept for the summary and the tarball

# Sizes. GPU: the targets' sizes, trimmed to the time box (estimates, see PERFORMANCE.md).
# CPU dry run: toy sizes, and FID end to end left out (Inception + a 2048-d sqrtm take minutes).
perf_off=(--compile off --cuda-graphs off --channels-last off)
if [[ $device == cuda ]]; then
    members=(1 8 64 256)
    widths=(512 64)  # the targets' width first: the time box may cut the last steps
    perf_size=(--steps 100 --warmup 10)  # warm-up >= 10: the graph capture falls inside it
    perf_on=(--compile on --cuda-graphs on --channels-last on)
    fid_size=(--fid-images 10000)
    ci_suite=(--suite ci)
    # paper-toy evaluates every 5,000 steps (~1 s of exact W1 per member each); every 10,000
    # bounds the evaluations inside the time box, and the summary counts paper-toy's own
    slice_sets=(--set eval.every=10000)
    slice_seconds=120
    slice_min=20  # less training than this extrapolates mostly the compile
    slice_overhead=90  # start-up, compile and capture, and the evaluations around the budget
else
    export OMP_NUM_THREADS=1  # tiny tensors on a shared CPU: threads only wait on each other
    members=(1 2)
    widths=(16)
    perf_size=(--steps 2 --warmup 1 --threads 1)
    perf_on=(--compile auto --cuda-graphs auto --channels-last on)  # what "on" can be here
    fid_size=(--fid-dim 64 --fid-samples 600 --fid-images 0)
    ci_suite=(--suite "$out_dir/ci-toy.yaml" --seeds 2 --budget generator_steps=4 --workers 1)
    ci_cell=(--keep gans=wgan-gp --keep optimizers=adam)  # one group: the report stays quick
    toy_sets=(--set model.width=8 --set eval.samples=200 --set eval.w1_samples=50
              --set eval.critic_samples=200)
    slice_sets=("${toy_sets[@]}" --set eval.every=10)  # checkpoints for the steady rate
    slice_seconds=2
    slice_min=1
    slice_overhead=60
fi

left() { echo $((budget - (SECONDS - start) - reserve)); }

quoted() {  # the command as one line a shell reads back as the same words
    (($#)) || return 0
    local line
    line=$(printf '%q ' "$@")
    echo "${line% }"
}

record() {  # name status rc seconds note command...
    local name=$1 status=$2 rc=$3 seconds=$4 note=$5
    shift 5
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$seconds" "$(quoted "$@")" \
        "$note" >>"$steps_file"
}

step() {  # name cap_seconds command...: run under min(cap, time left), log, record
    local name=$1 cap=$2
    shift 2
    local limit
    limit=$(left)
    if ((limit < 5)); then
        echo "== $name: skipped, the time box is spent"
        record "$name" skipped "" 0 "skipped: the ${budget} s time box was spent" "$@"
        return 1
    fi
    ((cap < limit)) && limit=$cap
    local log=$out_dir/logs/$name.log t0=$SECONDS rc status
    echo "== $name (timeout ${limit} s): $*"
    echo "\$ $(quoted "$@")" >"$log"
    timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
    rc=$?
    case $rc in
        0) status=ok ;;
        124|137) status="timed out"; echo "timed out after ${limit} s" >>"$log" ;;
        *) status=failed ;;
    esac
    echo "   $status (exit $rc, $((SECONDS - t0)) s)"
    record "$name" "$status" "$rc" $((SECONDS - t0)) "" "$@"
    return "$rc"
}

skip() {  # name note: a step that does not apply here
    echo "== $1: skipped ($2)"
    record "$1" skipped "" 0 "$2"
}

# 0. install this checkout (its code is on PYTHONPATH either way)
if ((install)); then
    step install 150 "$python" -m pip install --retries 1 --timeout 10 -e ".[dev]"  # offline: fails fast
else
    skip install "--no-install"
fi

# 1. environment
if [[ $device == cuda ]] && command -v nvidia-smi >/dev/null; then
    step nvidia-smi 30 nvidia-smi
else
    skip nvidia-smi "no nvidia-smi on this machine (CPU dry run or no driver)"
fi
step env 60 "$python" -m bench.perf.gpu_check env "$out_dir/env.json" --device "$device"

# 2. the CUDA-only tests (marked `cuda`; from the files that use the marker)
if [[ $device == cuda ]]; then
    mapfile -t cuda_test_files < <(grep -rlE 'pytest\.mark\.cuda' tests --include='*.py' | sort)
    step cuda-tests 150 "$python" -m pytest -m cuda -n 0 -p no:cacheprovider -q \
        --junitxml="$out_dir/cuda-tests.xml" "${cuda_test_files[@]}"
else
    skip cuda-tests "CUDA-only: the dry run has no CUDA device"
fi

# 3. training speed: the reference loop beside the suite's, speed-ups on and off
for width in "${widths[@]}"; do
    for mode in on off; do
        if [[ $mode == on ]]; then flags=("${perf_on[@]}"); else flags=("${perf_off[@]}"); fi
        step "perf-w$width-$mode" 120 "$python" run_bench.py perf --device "$device" \
            --width "$width" --seeds "${members[@]}" "${perf_size[@]}" "${flags[@]}" --no-fid \
            --out "$out_dir/perf-w$width-$mode.json"
    done
done

# 4. FID end to end and the Frechet distance against pytorch-fid (random Inception weights)
step fid 180 "$python" run_bench.py perf --device "$device" --steps 1 --warmup 1 --width 16 \
    --seeds 1 --compile off --cuda-graphs off "${fid_size[@]}" --out "$out_dir/perf-fid.json"

# 5. the ci suite (report.md: the speed-ups used, or why one fell back)
if [[ $device != cuda ]]; then
    step ci-toy-suite 60 "$python" -m bench.perf.gpu_check derive ci "$out_dir/ci-toy.yaml" \
        "${ci_cell[@]}" "${toy_sets[@]}"
fi
ci_cap=$(($(left) - slice_min - slice_overhead))  # the slice's shortest run stays possible
((ci_cap > 180)) && ci_cap=180
if ((ci_cap >= 30)); then
    step ci "$ci_cap" "$python" run_bench.py run "${ci_suite[@]}" --device "$device" \
        --no-progress --out "$out_dir/ci"
else
    skip ci "skipped: the ${budget} s time box was spent"
fi

# 6. one paper-toy group of 5 members for a fixed training time, extrapolated in the summary
step paper-toy-slice-suite 60 "$python" -m bench.perf.gpu_check derive paper-toy \
    "$out_dir/paper-toy-slice.yaml" --name paper-toy-slice --keep datasets=ring8 \
    --keep gans=wgan-gp --keep optimizers=adam "${slice_sets[@]}"
seconds=$(($(left) - slice_overhead))
((seconds > slice_seconds)) && seconds=$slice_seconds
if ((seconds >= slice_min)); then
    step paper-toy-slice $((seconds + slice_overhead)) "$python" run_bench.py run \
        --suite "$out_dir/paper-toy-slice.yaml" --device "$device" --budget "seconds=$seconds" \
        --no-progress --no-report --out "$out_dir/paper-toy-slice"
else
    skip paper-toy-slice "skipped: the ${budget} s time box was spent"
fi

# 7. keep the folder small (networks and resume checkpoints are not figures), then summarise
find "$out_dir" \( -name models.pt -o -name checkpoints \) -prune -exec rm -rf {} +
reserve=0
step summary 60 "$python" -m bench.perf.gpu_check summary "$out_dir" --device "$device"

tarball=gpu-check.tar.gz
find "$out_dir" -mindepth 1 -maxdepth 1 ! -name "$tarball" -printf '%P\0' |
    tar -czf "$out_dir/$tarball" -C "$out_dir" --null -T -
if ((pack)); then
    find "$out_dir" -mindepth 1 -maxdepth 1 ! -name summary.md ! -name "$tarball" -exec rm -rf {} +
fi
echo "summary: $out_dir/summary.md ($(du -sh "$out_dir" | cut -f1) in $out_dir, $((SECONDS - start)) s)"
