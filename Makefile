# SPDX-License-Identifier: GPL-2.0-or-later
# Front door. `make run` builds everything and boots the demo guest;
# `make check` runs every test suite. Caches: ~/.cache/smmuv3-accel,
# ~/.cache/ccache. QEMU_SRC=/path/to/qemu-10.2.2 uses your own tree.

.PHONY: all deps qemu sim guest run check check-unit check-guest bench \
        bench-quick patches patches-check clean distclean box host-box \
        check-box fuzz

all: deps qemu sim guest

deps:
	@scripts/setup-deps.sh

qemu: deps
	@scripts/build-qemu.sh >/dev/null

sim: deps
	@scripts/build-sim.sh >/dev/null

guest: deps
	@scripts/fetch-guest-stock.sh >/dev/null
	@scripts/build-guest-kernel.sh >/dev/null
	@scripts/fetch-busybox.sh >/dev/null

run: all
	@python3 scripts/run-demo.py

check: all box
	@scripts/check.sh

check-unit: deps
	@SUITES=unit scripts/check.sh

check-guest: deps
	@SUITES=guest scripts/check.sh

# The host box (docs/host-box.md): its L1 kernel, our QEMU for arm64,
# the L1 test programs and the 64 KiB-page L2 kernel; `make host-box
# L2_KERNEL=... L2_INITRD=...` boots your kernel as L2 on a passed-through
# disk.
box: deps
	@scripts/build-host-kernel.sh >/dev/null
	@scripts/build-qemu.sh --host=arm64 >/dev/null
	@scripts/build-box-tools.sh >/dev/null
	@scripts/build-guest-kernel.sh --pages=64k >/dev/null

host-box: qemu box
	@python3 scripts/host-box.py

check-box: qemu box sim
	@SUITES=box scripts/check.sh

# Benchmarks: ratios and counts against baselines measured in the same
# run (bench/run-bench.py); results in bench/results/latest.{json,md,png}.
bench: qemu guest
	@python3 bench/run-bench.py

bench-quick: qemu guest
	@python3 bench/run-bench.py --quick

# The libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each (default 600);
# findings in build/fuzz/findings/.
fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} scripts/run-fuzz.sh

patches:
	@scripts/make-patches.sh

# The series, and every commit of it built (about 10 minutes with ccache).
patches-check: deps
	@scripts/make-patches.sh --check

clean:
	rm -rf build

distclean: clean
	rm -rf $${XDG_CACHE_HOME:-$$HOME/.cache}/smmuv3-accel
