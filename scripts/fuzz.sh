#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS seconds each and reports,
# per target, how many inputs were executed and whether a crash was found.
#
#   scripts/fuzz.sh SECONDS
#
# Needs a nightly toolchain (libFuzzer instrumentation is nightly-only);
# cargo-fuzz is installed if missing. The corpus of each target grows in
# fuzz/corpus/<target>/ (gitignored) and is seeded from fuzz/seeds/<target>/;
# crashing inputs land in fuzz/artifacts/<target>/ and the full libFuzzer log
# in fuzz/artifacts/<target>.log (outside the directory where cargo-fuzz looks
# for crashing inputs).
# Honours CARGO_TARGET_DIR; the toolchain can be changed with FUZZ_TOOLCHAIN.
# Exits non-zero if a target fails to build or any target crashed.
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS" >&2
    exit 2
}

[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1
toolchain=${FUZZ_TOOLCHAIN:-nightly}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz_dir=$root/fuzz

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz…" >&2
    cargo install cargo-fuzz --locked
fi

fuzz=(cargo "+$toolchain" fuzz)
build_opts=(--fuzz-dir "$fuzz_dir")
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
    build_opts+=(--target-dir "$CARGO_TARGET_DIR")
fi

# Build everything up front so a compile error is not mistaken for a crash.
"${fuzz[@]}" build "${build_opts[@]}"

mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir "$fuzz_dir")
crashed=()
for target in "${targets[@]}"; do
    corpus=$fuzz_dir/corpus/$target
    seeds=$fuzz_dir/seeds/$target
    artifacts=$fuzz_dir/artifacts/$target
    log=$artifacts.log
    mkdir -p "$corpus" "$seeds" "$artifacts"

    echo "== $target: fuzzing for ${seconds}s (log: ${log#"$root"/})"
    status=0
    "${fuzz[@]}" run "${build_opts[@]}" "$target" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "   executions: ${execs:-unknown}"
    if [[ $status -eq 0 ]]; then
        echo "   crash: none"
    else
        crashed+=("$target")
        echo "   crash: YES (exit status $status)"
        grep -E -A1 'panicked at|ERROR: libFuzzer|Test unit written to' "$log" |
            grep -v '^--$' | sed 's/^/   | /' || true
        echo "   reproduce: cargo +$toolchain fuzz run --fuzz-dir fuzz $target <crashing input>"
    fi
done

if [[ ${#crashed[@]} -gt 0 ]]; then
    echo "crashes found in: ${crashed[*]}" >&2
    exit 1
fi
echo "no crashes in ${#targets[@]} target(s)"
