#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Cross-build the minimal arm64 kernel from Debian's linux-source-7.2:
# tinyconfig + tests/guest/kernel-minimal.config (the drivers a guest on
# QEMU virt needs) + box/kernel-host.config (what the host box's L1 needs:
# KVM, iommufd, VFIO). One kernel for both roles, so a new machine builds
# it once: make run's guest, the L2 guests and the box's L1 host
# (build-host-kernel.sh answers with this one). --pages=64k: the guest
# fragment + tests/guest/kernel-64k.config, 64 KiB pages, a guest only.
# Cached by the hash of the source version and the fragments. Prints the
# Image path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$top/scripts/kernel-lib.sh"
value_output

frags=("$top/tests/guest/kernel-minimal.config")
name=minimal
case "${1:-}" in
    "" | --pages=4k) frags+=("$top/box/kernel-host.config") ;;
    --pages=64k) frags+=("$top/tests/guest/kernel-64k.config"); name=minimal-64k ;;
    *) die "usage: $0 [--pages=4k|64k]" ;;
esac
kernel_init
key=$(kernel_key tinyconfig "${frags[@]}")
out=$cache/guest/$name-$key
if [ -f "$out/Image" ]; then
    emit "$out/Image"
    exit 0
fi

kernel_fetch_source
obj=$cache/guest/$name-build
log "$name guest kernel $kernel_ver (fragment $key): not cached, building it (about 11 min on 2 cores)"
kernel_configure "$obj" tinyconfig "${frags[@]}"
timed "cross-building the minimal guest kernel" kernel_mk "$obj" Image
mkdir -p "$out.tmp"
cp "$obj/arch/arm64/boot/Image" "$obj/.config" "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$obj"
emit "$out/Image"
