#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fault campaign: every host ioctl the accelerated SMMUv3 calls, failing.

For each iommufd ioctl the device models issue, each errno the kernel can
return there, and each phase of a guest's life, one QEMU (qtest, an edu
device behind arm-smmuv3,accel=on over iommufd-sim) has that ioctl's next
call fail (iommufd-sim inject-errno) and then:

  boot   the guest driver probes (tables, queues, CR0, an S1 STE, one DMA)
  io     after the probe: DMA, a TLBI batch, an STE change, the EVTQ off
         and on, an injected host event (with cmdqv=on: a VCMDQ enabled
         and a batch on it)
  reset  after the probe: system_reset

Every case must end with QEMU alive and quitting cleanly (exit 0, no
assertion), at most a few lines on stderr (no log flood), no host object
left after a system_reset, the guest able to probe again and DMA, and no
silent failure: when the DMA the guest asked for did not happen, the guest
saw an architected error (an event in its EVTQ, CMDQ_CONS.ERR, GERROR).

Each case counts; the table of outcomes (hit: the injected call was made;
what the guest saw) is printed at the end, then "N passed, N failed".
--ioctl/--phase/--errno select cases; --cmdqv-only the CMDQV set.
"""

import argparse
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'bench'))
sys.path.insert(0, os.path.join(TOP, 'tests'))
import benchlib  # noqa: E402
import checks  # noqa: E402
import smmu_driver as drv  # noqa: E402
from qtest_client import QtestVM, wait_until  # noqa: E402

ENOENT, EIO, ENOMEM, EFAULT, EBUSY, EEXIST, EINVAL, ENOSPC = \
    2, 5, 12, 14, 16, 17, 22, 28
EOPNOTSUPP, ETIMEDOUT = 95, 110
ERRNO_NAMES = {ENOENT: 'ENOENT', EIO: 'EIO', ENOMEM: 'ENOMEM',
               EFAULT: 'EFAULT', EBUSY: 'EBUSY', EEXIST: 'EEXIST',
               EINVAL: 'EINVAL', ENOSPC: 'ENOSPC', EOPNOTSUPP: 'EOPNOTSUPP',
               ETIMEDOUT: 'ETIMEDOUT'}

# The ioctls the device models call, with errnos Linux 7.2 returns there.
IOCTLS = {
    'IOMMU_IOAS_ALLOC': (ENOMEM,),
    'IOMMU_IOAS_MAP': (ENOMEM, EFAULT, ENOSPC),
    'IOMMU_IOAS_UNMAP': (ENOENT, EBUSY),
    'IOMMU_HWPT_ALLOC': (ENOMEM, EINVAL, EOPNOTSUPP),
    'IOMMU_VIOMMU_ALLOC': (ENOMEM, EOPNOTSUPP),
    'IOMMU_VDEVICE_ALLOC': (ENOMEM, EEXIST),
    'IOMMU_VEVENTQ_ALLOC': (ENOMEM, EEXIST),
    'IOMMU_HWPT_INVALIDATE': (EINVAL, ETIMEDOUT, EOPNOTSUPP),
    'IOMMU_DESTROY': (EBUSY, ENOENT),
}
# With cmdqv=on: the vIOMMU is the CMDQV's and VCMDQs are HW queues.
CMDQV_IOCTLS = {
    'IOMMU_VIOMMU_ALLOC': (ENOMEM, EOPNOTSUPP),
    'IOMMU_HW_QUEUE_ALLOC': (ENOMEM, EINVAL, EBUSY),
    'IOMMU_DESTROY': (EBUSY,),
}
PHASES = ('boot', 'io', 'reset')

PATTERN_PA = drv.SRC_PA
DMA_LEN = 64
FLOOD_MAX = 6           # stderr lines a case may print
EVT_NAMES = {0x04: 'C_BAD_STE', 0x10: 'F_TRANSLATION', 0x13: 'F_PERMISSION'}
# The host event the io phase injects (its delivery is checked, and it
# does not count as the guest seeing an error).
INJECTED_EVT = 0x12
EVT_NAMES[INJECTED_EVT] = 'injected F_ACCESS'
# What tells a guest that something failed.
ARCHITECTED = {'GERROR', 'CMDQ_ERR', 'C_BAD_STE', 'F_TRANSLATION',
               'F_PERMISSION', 'EVTQ_OVF', 'VCMDQ_ERR', 'VINTF_ERR'}

CHECKS = checks.Checks()
check = CHECKS.check


class Guest:
    """The guest driver over qtest, recording what it saw."""

    def __init__(self, vm, cmdqv):
        self.vm = vm
        self.base = vm.mtree_base('arm-smmuv3')
        self.smmu = drv.SmmuDriver(vm, self.base)
        self.cmdqv = drv.require_cmdqv(vm) if cmdqv else None
        self.saw = set()
        self.evtq_seen = 0

    def stats(self):
        return benchlib.sim_stats(self.vm.qmp)

    def note_errors(self):
        """Collect the architected errors the guest can see."""
        s, vm = self.smmu, self.vm
        if s.gerror_pending():
            self.saw.add('GERROR')
        cons = vm.readl(self.base + drv.CMDQ_CONS)
        if cons >> drv.CONS_ERR_SHIFT & 0x7f:
            self.saw.add('CMDQ_ERR')
        prod = vm.readl(self.base + drv.EVENTQ_PROD)
        mask = (1 << drv.EVTQ_LOG2SIZE) - 1
        while (self.evtq_seen & mask) != (prod & mask):
            rec = vm.readq(drv.EVTQ_ADDR + 32 * (self.evtq_seen & mask))
            self.saw.add(EVT_NAMES.get(rec & 0xff, f'event {rec & 0xff:#x}'))
            self.evtq_seen += 1
        if prod & (1 << 31):
            self.saw.add('EVTQ_OVF')

    def _edu_dma(self, src, dst, to_pci):
        vm, bar = self.vm, self.smmu.edu_bar
        vm.writeq(bar + drv.EDU_DMA_SRC, src)
        vm.writeq(bar + drv.EDU_DMA_DST, dst)
        vm.writeq(bar + drv.EDU_DMA_CNT, DMA_LEN)
        vm.writeq(bar + drv.EDU_DMA_CMD, 1 | (2 if to_pci else 0))
        vm.clock_step(drv.EDU_DMA_NS)

    def dma(self):
        """edu reads a pattern at SRC_IOVA and writes it back: True if the
        guest's page holds it again (both directions translated)."""
        vm = self.vm
        pattern = bytes((0x5a + i) & 0xff for i in range(DMA_LEN))
        vm.memwrite(PATTERN_PA, pattern)
        self._edu_dma(drv.SRC_IOVA, drv.EDU_BUF, False)
        vm.memwrite(PATTERN_PA, bytes(DMA_LEN))
        self._edu_dma(drv.EDU_BUF, drv.SRC_IOVA, True)
        got = b''.join(struct.pack('<Q', vm.readq(PATTERN_PA + i))
                       for i in range(0, DMA_LEN, 8))
        return got == pattern

    def try_(self, what, fn):
        try:
            fn()
            return True
        except RuntimeError as e:
            self.saw.add(f'{what} failed')
            self.last_error = str(e)
            return False

    def probe(self):
        """The driver's probe; True if its DMA went through."""
        self.smmu.cmdq.prod = 0
        self.evtq_seen = 0
        self.smmu.edu_setup()
        self.smmu.enable()
        self.try_('probe', self.smmu.attach_edu)
        ok = self.dma()
        self.note_errors()
        return ok

    def io(self, sim):
        """Guest I/O that makes the host calls of a running guest."""
        ok = self.dma()
        self.try_('TLBI', lambda: self.smmu.submit(
            [drv.cmd_tlbi_nh_va(i) for i in range(8)]))
        # An STE change: a new nested HWPT replaces the old one.
        ste0 = 1 | drv.STE_CFG_S1 << 1 | drv.CD_ADDR
        self.vm.memwrite(drv.STRTAB_ADDR + drv.EDU_SID * drv.STE_SIZE,
                         struct.pack('<QQ', ste0, 1 << 30) + bytes(48))
        self.try_('CFGI_STE', lambda: self.smmu.submit(
            [drv.cmd_bytes(drv.CMD_CFGI_STE | drv.EDU_SID << 32, 1)]))
        ok = self.dma() and ok
        # The EVTQ off and on: the host vEVENTQ goes and comes back.
        cr0 = drv.CR0_SMMUEN | drv.CR0_CMDQEN
        self.smmu.wr(drv.CR0, cr0)
        self.smmu.wr(drv.CR0, cr0 | drv.CR0_EVENTQEN)
        sim('inject-event', f'psid=0x101,event=0x{INJECTED_EVT:x},'
            f'addr=0x{drv.SRC_IOVA:x}')
        mask = (1 << drv.EVTQ_LOG2SIZE) - 1
        delivered = wait_until(
            lambda: (self.vm.readl(self.base + drv.EVENTQ_PROD) & mask) !=
            (self.evtq_seen & mask), timeout=1.0)
        self.note_errors()
        if 'injected F_ACCESS' not in self.saw:
            ok = False          # the host's event never reached the guest
            self.saw.add('event lost' if delivered else 'no event')
        if self.cmdqv is not None:
            vq = drv.VcmdqDriver(self.smmu, self.cmdqv)
            if self.try_('VCMDQ enable', vq.enable):
                self.try_('VCMDQ', lambda: vq.submit(
                    [drv.cmd_tlbi_nh_va(i) for i in range(8)]))
            if self.vm.readl(self.cmdqv + drv.VINTF0_PAGE0(0) +
                             drv.VCMDQ_CONS) >> 24 & 0x7f:
                self.saw.add('VCMDQ_ERR')
            if self.vm.readl(self.cmdqv + 0x14):        # CMDQV_VINTF_ERR_MAP
                self.saw.add('VINTF_ERR')
        self.note_errors()
        return ok

    def reset(self):
        vm = self.vm
        vm.qmp.cmd('system_reset')
        if not wait_until(lambda: vm.readl(self.base + drv.CR0) == 0,
                          timeout=10.0):
            raise RuntimeError('the SMMU did not reset')


