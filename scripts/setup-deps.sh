#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install every host package the build and the tests need (idempotent).
# Runs as root; does nothing when everything is already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

host_pkgs=(
    build-essential ccache rsync ninja-build pkg-config git dpkg-dev quilt
    python3 python3-venv python3-setuptools
    libglib2.0-dev libfdt-dev libpixman-1-dev zlib1g-dev flex bison
    check
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross bc cpio xz-utils kmod
    libssl-dev libelf-dev
    qemu-efi-aarch64 dosfstools mtools
    jq gnuplot-nox
    device-tree-compiler acpica-tools
    clang libclang-rt-14-dev
)
backports_pkgs=(meson python3-pycotap)

missing=()
for p in "${host_pkgs[@]}" "${backports_pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        missing+=("$p")
done
meson_ok=0
if command -v meson >/dev/null &&
   dpkg --compare-versions "$(meson --version)" ge 1.5.0; then
    meson_ok=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $meson_ok = 1 ]; then
    "$here/setup-apt.sh"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
    exit 1
fi

"$here/setup-apt.sh"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${host_pkgs[@]}"
apt-get install -y -q --no-install-recommends -t bookworm-backports "${backports_pkgs[@]}"
