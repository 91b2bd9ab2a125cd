#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run every test suite and end with one line: "N passed, N failed".
#   unit   Check suites of sim/ (each Check test case counts), plain,
#          under ASan+UBSan and under ThreadSanitizer
#   qtest  our qtests, through QEMU's meson test runner
#   fault  the fault campaign: each host ioctl the accelerated SMMUv3
#          makes, failing with each errno Linux returns there, at boot,
#          during I/O and at reset (tests/fault/, each case counts)
#   fuzz   a smoke of each libFuzzer target of tests/fuzz (fixed inputs)
#   build  a build without CONFIG_IOMMUFD (non-Linux hosts) would link:
#          the stubs resolve every symbol (tests/build/, each check counts)
#   firmware  the IORT, DSDT and device tree QEMU generates, against the
#          expected copies in tests/firmware/expected (each check counts)
#   guest  full-system boots of real Linux guests (tests/guest/test-*.py)
#   box    the host box: L0 TCG, L1 a real Linux iommufd/VFIO/KVM host,
#          L2 on a passed-through disk; and the differential conformance
#          of iommufd-sim against L1's kernel (tests/box/test-*.py)
#   setup  the fetch and build scripts on an empty cache and build tree
#          (tests/setup/test-cold-cache.sh: each check counts)
# SUITES="unit guest" selects; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/common.sh"

suites=${SUITES:-unit qtest fault fuzz build firmware guest box setup}
total_pass=0
total_fail=0
summary=()

# Each summary line also gives the time since the previous one (or since
# the start): what a suite, or a test file of one, cost.
t_mark=$SECONDS
t_start=$SECONDS
elapsed() {   # elapsed SECONDS: "12m34s"
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}
count() {   # count NAME PASSED FAILED
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    summary+=("$(printf '%-14s %4d passed, %d failed  (%s)' "$1" "$2" "$3" \
                "$(elapsed $((SECONDS - t_mark)))")")
    t_mark=$SECONDS
}

# count_file NAME CMD...: run a test file that ends with its own
# "N passed, N failed" line. Its exit status counts as well as that line:
# a file that exits non-zero, prints no summary or ran no case is a failure.
count_file() {
    local name=$1 out rc line p f
    shift
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
    rm -f "$out"
    p=0; f=0
    if [ -n "$line" ]; then
        p=${line%% *}
        f=$(echo "$line" | awk '{print $3}')
    fi
    if [ $rc != 0 ] && [ "$f" = 0 ]; then
        echo "    FAIL $name: exited $rc with no failed case counted"
        f=1
    elif [ $rc = 0 ] && [ $((p + f)) = 0 ]; then
        echo "    FAIL $name: ran no case"
        f=1
    elif [ $rc = 0 ] && [ "$f" != 0 ]; then
        echo "    FAIL $name: counted $f failed case(s) but exited 0"
    fi
    count "$name" "$p" "$f"
}

check_counts() {   # sum "Checks: N, Failures: F, Errors: E" lines of a log
    awk '/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
            gsub(/,/, ""); for (i = 1; i <= NF; i++) {
                if ($i == "Checks:") c += $(i + 1)
                if ($i == "Failures:") f += $(i + 1)
                if ($i == "Errors:") e += $(i + 1) } }
         END { printf "%d %d\n", c - f - e, f + e }' "$1"
}

run_unit() {   # run_unit LABEL BUILD-DIR
    local dir=$2 rc p f
    meson test -C "$dir" --no-rebuild --print-errorlogs --verbose \
        > "$dir/check.log" 2>&1
    rc=$?
    grep -E '^ *[0-9]+/[0-9]+ .*(OK|FAIL|ERROR|TIMEOUT)' "$dir/check.log" | sed 's/^/    /'
    read -r p f < <(check_counts "$dir/check.log")
    if [ $((p + f)) = 0 ]; then
        echo "    FAIL $1: no Check test ran"
        f=1
    fi
    if [ $rc != 0 ]; then
        grep -E ':[EF]:|FAIL|ERROR|runtime error|AddressSanitizer|ThreadSanitizer' "$dir/check.log" | head -40
        [ "$f" -gt 0 ] || f=1   # a suite that crashed before counting
    fi
    count "$1" "$p" "$f"
}

