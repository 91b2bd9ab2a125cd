#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Cross-build the minimal arm64 guest kernel from Debian's linux-source-7.2
# with tests/guest/kernel-minimal.config over tinyconfig. Cached by the
# hash of the source version and the fragment. Prints the Image path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

frag=$top/tests/guest/kernel-minimal.config
ver=$("$top/scripts/fetch-linux-source.sh" --version)
key=$( (echo "$ver"; cat "$frag") | sha256sum | cut -c1-16)
out=$cache/guest/minimal-$key
if [ -f "$out/Image" ]; then
    emit "$out/Image"
    exit 0
fi

src=$("$top/scripts/fetch-linux-source.sh")
obj=$cache/guest/minimal-build
rm -rf "$obj"
mkdir -p "$obj"
# The source and the objects are both under $cache: with it as ccache's
# base directory, their paths hash alike from any cache directory.
mk=(env CCACHE_BASEDIR="$cache" make -s -C "$src" O="$obj" ARCH=arm64
    CROSS_COMPILE=aarch64-linux-gnu- CC="ccache aarch64-linux-gnu-gcc"
    -j"$(nproc)")
log "minimal guest kernel $ver (fragment $key): not cached, building it (about 5 min on 2 cores)"
"${mk[@]}" tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" >/dev/null
"${mk[@]}" olddefconfig >/dev/null
# Every line of the fragment must have survived Kconfig's dependencies.
missing=0
while read -r line; do
    case "$line" in CONFIG_*=*) ;; *) continue ;; esac
    if ! grep -qx "$line" "$obj/.config"; then
        log "fragment line not in the final config: $line"
        missing=1
    fi
done < "$frag"
[ $missing = 0 ] || die "kernel config fragment not honoured"
timed "cross-building the minimal guest kernel" "${mk[@]}" Image
mkdir -p "$out.tmp"
cp "$obj/arch/arm64/boot/Image" "$obj/.config" "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$obj"
emit "$out/Image"
