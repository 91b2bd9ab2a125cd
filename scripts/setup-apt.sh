#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make the extra Debian suites this project needs visible to apt, without
# letting them upgrade anything on the host:
#   bookworm-backports  meson >= 1.5 and python3-pycotap (QEMU 10.2 configure)
#   sid (deb-src)        qemu 1:10.2.2+ds-1 and linux-source-7.2 sources
#   sid (arm64 binaries) the stock arm64 kernel image (downloaded, not installed)
# The archive URI is taken from the machine's own apt sources: no host name
# is written here. Idempotent; must run as root.
set -euo pipefail

list=/etc/apt/sources.list.d/smmuv3-accel-extra.sources
prefs=/etc/apt/preferences.d/smmuv3-accel-extra

archive_uri() {
    local uri
    # deb822 sources first, then one-line sources; skip security/updates URIs.
    uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
          awk '{for (i = 2; i <= NF; i++) print $i}' |
          grep -v -e security -e "$(basename "$list")" | grep -m1 '/debian/\?$' || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
              sed 's/\[[^]]*\]//' | awk '{print $2}' | grep -v security |
              grep -m1 '/debian/\?$' || true)
    fi
    [ -n "$uri" ] || { echo "setup-apt: no Debian archive URI in /etc/apt sources" >&2; exit 1; }
    echo "${uri%/}"
}

uri=$(archive_uri)
host_arch=$(dpkg --print-architecture)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
fi

new=$(mktemp)
cat > "$new" <<EOS
# Written by scripts/setup-apt.sh (qemu smmuv3-accel project). Pinned low in
# $prefs so nothing on the host is ever upgraded from these suites.
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Architectures: $host_arch
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $uri
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $uri
Suites: sid
Components: main
Architectures: arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS

prefs_new=$(mktemp)
cat > "$prefs_new" <<'EOS'
# Written by scripts/setup-apt.sh: extra suites never win over the host's own.
Package: *
Pin: release n=sid
Pin-Priority: 50

Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
EOS

changed=0
if cmp -s "$new" "$list" && cmp -s "$prefs_new" "$prefs"; then
    rm -f "$new" "$prefs_new"
    if [ "$(id -u)" != 0 ]; then
        exit 0      # configured already; refreshing the lists needs root
    fi
else
    if [ "$(id -u)" != 0 ]; then
        rm -f "$new" "$prefs_new"
        echo "setup-apt: run as root (or: sudo $0) to add the extra apt suites" >&2
        exit 1
    fi
    mv "$new" "$list"
    mv "$prefs_new" "$prefs"
    changed=1
fi
chmod 644 "$list" "$prefs"

stamp=/var/lib/apt/lists/.smmuv3-accel-updated
if [ "$changed" = 1 ] || [ ! -e "$stamp" ] ||
   [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    apt-get update -qq
    touch "$stamp"
fi
