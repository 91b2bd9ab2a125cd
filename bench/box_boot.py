#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""L2 boot time in the host box: the accelerated SMMUv3 on the real L1
kernel against QEMU's emulated SMMUv3 in the same box, under KVM in L1
and under TCG in L1, paired in one run.

  python3 bench/box_boot.py [--runs N]

Each configuration boots L0 (TCG) -> L1 (the box's Linux host) -> L2
(our minimal kernel, 1 vCPU, 256M, pci=nomsi) once per run:
- accel: arm-smmuv3,accel=on with the NVMe and the virtio-blk disk of L0
  passed through (vfio-pci, iommufd) and an emulated virtio-blk;
- emulated: QEMU's emulated arm-smmuv3 with the same emulated virtio-blk
  (an emulated SMMU cannot front a VFIO device).
The figure is L2's own kernel timestamp of 'Run /init' (its boot until
user space), which under KVM and TCG follows the host clock; the median
of the runs is printed with the min-max, and the ratio accel/emulated
for each accelerator. No test asserts on it.
"""

import argparse
import importlib.util
import os
import re
import shutil
import statistics
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, 'tests', 'box'))
import box  # noqa: E402
from box import guest  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    'test_box', os.path.join(TOP, 'tests', 'box', 'test-box.py'))
test_box = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(test_box)


def l2_boot_seconds(log):
    m = re.findall(r'L2: \[ *([0-9.]+)\] Run /init', log)
    return float(m[0]) if m else None


def boot(kind, accel):
    work = tempfile.mkdtemp(prefix='box-bench-')
    try:
        args, _ = box.l0_args(work)
        l2_initrd = os.path.join(work, 'l2.gz')
        guest.make_initramfs(l2_initrd, 'check l2-up true\n')
        files = box.qemu_l1_files()
        with open(guest.kernel_artifacts('minimal')[0], 'rb') as f:
            files['box/l2/Image'] = (f.read(), 0o644)
        with open(l2_initrd, 'rb') as f:
            files['box/l2/initrd'] = (f.read(), 0o644)
        emu = test_box.EMU_DISK
        if kind == 'accel':
            cmd = box.l2_qemu_command(['$nvme', '$vblk'], accel=accel,
                                      append='pci=nomsi', smmu='accel',
                                      extra=emu[1])
        else:
            cmd = box.l2_qemu_command([], accel=accel, append='pci=nomsi',
                                      extra=['-device',
                                             'arm-smmuv3,primary-bus=pcie.0']
                                      + emu[1])
        script = box.L1_LIB + box.L1_BIND_DISKS + emu[0] + cmd
        res = guest.boot('host', 'dt', args, script, ['l2-up'], timeout=3000,
                         machine_opts='virtualization=on', files=files,
                         memory='2G', workdir=work)
        return l2_boot_seconds(res.log) if res.ok else None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=1)
    opts = ap.parse_args()
    figures = {}
    for _ in range(opts.runs):
        for accel in ('kvm', 'tcg'):
            for kind in ('accel', 'emulated'):
                t = boot(kind, accel)
                print(f'{kind:8} {accel}: L2 boot {t} s', flush=True)
                if t is None:
                    return 1
                figures.setdefault((kind, accel), []).append(t)
    for accel in ('kvm', 'tcg'):
        a, e = figures[('accel', accel)], figures[('emulated', accel)]
        print(f'{accel.upper()} in L1: accel {statistics.median(a):.2f} s '
              f'({min(a):.2f}-{max(a):.2f}), emulated '
              f'{statistics.median(e):.2f} s ({min(e):.2f}-{max(e):.2f}), '
              f'ratio {statistics.median(a) / statistics.median(e):.2f}',
              flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
