# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Cross-building an arm64 kernel from Debian's linux-source-7.2 with
# config fragments (sourced by build-guest-kernel.sh, build-host-kernel.sh).

# kernel_mk OBJ ARGS...: make in the kernel source for arm64 into OBJ.
# The source and the objects are both under $cache: with it as ccache's
# base directory, their paths hash alike from any cache directory.
kernel_mk() {
    local obj=$1
    shift
    env CCACHE_BASEDIR="$cache" make -s -C "$kernel_src" O="$obj" ARCH=arm64 \
        CROSS_COMPILE=aarch64-linux-gnu- CC="ccache aarch64-linux-gnu-gcc" \
        -j"$(nproc)" "$@"
}

# kernel_key BASE FRAG...: the cache key of a kernel: the source version,
# the base config (tinyconfig is left out of the hash, so keys made before
# other bases existed stay valid) and every fragment's text.
kernel_key() {
    local base=$1
    shift
    (echo "$kernel_ver"; [ "$base" = tinyconfig ] || cat "$base"; cat "$@") |
        sha256sum | cut -c1-16
}

# kernel_configure OBJ BASE FRAG...: BASE is "tinyconfig" or a .config
# file; the fragments are merged in order and every CONFIG_ line of them
# that no later fragment sets again must survive olddefconfig.
kernel_configure() {
    local obj=$1 base=$2 frag line missing=0
    shift 2
    rm -rf "$obj"
    mkdir -p "$obj"
    if [ "$base" = tinyconfig ]; then
        kernel_mk "$obj" tinyconfig >/dev/null
    else
        cp "$base" "$obj/.config"
    fi
    "$kernel_src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" >/dev/null
    kernel_mk "$obj" olddefconfig >/dev/null
    local frags=("$@") i=0 sym
    for frag in "$@"; do
        i=$((i + 1))
        while read -r line; do
            case "$line" in CONFIG_*=*) ;; *) continue ;; esac
            sym=${line%%=*}
            # (a later fragment may set the symbol again: that one counts)
            if cat "${frags[@]:$i}" /dev/null |
                    grep -q -e "^$sym=" -e "^# $sym is not set"; then
                continue
            fi
            if ! grep -qx "$line" "$obj/.config"; then
                log "$(basename "$frag"): line not in the final config: $line"
                missing=1
            fi
        done < "$frag"
    done
    [ $missing = 0 ] || die "kernel config fragment not honoured"
}

kernel_init() {
    kernel_ver=$("$top/scripts/fetch-linux-source.sh" --version)
}

kernel_fetch_source() {
    kernel_src=$("$top/scripts/fetch-linux-source.sh")
}
