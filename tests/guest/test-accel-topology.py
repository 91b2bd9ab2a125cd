#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Accelerated SMMUv3 topologies beyond one device on the root bus.

- rootport-nvme (device tree): an NVMe disk behind a PCIe root port, whose
  bus number the guest kernel assigns itself (the vSID is only known once
  the guest has numbered the bus), next to a virtio-blk disk on pcie.0.
- two-smmus (ACPI): two accelerated SMMUs on one simulated host with two
  physical SMMU instances: one on pcie.0 (virtio-blk), one on a pxb-pcie
  expander bus behind a root port (NVMe). The IORT describes both; each
  SMMU gets its own vIOMMU on its own host instance.
Both disks are read and checksummed by the guest through nested
translation; the simulator must end with no host object left, devices on
the right host instances, and vSIDs equal to the guest's own StreamIDs:
each disk's vDEVICE is found by the StreamID the guest computes from its
BDF, a fault is injected on its pSID and the guest driver must report it
with that StreamID and the disk's BDF.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import disk_check  # noqa: E402

NVME = ('0x1b36', '0x0010')


def script(mode, sha_blk, sha_nvme, size, n_smmus):
    return disk_check.firmware_check(mode) + f'''
blk=$(pci_find {disk_check.VIRTIO_BLK[0]} {disk_check.VIRTIO_BLK[1]})
nvme=$(pci_find {NVME[0]} {NVME[1]})
check both-present sh -c "test -n '$blk' && test -n '$nvme'"
echo "virtio-blk at $blk, nvme at $nvme"
check smmus-registered sh -c 'test $(ls /sys/class/iommu | grep -c "^smmu3\\.") -eq {n_smmus}'
for d in $blk $nvme; do
    g=$(basename "$(readlink $d/iommu_group)")
    echo "$(basename $d): iommu group $g type $(cat /sys/kernel/iommu_groups/$g/type) via $(basename $(readlink $d/iommu))"
done
check blk-translated sh -c "grep -qE '^DMA' /sys/kernel/iommu_groups/$(basename $(readlink $blk/iommu_group))/type"
check nvme-translated sh -c "grep -qE '^DMA' /sys/kernel/iommu_groups/$(basename $(readlink $nvme/iommu_group))/type"
check nvme-behind-bridge sh -c "test \\$((0x$(basename $nvme | cut -d: -f2))) -gt 0"
i=0; while [ $i -lt 100 ] && ! test -b /dev/nvme0n1; do sleep 0.1; i=$((i+1)); done
s1=$(dd if=/dev/vda bs=64k 2>/dev/null | head -c {size} | sha256sum | cut -d' ' -f1)
s2=$(dd if=/dev/nvme0n1 bs=64k 2>/dev/null | head -c {size} | sha256sum | cut -d' ' -f1)
check blk-checksum test "$s1" = "{sha_blk}"
check nvme-checksum test "$s2" = "{sha_nvme}"
fault_probe {FAULT_IOVA:#x} blk=$blk nvme=$nvme
'''


EXPECT = ['both-present', 'smmus-registered', 'blk-translated',
          'nvme-translated', 'nvme-behind-bridge', 'blk-checksum',
          'nvme-checksum', 'fault-blk', 'fault-nvme']


FAULT_IOVA = 0xbad0000


