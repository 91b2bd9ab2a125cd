#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make run`: boot the main demo guest and stream its console.

Today: Debian's stock arm64 Linux 7.2 on QEMU's emulated SMMUv3 with a
virtio-blk disk behind it (ACPI_MODE=1 for UEFI/ACPI). The guest shows
what its SMMU driver found, reads and checksums the disk through
translation, and powers off. Exit status 0 when every guest check passed.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tests', 'guest'))
import guest  # noqa: E402
import disk_check  # noqa: E402

SHOW = r'''
echo "== IOMMUs registered with the guest kernel:"; ls /sys/class/iommu
echo "== arm-smmu-v3 driver messages:"; dmesg | grep -i smmu
echo "== IOMMU groups:"
for g in /sys/kernel/iommu_groups/*; do
    echo "group $(basename $g) type $(cat $g/type): $(ls $g/devices)"
done
'''


def main():
    mode = 'acpi' if os.environ.get('ACPI_MODE') == '1' else 'dt'
    kernel = os.environ.get('KERNEL', 'stock')
    shown = [0]

    def stream(buf, _proc):
        sys.stdout.write(buf[shown[0]:].decode(errors='replace'))
        sys.stdout.flush()
        shown[0] = len(buf)

    with tempfile.TemporaryDirectory(prefix='demo-') as work:
        disk = os.path.join(work, 'disk.img')
        size = 4 << 20
        sha = guest.make_disk(disk, size)
        print(f'== booting {kernel} Linux 7.2 ({mode}) on QEMU {guest.QEMU}')
        res = guest.boot(kernel, mode,
                         ['-device', 'arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0']
                         + disk_check.qemu_args(disk),
                         SHOW + disk_check.script(sha, size, mode),
                         disk_check.expect(mode),
                         modules=['virtio_blk'] if kernel == 'stock' else [],
                         on_output=stream)
    print(f'\n== demo {"passed" if res.ok else "FAILED"} in {res.seconds:.1f}s: {res.reason}')
    return 0 if res.ok else 1


if __name__ == '__main__':
    sys.exit(main())
