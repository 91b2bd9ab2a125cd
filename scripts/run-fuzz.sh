#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the libFuzzer targets for FUZZ_SECONDS each (`make fuzz`: 600, a
# random seed), from the committed seeds plus the corpus kept in
# build/fuzz/corpus:
#   sim-uapi, vevent   the standalone targets of tests/fuzz (build-fuzz.sh)
#   qemu-smmuv3-accel, qemu-smmuv3-accel-cmdqv
#                      QEMU's generic-fuzz over the accelerated SMMUv3
#                      (and the CMDQV) with an edu endpoint
#                      (tests/fuzz/qemu, build-qemu-fuzz.sh)
# FUZZ_TARGETS="..." picks some. With FUZZ_SMOKE=1 (make check) each runs
# a fixed number of inputs from seed 1 instead, so that a smoke from the
# same seeds is the same run every time. Each target counts: passed when
# it ran that long with no finding (a crash, a sanitizer report, a leak, a
# timeout); a finding's reproducer is left in build/fuzz/findings/. Ends
# with "N passed, N failed".
#   --update-seeds   rewrite tests/fuzz/seeds-*.hex from the corpus
#                    (minimized to the inputs that keep its coverage)
set -uo pipefail
. "$(dirname "$0")/common.sh"

secs=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-sim-uapi vevent qemu-smmuv3-accel qemu-smmuv3-accel-cmdqv}
dir=$("$top/scripts/build-fuzz.sh") || { echo "0 passed, 1 failed"; exit 1; }
qfuzz=$top/tests/fuzz/qemu/qemu_fuzz.py
qdir=
case " $targets " in
*" qemu-"*)
    qdir=$("$top/scripts/build-qemu-fuzz.sh") ||
        { echo "0 passed, 1 failed"; exit 1; } ;;
esac
pass=0
fail=0
for target in $targets; do
    corpus=$dir/corpus/$target
    findings=$dir/findings/$target
    mkdir -p "$corpus" "$findings"
    extra=()
    case $target in
    qemu-*)
        # generic-fuzz: its configuration in the environment, seeds made
        # by qemu_fuzz.py, the dictionary of architected values
        bin=$qdir/qemu-fuzz-aarch64
        seeds=
        cfg=${target#qemu-}
        while IFS= read -r kv; do export "${kv?}"; done < <(python3 "$qfuzz" env "$cfg")
        python3 "$qfuzz" seeds "$cfg" "$corpus"
        extra=(--fuzz-target=generic-fuzz -dict="$top/tests/fuzz/qemu/smmuv3.dict"
               -rss_limit_mb=4096)
        ;;
    *)
        bin=$dir/tests/fuzz/fuzz-$target
        seeds=$top/tests/fuzz/seeds-$target.hex
        extra=(-rss_limit_mb=2048)
        ;;
    esac
    python3 - "$seeds" "$corpus" <<'PY'
import hashlib, os, sys
if not sys.argv[1] or not os.path.exists(sys.argv[1]):
    sys.exit(0)
for line in open(sys.argv[1]):
    if line.startswith('#') or not line.strip():
        continue
    data = bytes.fromhex(line.strip())
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(sys.argv[2], name)
    if not os.path.exists(path):
        open(path, 'wb').write(data)
PY
    if [ "${1:-}" = --update-seeds ]; then
        [ -n "$seeds" ] || continue     # (made by qemu_fuzz.py)
        tmp=$(mktemp -d)
        "$bin" -set_cover_merge=1 "$tmp" "$corpus" >/dev/null 2>&1
        python3 - "$tmp" "$seeds" "$target" <<'PY'
import os, sys
d = sys.argv[1]
with open(sys.argv[2], 'w') as f:
    f.write(f'# Seed corpus of fuzz-{sys.argv[3]}: one input per line, hex '
            '(scripts/run-fuzz.sh\n# unpacks it). Regenerate: run-fuzz.sh '
            '--update-seeds.\n')
    for n in sorted(os.listdir(d)):
        f.write(open(os.path.join(d, n), 'rb').read().hex() + '\n')
PY
        rm -rf "$tmp"
        log "rewrote $(basename "$seeds")"
        continue
    fi
    if [ "${FUZZ_SMOKE:-0}" = 1 ]; then
        # about 20 s each on this machine
        case $target in
        sim-uapi) how=(-runs=100000 -seed=1) ;;
        qemu-*) how=(-runs=2000 -seed=1) ;;
        *) how=(-runs=2000000 -seed=1) ;;
        esac
    else
        how=(-max_total_time="$secs")
    fi
    log "fuzz-$target: ${how[*]} (corpus: $(ls "$corpus" | wc -l) inputs)"
    out=$dir/fuzz-$target.log
    t0=$(date +%s)
    # (QEMU's UBSan recovers by default: any report is a finding here)
    (cd "$findings" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" "${extra[@]}" "${how[@]}" -max_len=4096 \
        -timeout=10 -print_final_stats=1 "$corpus" >"$out" 2>&1)
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
    cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1)
    if [ $rc = 0 ]; then
        echo "ok   fuzz-$target: ${runs:-?} executions in $(($(date +%s) - t0)) s, ${cov:-cov: ?}, no finding"
        pass=$((pass + 1))
    else
        echo "FAIL fuzz-$target: exit $rc after ${runs:-?} executions; reproducer in $findings"
        grep -E 'ERROR|SUMMARY|live objects|Test unit written' "$out" | head -20
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
