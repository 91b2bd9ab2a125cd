#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Configure (once) and build qemu-system-aarch64 with the overlay, and the
# qtest binaries when asked (QTESTS=1). Output: build/qemu.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

src=$("$top/scripts/prepare-qemu.sh")
out=$build/qemu
conf_args=(
    --target-list=aarch64-softmmu
    --disable-install-blobs --disable-download
    --python=/usr/bin/python3
    --disable-docs --disable-user --disable-tools --disable-guest-agent
    --enable-fdt=system
)
stamp="${conf_args[*]} ${QEMU_EXTRA_CONFIGURE:-}"
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$out/.configured" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    mkdir -p "$out"
    log "configuring QEMU $qemu_version (aarch64-softmmu)"
    # shellcheck disable=SC2086
    (cd "$out" && "$src/configure" "${conf_args[@]}" ${QEMU_EXTRA_CONFIGURE:-} > configure.log 2>&1) ||
        { tail -40 "$out/configure.log"; die "configure failed (log: $out/configure.log)"; }
    echo "$stamp" > "$out/.configured"
fi

targets=(qemu-system-aarch64)
if [ "${QTESTS:-0}" = 1 ]; then
    # Regenerate first so that newly added qtests are known targets.
    ninja -C "$out" build.ninja >/dev/null
    mapfile -t -O "${#targets[@]}" targets < <(ninja -C "$out" -t targets all 2>/dev/null |
                sed -n 's/^\(tests\/qtest\/[a-z0-9_-]*-test\): .*/\1/p' |
                grep -E '(smmu|cmdqv|iommufd)' || true)
fi
# A fresh build is ~3,000 ninja steps: show every 250th and the last one,
# and everything that is not a step line (warnings, errors).
progress() {
    # (ninja numbers a line by the steps finished when it starts, so with
    # -j2 some numbers never appear: report on crossing each multiple.)
    awk 'BEGIN { next_at = 250 }
         /^\[[0-9]+\/[0-9]+\] / { split(substr($1, 2), a, "/");
             n = a[1] + 0; m = a[2] + 0;
             if (n >= next_at || n == m) {
                 printf "[build-qemu.sh] step %d of %d\n", n, m;
                 while (next_at <= n) next_at += 250 }
             fflush(); next }
         { print; fflush() }'
}
build() { ninja -C "$out" "${targets[@]}" | progress; }
timed "building ${targets[*]}" build
emit "$out"
