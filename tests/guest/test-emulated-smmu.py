#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Guest boots on QEMU 10.2.2's emulated SMMUv3 (the baseline).

Both kernels (Debian's stock 7.2 and our minimal one), device tree and
ACPI (UEFI), with the SMMU created by the machine (-M virt,iommu=smmuv3)
and by the user (-device arm-smmuv3,primary-bus=pcie.0). A virtio-blk-pci
disk behind the SMMU is read and checksummed by the guest. Last, the
harness itself is checked: a wrong checksum must fail and show the log.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import disk_check  # noqa: E402

SMMU = {
    'machine-smmu': dict(machine_opts='iommu=smmuv3', args=[]),
    'user-smmu': dict(machine_opts='',
                      args=['-device', 'arm-smmuv3,primary-bus=pcie.0,id=smmuv3.0']),
}


def cases():
    for kernel in ('stock', 'minimal'):
        for mode in ('dt', 'acpi'):
            for smmu in SMMU:
                yield f'{kernel}-{mode}-{smmu}', kernel, mode, smmu


def run_case(kernel, mode, smmu, work, expect_sha=None):
    disk = os.path.join(work, 'disk.img')
    size = 4 << 20
    sha = guest.make_disk(disk, size)
    s = SMMU[smmu]
    modules = ['virtio_blk'] if kernel == 'stock' else []
    return guest.boot(kernel, mode,
                      s['args'] + disk_check.qemu_args(disk),
                      disk_check.script(expect_sha or sha, size, mode),
                      disk_check.expect(mode), modules=modules,
                      machine_opts=s['machine_opts'])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', '--filter', default='', help='substring of case names')
    opts = ap.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix='guest-emu-') as work:
        for name, kernel, mode, smmu in cases():
            if opts.filter not in name:
                continue
            res = run_case(kernel, mode, smmu, work)
            guest.report(name, res)
            passed += res.ok
            failed += not res.ok
        name = 'harness-detects-bad-checksum'
        if opts.filter in name:
            res = run_case('minimal', 'dt', 'machine-smmu', work,
                           expect_sha='0' * 64)
            ok = (not res.ok and res.checks.get('disk-checksum') is False
                  and 'disk-checksum' in res.reason)
            print(f'{"PASS" if ok else "FAIL"}: {name} (the guest run '
                  f'{"failed as it must" if ok else "did not fail on a wrong checksum"}: '
                  f'{res.reason})', flush=True)
            if not ok:
                print(res.log)
            passed += ok
            failed += not ok
    return guest.summary(passed, failed, opts.filter)


if __name__ == '__main__':
    sys.exit(main())
