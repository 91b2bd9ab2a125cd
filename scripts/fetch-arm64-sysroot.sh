#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A private arm64 sysroot for cross-building QEMU for the host box's L1:
# Debian's arm64 libraries and their -dev files, downloaded and extracted
# (never installed: libfdt-dev is not co-installable across architectures,
# and the host's own package set stays as it is). The same files are the
# run-time libraries of the L1 initramfs. Prints the sysroot directory;
# cached by the hash of the package list with the versions apt offers.
set -euo pipefail
. "$(dirname "$0")/common.sh"
value_output

# What qemu-system-aarch64 links (glib, fdt, zlib, pixman) and what those
# need at run time, plus the C library itself for the initramfs.
pkgs=(
    libc6 libgcc-s1
    libglib2.0-0 libglib2.0-dev libffi8 libpcre2-8-0 libmount1 libblkid1
    libselinux1 zlib1g zlib1g-dev libfdt1 libfdt-dev
    libpixman-1-0 libpixman-1-dev
    # pkg-config reads glib's Requires.private even for --cflags
    libpcre2-dev libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libffi-dev
    libmount-dev libblkid-dev libselinux1-dev libsepol-dev libsepol2
)

# One apt-cache call for all (one a package takes seconds each).
mapfile -t cands < <(apt-cache policy "${pkgs[@]/%/:arm64}" 2>/dev/null |
                     awk '/^[^ ].*:$/ { name = $1; sub(/:arm64:$/, "", name) }
                          /^ *Candidate: / { print name "=" $2 }')
versions=()
for p in "${pkgs[@]}"; do
    v=""
    for c in "${cands[@]}"; do
        [ "${c%%=*}" = "$p" ] && v=${c#*=}
    done
    [ -n "$v" ] && [ "$v" != "(none)" ] ||
        die "apt offers no $p:arm64 (run scripts/setup-apt.sh: it adds the arm64 architecture)"
    versions+=("$p=$v")
done
key=$(printf '%s\n' "${versions[@]}" | sha256sum | cut -c1-16)
out=$cache/box/sysroot-arm64-$key
if [ -f "$out/.done" ]; then
    emit "$out"
    exit 0
fi

log "arm64 sysroot ($key): downloading ${#pkgs[@]} Debian arm64 packages"
rm -rf "$out.tmp" && mkdir -p "$out.tmp/debs"
(cd "$out.tmp/debs" && apt-get download -q "${versions[@]/=/:arm64=}" >/dev/null) ||
    die "apt-get download of the arm64 packages failed"
for deb in "$out.tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$out.tmp"
done
rm -rf "$out.tmp/debs" "$out.tmp/usr/share/doc" "$out.tmp/usr/share/man"
# Debian's arm64 libraries live in /lib and /usr/lib (merged /usr on
# a real system): make both lookups work in the extracted tree.
if [ -d "$out.tmp/lib" ] && [ ! -L "$out.tmp/lib" ]; then
    mkdir -p "$out.tmp/usr/lib"
    cp -a "$out.tmp/lib/." "$out.tmp/usr/lib/"
    rm -rf "$out.tmp/lib"
fi
ln -sfn usr/lib "$out.tmp/lib"
# Absolute symlinks (libfoo.so -> /lib/...) must point into the sysroot.
find "$out.tmp" -type l -lname '/*' | while read -r l; do
    ln -sfn "$out.tmp$(readlink "$l")" "$l"
done
printf '%s\n' "${versions[@]}" > "$out.tmp/packages"
rm -rf "$out" && mv "$out.tmp" "$out"
# Symlinks were made with the .tmp path: point them at the final one.
find "$out" -type l -lname "$out.tmp/*" | while read -r l; do
    ln -sfn "$(readlink "$l" | sed "s|^$out.tmp|$out|")" "$l"
done
touch "$out/.done"
# Sysroots of other package versions are of no further use.
for d in "$cache"/box/sysroot-arm64-*; do
    [ "$d" = "$out" ] || rm -rf "$d"
done
emit "$out"