def run_case(name, kernel, mode, work):
    size = 2 << 20
    blk = os.path.join(work, 'blk.img')
    nvm = os.path.join(work, 'nvme.img')
    sha_blk = guest.make_disk(blk, size, seed=1)
    sha_nvme = guest.make_disk(nvm, size, seed=2)
    stats_file = os.path.join(work, f'{name}.json')
    drives = ['-drive', f'if=none,id=d0,file={blk},format=raw,readonly=on',
              '-drive', f'if=none,id=d1,file={nvm},format=raw,readonly=on',
              '-device', 'virtio-blk-pci,drive=d0,bus=pcie.0,'
              'disable-legacy=on,iommu_platform=on']
    if name == 'rootport-nvme':
        n_smmus = 1
        args = ['-object', f'iommufd-sim,id=sim0,stats-file={stats_file}',
                '-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,'
                'iommufd=sim0,cmdqv=off,id=smmuv3.0',
                '-device', 'pcie-root-port,id=port1,bus=pcie.0,chassis=1',
                '-device', 'nvme,drive=d1,serial=nvme0,bus=port1'] + drives
    else:
        n_smmus = 2
        args = ['-object', f'iommufd-sim,id=sim0,smmus=2,'
                f'stats-file={stats_file}',
                '-device', 'pxb-pcie,id=pcie.1,bus_nr=8,bus=pcie.0',
                '-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,'
                'iommufd=sim0,cmdqv=off,id=smmuv3.0',
                '-device', 'arm-smmuv3,primary-bus=pcie.1,accel=on,'
                'iommufd=sim0,cmdqv=off,id=smmuv3.1',
                '-device', 'pcie-root-port,id=port1,bus=pcie.1,chassis=1',
                '-device', 'nvme,drive=d1,serial=nvme0,bus=port1'] + drives
    inj = guest.FaultInjector(FAULT_IOVA)
    res = guest.boot(kernel, mode, args,
                     script(mode, sha_blk, sha_nvme, size, n_smmus), EXPECT,
                     modules=(['virtio_blk', 'nvme'] if kernel == 'stock'
                              else []), qmp=True, on_output=inj)
    checks = inj.checks(['blk', 'nvme'])
    if 'nvme' in inj.found:
        # With two SMMUs the NVMe disk is behind the second one.
        want = n_smmus - 1
        got = inj.found['nvme']['smmu']
        checks.append(('nvme-host-instance', got == want,
                       f'NVMe on host SMMU {got}, expected {want}'))
    try:
        st = json.load(open(stats_file))
        checks.append(('host-nothing-left', st['live_objects'] == 0,
                       f'{st["live_objects"]} live objects'))
        checks.append(('host-no-stale-iotlb', st['stale_iotlb_hits'] == 0,
                       f'{st["stale_iotlb_hits"]} stale hits'))
        vdevs = st['ioctls']['IOMMU_VDEVICE_ALLOC']
        checks.append(('host-vdevices', vdevs >= 2, f'{vdevs} vDEVICEs'))
        viommus = st['ioctls']['IOMMU_VIOMMU_ALLOC']
        checks.append(('host-viommus', viommus == n_smmus,
                       f'{viommus} vIOMMUs for {n_smmus} SMMUs'))
        smmus = sorted({d['smmu'] for d in st['devices']})
        checks.append(('host-instances', smmus == list(range(n_smmus)),
                       f'devices on host SMMU instances {smmus}'))
    except (OSError, ValueError, KeyError) as e:
        checks.append(('host-stats-file', False, str(e)))
    return guest.apply_checks(res, checks)


UNPLUG_SCRIPT = r'''
dev=$(pci_find 0x1af4 0x1042)
check disk-present test -n "$dev"
check disk-translated sh -c "grep -qE '^DMA' /sys/kernel/iommu_groups/$(basename $(readlink $dev/iommu_group))/type"
sum=$(dd if=/dev/vda bs=64k 2>/dev/null | head -c @SIZE@ | sha256sum | cut -d' ' -f1)
check disk-checksum test "$sum" = "@SHA@"
echo GUEST-UNPLUG-NOW
i=0; while [ $i -lt 300 ] && test -e "$dev"; do sleep 0.1; i=$((i + 1)); done
check device-removed sh -c "! test -e $dev"
echo GUEST-UNPLUG-DONE
sleep 3    # the host is inspected over QMP before the guest powers off
'''