def run_case(ioctl, err, phase, cmdqv):
    name = (f'{"cmdqv-" if cmdqv else ""}{phase}-{ioctl[6:].lower()}-'
            f'{ERRNO_NAMES[err].lower()}')
    smmu = 'arm-smmuv3,primary-bus=pcie.0,accel=on,iommufd=sim0,id=smmu0'
    args = ['-object', 'iommufd-sim,id=sim0',
            '-device', smmu + (',cmdqv=on' if cmdqv else ''),
            '-device', 'edu,addr=04.0']
    row = {'case': name, 'hit': False, 'saw': '', 'dma': ''}
    problems = []
    t0 = time.monotonic()
    vm = QtestVM(args, machine='virt,gic-version=3')
    try:
        g = Guest(vm, cmdqv)

        def sim(prop, value):
            vm.qmp.cmd('qom-set', path='/objects/sim0', property=prop,
                       value=value)

        def inject(nth=1):
            sim('inject-errno', f'{ioctl},nth={nth},errno={err}')

        errors0 = None
        if phase == 'boot':
            errors0 = g.stats()['ioctl_errors']
            inject()
            dma_ok = g.probe()
        else:
            if not g.probe():
                problems.append('the probe before the fault failed')
            errors0 = g.stats()['ioctl_errors']
            inject()
            dma_ok = g.io(sim) if phase == 'io' else True
            if phase == 'reset':
                g.reset()
        inject(0)           # not made in this phase: not later either
        st = g.stats()
        row['hit'] = st['ioctl_errors'] > errors0
        row['saw'] = ', '.join(sorted(g.saw)) or '-'
        row['dma'] = 'ok' if dma_ok else 'lost'
        if not dma_ok and not g.saw & ARCHITECTED:
            problems.append('DMA or event lost with no architected error')
        if vm.proc.poll() is not None:
            raise RuntimeError(f'QEMU exited ({vm.proc.returncode})')
        # The host is left clean by a reset, and the guest starts again.
        if phase != 'reset':
            g.reset()
        st = g.stats()
        if st['live_objects']:
            problems.append(f'{st["live_objects"]} host objects after reset')
        g.saw = set()
        if not g.probe():
            problems.append('no DMA after the guest probed again')
        if g.saw:
            problems.append(f'errors after recovery: {sorted(g.saw)}')
        try:
            vm.qmp.cmd('quit')
        except (EOFError, OSError):
            pass
        rc = vm.proc.wait(timeout=20)
        if rc:
            problems.append(f'quit: exit {rc}')
    except Exception as e:      # a dead or hung QEMU: the case fails
        problems.append(f'{type(e).__name__}: {e}')
    finally:
        err_text = vm.stderr()
        vm.close()
    lines = [ln for ln in err_text.splitlines() if ln.strip()]
    if any(w in err_text for w in ('Assertion', 'ERROR:', 'Segmentation',
                                   'AddressSanitizer', 'runtime error')):
        problems.append('crash: ' + lines[-1])
    if len(lines) > FLOOD_MAX:
        problems.append(f'{len(lines)} lines on stderr (first: {lines[0]})')
    secs = time.monotonic() - t0
    check(name, not problems,
          f'hit={"yes" if row["hit"] else "no"} guest saw: {row["saw"]}, '
          f'DMA {row["dma"]}, {len(lines)} stderr lines, {secs:.1f} s'
          + (f'; {"; ".join(problems)}' if problems else ''))
    row['ok'] = not problems
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ioctl', help='only this ioctl (IOMMU_...)')
    ap.add_argument('--phase', choices=PHASES)
    ap.add_argument('--errno', type=int)
    ap.add_argument('--cmdqv-only', action='store_true')
    a = ap.parse_args()
    cases = []
    for cmdqv, table in ((False, IOCTLS), (True, CMDQV_IOCTLS)):
        if a.cmdqv_only and not cmdqv:
            continue
        for ioctl, errnos in table.items():
            for err in errnos:
                for phase in PHASES:
                    if ((a.ioctl and ioctl != a.ioctl) or
                            (a.phase and phase != a.phase) or
                            (a.errno and err != a.errno)):
                        continue
                    cases.append((ioctl, err, phase, cmdqv))
    t0 = time.monotonic()
    rows = [run_case(*c) for c in cases]
    print(f'\nfault table ({len(rows)} cases, '
          f'{time.monotonic() - t0:.0f} s):')
    print(f'  {"case":44} {"hit":4} {"DMA":7} guest saw')
    for r in rows:
        print(f'  {r["case"]:44} {"yes" if r["hit"] else "no":4} '
              f'{r["dma"]:7} {r["saw"]}{"" if r["ok"] else "  FAILED"}')
    return CHECKS.summary()


if __name__ == '__main__':
    sys.exit(main())
