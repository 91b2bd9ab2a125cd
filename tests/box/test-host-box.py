#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make host-box` as a user runs it: their own L2 kernel and initramfs
(here our minimal kernel and an initramfs whose /init is a plain script,
not the test harness's), a disk of theirs, and the exit status of L2's
init as the command's. Cases:
- own-init-exit-code: /init reads the passed-through NVMe, prints its
  sha256 and exits 3; host-box must exit 3, print L1's lines as 'L1: ',
  L2's as 'L2: ' (with the right checksum) and its progress lines.
- guest-exit-line: /init prints 'GUEST-EXIT rc=0' and powers off: exit 0.
- cmdqv-acpi: the same with CMDQV=1 L2_ACPI=1: L2 boots by UEFI, its
  driver finds the CMDQV as the ACPI device NVDA200C and issues every
  TLBI_NH on its VCMDQs (the L1 QEMU's SMMU CMDQ sees none), and the
  NVMe's interrupts are MSI-X (no pci=nomsi: the IORT's RMR).
Both: L2 sees the disk behind arm-smmuv3,accel=on (its arm-smmu-v3
driver probes it), host-box prints the L1 QEMU's command line and, after
L2, the L1 QEMU's counts: one IOMMU_HWPT_INVALIDATE per batch.

  tests/box/test-host-box.py [-k FILTER]
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import box  # noqa: E402
from box import guest  # noqa: E402

INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
echo "user-init: nvme sha256 $(sha256sum /dev/nvme0n1 | cut -d' ' -f1)"
@END@
'''


def make_initrd(path, end):
    c = guest.Cpio()
    for d in ('bin', 'dev', 'proc', 'sys'):
        c.dir(d)
    with open(guest.run_script('fetch-busybox.sh'), 'rb') as f:
        c.file('bin/busybox', f.read(), 0o755)
    c.file('init', INIT.replace('@END@', end).encode(), 0o755)
    with open(path, 'wb') as f:
        f.write(c.finish())


def run_case(name, end, want_rc, extra_env=None):
    work = tempfile.mkdtemp(prefix='host-box-test-')
    initrd = os.path.join(work, 'initrd.gz')
    disk = os.path.join(work, 'disk.img')
    make_initrd(initrd, end)
    data = os.urandom(1 << 20)
    with open(disk, 'wb') as f:
        f.write(data)
    want_sum = hashlib.sha256(data).hexdigest()
    env = dict(os.environ, L2_KERNEL=guest.run_script('build-guest-kernel.sh'),
               L2_INITRD=initrd, DISK=disk, TIMEOUT='1200',
               **(extra_env or {}))
    cmdqv = (extra_env or {}).get('CMDQV') == '1'
    acpi = (extra_env or {}).get('L2_ACPI') == '1'
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(box.TOP, 'scripts',
                                                     'host-box.py')],
                       env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    secs = time.monotonic() - t0
    out = p.stdout
    checks = [
        ('exit-status', p.returncode == want_rc,
         f'exited {p.returncode}, want {want_rc}'),
        ('l1-prefix', any(ln.startswith('L1: [') for ln in out.splitlines()),
         "no 'L1: ' kernel line"),
        ('l2-prefix', any(ln.startswith('L2: [') for ln in out.splitlines()),
         "no 'L2: ' kernel line"),
        ('l2-checksum', f'L2: user-init: nvme sha256 {want_sum}' in out,
         'L2 did not print the disk\'s sha256'),
        ('progress', '[host-box] L1 up in' in out and
         '[host-box] L2 ended after' in out, 'no progress lines'),
    ]
    lines = out.splitlines()
    cmdline = [ln for ln in lines if ln.startswith('L1: + ') and
               'qemu-system-aarch64 ' in ln]
    checks.append(('l1-qemu-command', bool(cmdline) and
                   'arm-smmuv3,primary-bus=pcie.0,accel=on' in cmdline[0] and
                   'vfio-pci,sysfsdev=/sys/' in cmdline[0],
                   'no L1 QEMU command line with the accel SMMU'))
    checks.append(('l2-smmu-probed', any(ln.startswith('L2: [') and
                                         'arm-smmu-v3' in ln and 'oas' in ln
                                         for ln in lines),
                   "L2's arm-smmu-v3 driver did not probe"))
    counts = [ln for ln in lines
              if ln.startswith('L1: L2-QEMU guest CMD_SYNCs ')]
    n = {}
    if counts:
        for part in counts[0][len('L1: L2-QEMU '):].split(', '):
            what, _, num = part.rpartition(' ')
            n[what] = int(num)
    checks.append(('l1-qemu-counts',
                   n.get('IOMMU_HWPT_INVALIDATE', 0) > 0 and
                   n.get('IOMMU_HWPT_INVALIDATE') == n.get('batches') and
                   n.get('batches not one call', 1) == 0,
                   f'L1 QEMU counts: {counts[0] if counts else None}'))
    if acpi:
        checks.append(('l2-acpi', bool(cmdline) and ' -bios ' in cmdline[0]
                       and 'acpi=on' in cmdline[0] and
                       any(ln.startswith('L2: [') and 'ACPI: IORT' in ln
                           for ln in lines), 'L2 did not boot with an IORT'))
        # user-init's /proc/interrupts lines: the NVMe's vectors are MSI-X
        # and took interrupts (the disk was read through them)
        msix = [ln for ln in lines if ln.startswith('L2: ') and
                'nvme0q' in ln and 'MSI' in ln and
                any(w.isdigit() and int(w) > 0 for w in ln.split()[2:4])]
        checks.append(('l2-msix', bool(cmdline) and
                       'pci=nomsi' not in cmdline[0] and bool(msix),
                       f'{len(msix)} NVMe MSI-X vectors with interrupts'))
    if cmdqv:
        found = 'found companion CMDQV device: ' + ('NVDA200C'
                                                    if acpi else '')
        checks.append(('l2-cmdqv', bool(cmdline) and
                       'accel=on,id=smmu0,cmdqv=on' in cmdline[0] and
                       any(ln.startswith('L2: [') and found in ln
                           for ln in lines) and
                       n.get('TLBI_NHs on the SMMU CMDQ', 1) == 0,
                       f'no CMDQV in L2, or TLBI_NHs on its SMMU CMDQ '
                       f'({n.get("TLBI_NHs on the SMMU CMDQ")})'))
    bad = [f'{n}: {d}' for n, ok, d in checks if not ok]
    res = guest.Result(not bad, '; '.join(bad) or f'{len(checks)} checks ok',
                       out, {n: ok for n, ok, _ in checks}, secs)
    if counts:
        print(f'    {counts[0]}', flush=True)
    guest.report(name, res)
    return res.ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-k', default='')
    opts = ap.parse_args()
    cases = [('own-init-exit-code', 'exit 3', 3, None),
             ('guest-exit-line', 'echo "GUEST-EXIT rc=0"; poweroff -f', 0,
              None),
             ('cmdqv-acpi', 'grep nvme /proc/interrupts; exit 5', 5, {'CMDQV': '1', 'L2_ACPI': '1'})]
    passed = failed = 0
    for name, end, rc, extra_env in cases:
        if opts.k not in name:
            continue
        if run_case(name, end, rc, extra_env):
            passed += 1
        else:
            failed += 1
    return guest.summary(passed, failed, opts.k)


if __name__ == '__main__':
    sys.exit(main())
