#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The host box's L1 test programs, static arm64 binaries:
# conformance-real (tests/conformance against the real /dev/iommu),
# cmdqv-uapi (the real kernel's Tegra241 CMDQV uAPI, as a VMM drives it),
# and for L2, nvme-dma (an NVMe DMA at a chosen IOVA, from user space)
# and vcmdq-ill (an illegal command on a guest VCMDQ, through /dev/mem).
# Cached by the hash of their sources and the uAPI headers; prints the
# directory holding them.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

pristine=$("$top/scripts/fetch-qemu.sh")
hdrs=$pristine/linux-headers
srcs=("$top"/tests/conformance/conformance.{c,h} "$top"/tests/conformance/host-real.c
      "$top"/tests/conformance/nvme-fetch.h "$top"/tests/box/nvme-dma.c
      "$top"/tests/box/cmdqv-uapi.c "$top"/tests/box/vcmdq-ill.c)
key=$( (cat "${srcs[@]}" "$hdrs/linux/iommufd.h" "$hdrs/linux/vfio.h";
        aarch64-linux-gnu-gcc --version | head -1) | sha256sum | cut -c1-16)
out=$cache/box/tools-$key
if [ -x "$out/conformance-real" ] && [ -x "$out/nvme-dma" ] &&
   [ -x "$out/cmdqv-uapi" ] && [ -x "$out/vcmdq-ill" ]; then
    emit "$out"
    exit 0
fi
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
aarch64-linux-gnu-gcc -O2 -Wall -Werror -static -I"$hdrs" \
    -I"$top/tests/conformance" "$top/tests/conformance/conformance.c" \
    "$top/tests/conformance/host-real.c" -o "$out.tmp/conformance-real"
aarch64-linux-gnu-gcc -O2 -Wall -Werror -static -I"$top/tests/conformance" \
    "$top/tests/box/nvme-dma.c" \
    -o "$out.tmp/nvme-dma"
aarch64-linux-gnu-gcc -O2 -Wall -Werror -static -I"$hdrs" \
    "$top/tests/box/cmdqv-uapi.c" -o "$out.tmp/cmdqv-uapi"
aarch64-linux-gnu-gcc -O2 -Wall -Werror -static \
    "$top/tests/box/vcmdq-ill.c" -o "$out.tmp/vcmdq-ill"
rm -rf "$out" && mv "$out.tmp" "$out"
emit "$out"
