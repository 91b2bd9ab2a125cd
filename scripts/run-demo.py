#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make run`: boot the main demo, a nested-IOMMU guest, and stream it.

Debian's stock arm64 Linux 7.2 boots on QEMU with the accelerated SMMUv3
(arm-smmuv3,accel=on) over the simulated host (iommufd-sim). A virtio-blk
disk sits behind the SMMU: its DMA is translated by the guest's stage 1,
walked by the simulated host's physical SMMU, over the stage 2 that maps
guest RAM. The guest shows what its arm-smmu-v3 driver found, reads and
checksums the disk, and powers off; then the simulator's statistics are
printed. Environment: KERNEL=minimal (our minimal kernel), ACPI_MODE=1
(UEFI + ACPI instead of a device tree), EMULATED=1 (QEMU's emulated
SMMUv3 instead, for comparison), CMDQV=1 (the Tegra241 CMDQV: the guest
issues its TLB invalidations from VCMDQs mapped into it; needs
KERNEL=minimal, which has CONFIG_TEGRA241_CMDQV). Exit status 0 when
every check passed.
"""

import json
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
    emulated = os.environ.get('EMULATED') == '1'
    cmdqv = os.environ.get('CMDQV') == '1'
    if cmdqv and 'KERNEL' not in os.environ:
        kernel = 'minimal'
    shown = [0]

    def stream(buf, _proc, _qmp):
        sys.stdout.write(buf[shown[0]:].decode(errors='replace'))
        sys.stdout.flush()
        shown[0] = len(buf)

    with tempfile.TemporaryDirectory(prefix='demo-') as work:
        disk = os.path.join(work, 'disk.img')
        stats = os.path.join(work, 'stats.json')
        size = 4 << 20
        sha = guest.make_disk(disk, size)
        if emulated:
            smmu = ['-device', 'arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0']
            what = "QEMU's emulated SMMUv3"
        else:
            smmu = ['-object', f'iommufd-sim,id=sim0,stats-file={stats}',
                    '-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,'
                    'iommufd=sim0,id=smmuv3.0,cmdqv=' +
                    ('on' if cmdqv else 'off')]
            what = ('the accelerated SMMUv3 ' +
                    ('with Tegra241 CMDQV ' if cmdqv else '') +
                    'on the simulated host')
            if cmdqv:
                SHOW_EXTRA = ('echo "== tegra241-cmdqv:"; '
                              'dmesg | grep -i cmdqv\n')
            else:
                SHOW_EXTRA = ''
        print(f'== booting {kernel} Linux 7.2 ({mode}) with {what}')
        print(f'== {guest.QEMU} ... {" ".join(smmu)}', flush=True)
        res = guest.boot(kernel, mode, smmu + disk_check.qemu_args(disk),
                         SHOW + ('' if emulated else SHOW_EXTRA) +
                         disk_check.script(sha, size, mode),
                         disk_check.expect(mode),
                         modules=['virtio_blk'] if kernel == 'stock' else [],
                         on_output=stream)
        if not emulated and os.path.exists(stats):
            st = json.load(open(stats))
            io = {k: v for k, v in st['ioctls'].items() if v}
            print('\n== simulated host after poweroff:')
            print(f'   ioctls: {io}')
            print(f'   invalidation entries {st["invalidate_entries"]}, '
                  f'translations {st["translations"]} '
                  f'(IOTLB hits {st["iotlb_hits"]}), '
                  f'stale IOTLB hits {st["stale_iotlb_hits"]}, '
                  f'VCMDQ commands run by the host {st["vcmdq_commands"]}, '
                  f'live host objects {st["live_objects"]}')
    print(f'\n== demo {"passed" if res.ok else "FAILED"} in {res.seconds:.1f}s: '
          f'{res.reason}')
    return 0 if res.ok else 1


if __name__ == '__main__':
    sys.exit(main())
