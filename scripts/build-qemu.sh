#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Configure (once) and build qemu-system-aarch64 with the overlay, and the
# qtest binaries when asked (QTESTS=1). Output: build/qemu.
set -euo pipefail
. "$(dirname "$0")/common.sh"

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
log "building ${targets[*]}"
ninja -C "$out" "${targets[@]}" >&2
echo "$out"