class Unplugger:
    """device_del when the guest asks; then what the host still holds."""

    def __init__(self):
        self.state = 0
        self.before = self.after = None
        self.error = None

    def __call__(self, buf, proc, qmp_path):
        try:
            if self.state == 0 and b'GUEST-UNPLUG-NOW' in buf:
                self.state = 1
                q = guest.Qmp(qmp_path)
                self.before = json.loads(q.cmd('qom-get', path='/objects/sim0',
                                               property='stats'))
                q.cmd('device_del', id='blk1')
                q.close()
            elif self.state == 1 and b'GUEST-UNPLUG-DONE' in buf:
                # QEMU unrealizes the device a little after the guest
                # powered the slot off: wait for it (DEVICE_DELETED).
                self.state = 2
                q = guest.Qmp(qmp_path)
                deadline = time.monotonic() + 2.5
                while True:
                    self.after = json.loads(q.cmd('qom-get',
                                                  path='/objects/sim0',
                                                  property='stats'))
                    if (len(self.after['devices']) <
                            len(self.before['devices']) or
                            time.monotonic() > deadline):
                        break
                    time.sleep(0.05)
                q.close()
        except Exception as e:  # reported as a failed check
            self.error = str(e)


def run_unplug(kernel, mode, work):
    """Hot-unplug releases the device's host objects and unbinds it."""
    size = 2 << 20
    disk = os.path.join(work, 'hp.img')
    sha = guest.make_disk(disk, size, seed=3)
    stats_file = os.path.join(work, 'unplug.json')
    args = ['-object', f'iommufd-sim,id=sim0,stats-file={stats_file}',
            '-device', 'arm-smmuv3,primary-bus=pcie.0,accel=on,'
            'iommufd=sim0,cmdqv=off,id=smmuv3.0',
            '-device', 'pcie-root-port,id=port1,bus=pcie.0,chassis=1,slot=1',
            '-drive', f'if=none,id=d0,file={disk},format=raw,readonly=on',
            '-device', 'virtio-blk-pci,id=blk1,drive=d0,bus=port1,'
            'disable-legacy=on,iommu_platform=on']
    unplug = Unplugger()
    script = UNPLUG_SCRIPT.replace('@SIZE@', str(size)).replace('@SHA@', sha)
    res = guest.boot(kernel, mode, args, script,
                     ['disk-present', 'disk-translated', 'disk-checksum',
                      'device-removed'],
                     modules=['virtio_blk'] if kernel == 'stock' else [],
                     qmp=True, on_output=unplug)
    checks = []
    if unplug.error or not unplug.before or not unplug.after:
        checks.append(('qmp', False, unplug.error or 'no stats'))
    else:
        b, a = unplug.before, unplug.after
        gone = [d for d in b['devices'] if d['vdevice'] and
                d['psid'] not in {x['psid'] for x in a['devices']}]
        checks.append(('host-device-unbound', len(gone) == 1,
                       f'{len(b["devices"])} bound devices before, '
                       f'{len(a["devices"])} after'))
        checks.append(('host-objects-released',
                       a['live_objects'] == b['live_objects'] - 2,
                       f'live objects {b["live_objects"]} -> '
                       f'{a["live_objects"]} (its nested HWPT and vDEVICE)'))
    return guest.apply_checks(res, checks)


CASES = [
    ('rootport-nvme', 'minimal', 'dt'),
    ('rootport-nvme', 'stock', 'dt'),
    ('two-smmus', 'minimal', 'acpi'),
    ('two-smmus', 'stock', 'acpi'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', '--filter', default='')
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix='guest-topo-') as work:
        cases = [(f'{k}-{m}-{n}', lambda n=n, k=k, m=m: run_case(n, k, m, work))
                 for n, k, m in CASES]
        cases.append(('stock-dt-hotunplug',
                      lambda: run_unplug('stock', 'dt', work)))
        return guest.run_cases(cases, opts.filter)


if __name__ == '__main__':
    sys.exit(main())