for s in $suites; do
    case $s in
    unit)
        log "unit tests (Check)"
        if dir=$("$top/scripts/build-sim.sh"); then
            run_unit unit "$dir"
        else
            count unit 0 1
        fi
        log "unit tests under ASan+UBSan"
        if dir=$(SANITIZE=1 "$top/scripts/build-sim.sh"); then
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                run_unit unit-asan "$dir"
        else
            count unit-asan 0 1
        fi
        # The CMDQV engine is a thread: ThreadSanitizer, any report fails.
        log "unit tests under ThreadSanitizer"
        if dir=$(SANITIZE=thread "$top/scripts/build-sim.sh"); then
            TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
                run_unit unit-tsan "$dir"
        else
            count unit-tsan 0 1
        fi
        ;;
    qtest)
        tests=$(cd "$top/tests/qtest" 2>/dev/null && ls *-test.c 2>/dev/null | sed 's/\.c$//')
        if [ -z "$tests" ]; then
            log "qtests: none yet"
            continue
        fi
        log "qtests: $(echo $tests)"
        if out=$(QTESTS=1 "$top/scripts/build-qemu.sh"); then
            p=0; f=0
            for t in $tests; do
                # Each qtest case counts: the TAP lines meson logs.
                if (cd "$out" && QTEST_QEMU_BINARY=./qemu-system-aarch64 \
                        meson test --no-rebuild --print-errorlogs "qtest-aarch64/$t" \
                        > "$out/$t.log" 2>&1); then
                    rc=0
                else
                    rc=1
                fi
                tp=$(grep -acE '^ok [0-9]+ ' "$out/meson-logs/testlog.txt")
                tf=$(grep -acE '^not ok [0-9]+ ' "$out/meson-logs/testlog.txt")
                if [ $rc != 0 ] && [ "$tf" = 0 ]; then
                    tf=1    # crashed or timed out before reporting
                elif [ "$tp" = 0 ] && [ "$tf" = 0 ]; then
                    tf=1 rc=1   # a qtest binary that ran no case
                fi
                p=$((p + tp)); f=$((f + tf))
                if [ $rc = 0 ]; then
                    echo "    ok   $t ($tp cases)"
                else
                    echo "    FAIL $t ($tp ok, $tf failed)"; tail -60 "$out/$t.log"
                fi
            done
            count qtest "$p" "$f"
        else
            count qtest 0 1
        fi
        ;;
    guest | box)
        # Python test files of tests/$s/, each counted by its own summary.
        if ! "$top/scripts/build-qemu.sh" >/dev/null; then
            count "$s" 0 1
            continue
        fi
        for t in "$top/tests/$s"/test-*.py; do
            log "$s: $(basename "$t")"
            count_file "$(basename "$t" .py)" python3 "$t"
        done
        ;;
    fault)
        if ! "$top/scripts/build-qemu.sh" >/dev/null; then
            count fault 0 1
            continue
        fi
        log "fault campaign (tests/fault/test-fault-campaign.py)"
        count_file fault python3 "$top/tests/fault/test-fault-campaign.py"
        ;;
    fuzz)
        # A smoke of each libFuzzer target (make fuzz runs them longer).
        log "fuzz targets, a fixed smoke each (scripts/run-fuzz.sh)"
        count_file fuzz env FUZZ_SMOKE=1 "$top/scripts/run-fuzz.sh"
        ;;
    build)
        if ! out=$("$top/scripts/build-qemu.sh"); then
            count build 0 1
            continue
        fi
        log "a link without CONFIG_IOMMUFD (tests/build/test-no-iommufd-link.py)"
        count_file build python3 "$top/tests/build/test-no-iommufd-link.py" "$out"
        ;;
    firmware)
        if ! "$top/scripts/build-qemu.sh" >/dev/null; then
            count firmware 0 1
            continue
        fi
        log "firmware tables (tests/firmware/test-firmware-tables.py)"
        count_file firmware python3 "$top/tests/firmware/test-firmware-tables.py"
        ;;
    setup)
        log "set-up scripts on an empty cache (tests/setup/test-cold-cache.sh)"
        count_file setup "$top/tests/setup/test-cold-cache.sh"
        ;;
    *) die "unknown suite $s" ;;
    esac
done

echo
printf '%s\n' "${summary[@]}"
echo "all suites: $(elapsed $((SECONDS - t_start)))"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
