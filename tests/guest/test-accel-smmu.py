#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Nested-IOMMU guests on the accelerated SMMUv3, on the simulated host.

Both kernels (Debian's stock 7.2 and our minimal one), device tree and
ACPI (UEFI): `-object iommufd-sim` + `-device arm-smmuv3,accel=on` with a
virtio-blk-pci disk behind it. The guest's own arm-smmu-v3 driver probes
the SMMU; the disk is read and checksummed through nested translation
(guest stage 1 walked by the simulated host's SMMU, over the IOAS stage
2); MSI-X works. Mid-run, a translation fault is injected on the disk's
physical StreamID (a pSID other than its vSID, found through the host's
vDEVICE for the guest's StreamID) through QMP: the guest driver must
report it with the disk's own (virtual) StreamID and the injected address. After poweroff,
the simulator's statistics must show nested HWPTs, a vDEVICE, forwarded
invalidations, the event delivered, no stale IOTLB hit and no host
object left.
"""

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import disk_check  # noqa: E402

FAULT_IOVA = 0xdead5000
FAULT_SCRIPT = f'fault_probe {FAULT_IOVA:#x} disk=$dev\n'


def host_checks(stats):
    """What the simulated host saw: (name, ok, detail) tuples."""
    io = stats['ioctls']
    ev = stats['events']
    return [
        ('host-nested-hwpts', io['IOMMU_HWPT_ALLOC'] >= 4,
         f'{io["IOMMU_HWPT_ALLOC"]} HWPT_ALLOC (S2 parent, abort, bypass, '
         f'nested)'),
        ('host-vdevice', io['IOMMU_VDEVICE_ALLOC'] >= 1,
         f'{io["IOMMU_VDEVICE_ALLOC"]} VDEVICE_ALLOC'),
        ('host-invalidations', io['IOMMU_HWPT_INVALIDATE'] > 0 and
         stats['invalidate_entries'] >= io['IOMMU_HWPT_INVALIDATE'],
         f'{stats["invalidate_entries"]} entries in '
         f'{io["IOMMU_HWPT_INVALIDATE"]} ioctls'),
        ('host-nested-dma', stats['translations'] > 0,
         f'{stats["translations"]} translations'),
        ('host-event-delivered', ev['delivered'] == 1 and ev['lost'] == 0,
         f'events {ev}'),
        ('host-no-stale-iotlb', stats['stale_iotlb_hits'] == 0,
         f'{stats["stale_iotlb_hits"]} stale IOTLB hits'),
        ('host-nothing-left', stats['live_objects'] == 0 and
         not stats['objects'],
         f'{stats["live_objects"]} live objects after poweroff'),
        ('host-no-errors', stats['ioctl_errors'] == 0,
         f'{stats["ioctl_errors"]} failed ioctls'),
    ]


def accel_args(work, extra=''):
    stats = os.path.join(work, 'stats.json')
    return stats, ['-object', f'iommufd-sim,id=sim0,stats-file={stats}',
                   '-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,'
                   'iommufd=sim0,cmdqv=off,id=smmuv3.0' + extra]


def run_case(kernel, mode, work):
    disk = os.path.join(work, 'disk.img')
    size = 4 << 20
    sha = guest.make_disk(disk, size)
    stats_file, args = accel_args(work)
    if os.path.exists(stats_file):
        os.unlink(stats_file)
    inj = guest.FaultInjector(FAULT_IOVA)
    script = disk_check.script(sha, size, mode) + FAULT_SCRIPT
    res = guest.boot(kernel, mode, args + disk_check.qemu_args(disk),
                     script, disk_check.expect(mode) + ['fault-disk'],
                     modules=['virtio_blk'] if kernel == 'stock' else [],
                     qmp=True, on_output=inj)
    extra = inj.checks(['disk'])
    try:
        with open(stats_file) as f:
            extra += host_checks(json.load(f))
    except (OSError, ValueError) as e:
        extra.append(('host-stats-file', False, str(e)))
    return guest.apply_checks(res, extra)


# First boot: mark the scratch disk and reboot (a machine reset, which
# must release every host object); second boot: the disk still works.
REBOOT_SCRIPT = r'''
if [ "$(head -c 6 /dev/vdb)" != "BOOTED" ]; then
    echo -n BOOTED | dd of=/dev/vdb conv=notrunc 2>/dev/null
    sync
    echo GUEST-FIRST-BOOT-DONE
    reboot -f
fi
echo GUEST-SECOND-BOOT
'''


def run_reboot_case(kernel, mode, work):
    """Reset releases the host objects; the next boot builds them again."""
    disk = os.path.join(work, 'disk.img')
    scratch = os.path.join(work, 'scratch.img')
    size = 4 << 20
    sha = guest.make_disk(disk, size)
    with open(scratch, 'wb') as f:
        f.write(bytes(1 << 20))
    stats_file, args = accel_args(work)
    if os.path.exists(stats_file):
        os.unlink(stats_file)
    # The data disk first (the guest's vda), the scratch disk second (vdb).
    args += disk_check.qemu_args(disk)
    args += ['-drive', f'if=none,id=scratch,file={scratch},format=raw',
             '-device', 'virtio-blk-pci,drive=scratch,bus=pcie.0,'
             'disable-legacy=on,iommu_platform=on']
    res = guest.boot(kernel, mode, args,
                     REBOOT_SCRIPT + disk_check.script(sha, size, mode),
                     disk_check.expect(mode),
                     modules=['virtio_blk'] if kernel == 'stock' else [],
                     allow_reboot=True)
    checks = [('rebooted', 'GUEST-FIRST-BOOT-DONE' in res.log and
               'GUEST-SECOND-BOOT' in res.log, 'the guest booted twice')]
    try:
        st = json.load(open(stats_file))
        io = st['ioctls']
        checks += [
            ('host-rebuilt-after-reset', io['IOMMU_VIOMMU_ALLOC'] == 2 and
             io['IOMMU_IOAS_ALLOC'] == 2,
             f'{io["IOMMU_VIOMMU_ALLOC"]} vIOMMUs, {io["IOMMU_IOAS_ALLOC"]} '
             f'IOASes over two boots'),
            ('host-nothing-left', st['live_objects'] == 0,
             f'{st["live_objects"]} live objects'),
            ('host-no-errors', st['ioctl_errors'] == 0,
             f'{st["ioctl_errors"]} failed ioctls'),
        ]
    except (OSError, ValueError, KeyError) as e:
        checks.append(('host-stats-file', False, str(e)))
    return guest.apply_checks(res, checks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', '--filter', default='')
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='guest-accel-') as work:
        cases = [(f'{k}-{m}-accel', lambda k=k, m=m: run_case(k, m, work))
                 for k in ('stock', 'minimal') for m in ('dt', 'acpi')]
        cases += [(f'{k}-{m}-accel-reboot',
                   lambda k=k, m=m: run_reboot_case(k, m, work))
                  for k, m in (('minimal', 'dt'), ('stock', 'acpi'))]
        return guest.run_cases(cases, opts.filter)


if __name__ == '__main__':
    sys.exit(main())
