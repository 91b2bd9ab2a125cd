# SPDX-License-Identifier: GPL-2.0-or-later
"""A guest SMMUv3 driver (and Tegra241 VCMDQ driver) written over qtest.

It does what Linux's arm-smmu-v3 driver does for the invalidation path and
nothing more: a linear stream table, one context descriptor with a 3-level
4K stage-1 table, a command queue and an event queue in guest RAM, an edu
device behind the SMMU whose one DMA brings the host objects up (vIOMMU,
vDEVICE, nested HWPT), then batches of commands closed by CMD_SYNC and
published with one CMDQ_PROD write.

Every access to a trapped register (the SMMU's MMIO pages, the CMDQV's
trapped pages) is counted in `traps`; guest RAM writes are not traps and
neither are accesses to the VINTF page0 that the CMDQV maps into the guest
(the model's own trap counter confirms it).
"""

import struct
import time

from benchlib import Unavailable
from qtest_client import wait_until

# ---- SMMUv3 registers (page 0, page 1 at +0x10000) ----
IDR0 = 0x0
CR0 = 0x20
CR0ACK = 0x24
IRQ_CTRL = 0x50
GERROR = 0x60
GERRORN = 0x64
STRTAB_BASE = 0x80
STRTAB_BASE_CFG = 0x88
CMDQ_BASE = 0x90
CMDQ_PROD = 0x98
CMDQ_CONS = 0x9c
EVENTQ_BASE = 0xa0
EVENTQ_PROD = 0x100a8
EVENTQ_CONS = 0x100ac
CR0_SMMUEN = 1 << 0
CR0_EVENTQEN = 1 << 2
CR0_CMDQEN = 1 << 3
CONS_ERR_SHIFT = 24

# ---- commands ----
CMD_CFGI_STE = 0x03
CMD_CFGI_CD = 0x05
CMD_TLBI_NH_VA = 0x12
CMD_ATC_INV = 0x40
CMD_SYNC = 0x46
CMD_NAMES = {CMD_TLBI_NH_VA: 'TLBI_NH_VA', CMD_CFGI_CD: 'CFGI_CD',
             CMD_ATC_INV: 'ATC_INV'}

# ---- in-memory structures ----
STE_SIZE = 64
STE_CFG_ABORT = 0
STE_CFG_S1 = 5
CD_SIZE = 64
CD_ASID = 1
PTE_VALID = 1 << 0
PTE_TABLE = 1 << 1
PTE_AP_EL0 = 1 << 6
PTE_AF = 1 << 10

# ---- guest memory layout (RAM starts at 0x40000000) ----
STRTAB_ADDR = 0x40000000
STRTAB_LOG2SIZE = 8
CMDQ_ADDR = 0x40010000
CMDQ_LOG2SIZE = 8
EVTQ_ADDR = 0x40020000
EVTQ_LOG2SIZE = 6
CD_ADDR = 0x40030000
PT_L1 = 0x40040000
PT_L2 = 0x40041000
PT_L3 = 0x40042000
SRC_PA = 0x40100000
SRC_IOVA = 0x01000000
VCMDQ_ADDR = 0x40400000
VCMDQ_LOG2SIZE = 8

# ---- PCI: virt's high ECAM, the edu device at 00:04.0 ----
ECAM = 0x4010000000
PCI_MMIO = 0x10000000
EDU_SLOT = 4
EDU_SID = EDU_SLOT << 3
EDU_DMA_SRC = 0x80
EDU_DMA_DST = 0x88
EDU_DMA_CNT = 0x90
EDU_DMA_CMD = 0x98
EDU_BUF = 0x40000
EDU_DMA_NS = 200 * 1000 * 1000

# ---- Tegra241 CMDQV (offsets in its MMIO window) ----
CMDQV_CONFIG = 0x0
CMDQV_STATUS = 0x8
VINTF0_CONFIG = 0x1000
VINTF0_STATUS = 0x1004


def CMDQV_CMDQ_ALLOC(q):
    return 0x200 + 4 * q


def VINTF0_PAGE0(q):
    return 0x30000 + 0x80 * q


def VINTF0_PAGE1(q):
    return 0x40000 + 0x80 * q


VCMDQ_CONS = 0x0
VCMDQ_PROD = 0x4
VCMDQ_CONFIG = 0x8
VCMDQ_STATUS = 0xc


def cmd_bytes(cmd0, cmd1):
    return struct.pack('<QQ', cmd0, cmd1)


def cmd_tlbi_nh_va(i):
    va = SRC_IOVA + (i % 512) * 0x1000
    return cmd_bytes(CMD_TLBI_NH_VA | CD_ASID << 48, va | 1)


def cmd_cfgi_cd(sid):
    return cmd_bytes(CMD_CFGI_CD | sid << 32, 1)        # leaf, SSID 0


def cmd_atc_inv(sid):
    return cmd_bytes(CMD_ATC_INV | sid << 32, 0xfff << 12 | 52)   # all


def cmd_sync():
    return cmd_bytes(CMD_SYNC, 0)


def workload_cmds(kind, start, n, sid):
    """@n invalidation commands of workload @kind: 'tlbi' or 'mix'.

    mix: per 4 commands, 2 TLBI_NH_VA, 1 CFGI_CD, 1 ATC_INV (a driver that
    unmaps pages, rewrites a CD and invalidates the device's ATC).
    """
    out = []
    for i in range(start, start + n):
        if kind == 'mix' and i % 4 == 2:
            out.append((CMD_CFGI_CD, cmd_cfgi_cd(sid)))
        elif kind == 'mix' and i % 4 == 3:
            out.append((CMD_ATC_INV, cmd_atc_inv(sid)))
        else:
            out.append((CMD_TLBI_NH_VA, cmd_tlbi_nh_va(i)))
    return out


class Queue:
    """A circular command queue in guest RAM (index with wrap bit)."""

    def __init__(self, base, log2size):
        self.base, self.log2size = base, log2size
        self.prod = 0

    def post_lines(self, cmds, write_line):
        """qtest lines writing @cmds at PROD; advances PROD."""
        size = 1 << self.log2size
        lines = []
        i = 0
        while i < len(cmds):
            idx = self.prod & (size - 1)
            n = min(len(cmds) - i, size - idx)
            lines.append(write_line(self.base + idx * 16,
                                    b''.join(cmds[i:i + n])))
            self.prod = (self.prod + n) & ((2 << self.log2size) - 1)
            i += n
        return lines


class SmmuDriver:
    """The guest driver of one SMMUv3 at @base, with edu behind it."""

    def __init__(self, vm, base, evtq_addr=EVTQ_ADDR,
                 evtq_log2size=EVTQ_LOG2SIZE):
        self.vm, self.base = vm, base
        self.traps = 0
        self.cmdq = Queue(CMDQ_ADDR, CMDQ_LOG2SIZE)
        self.evtq_addr, self.evtq_log2size = evtq_addr, evtq_log2size

    # trapped register accesses
    def rd(self, off):
        self.traps += 1
        return self.vm.readl(self.base + off)

    def wr(self, off, val):
        self.traps += 1
        self.vm.writel(self.base + off, val)

    def wrq(self, off, val):
        self.traps += 1
        self.vm.writeq(self.base + off, val)

    # ---- probe ----
    def _pci_cfg(self, devfn, off):
        return ECAM + (devfn << 12) + off

    def edu_setup(self):
        vm = self.vm
        devfn = EDU_SLOT << 3
        ident = vm.readl(self._pci_cfg(devfn, 0))
        if ident != 0x11e81234:
            raise RuntimeError(f'edu not found at 00:04.0 (id {ident:#x})')
        vm.writel(self._pci_cfg(devfn, 0x10), PCI_MMIO)        # BAR0
        vm.writel(self._pci_cfg(devfn, 0x04), 0x6)              # MEM|MASTER
        self.edu_bar = PCI_MMIO

    def tables(self):
        vm = self.vm
        abort = struct.pack('<Q', 1 | STE_CFG_ABORT << 1) + bytes(56)
        vm.memwrite(STRTAB_ADDR, abort * (1 << STRTAB_LOG2SIZE))
        vm.memwrite(PT_L1, bytes(0x3000))
        cd0 = (25 | 0 << 6 | 1 << 30 | 1 << 31 | 5 << 32 | 1 << 41 |
               1 << 45 | 1 << 46 | CD_ASID << 48)
        cd1 = (PT_L1 >> 4) << 4
        vm.memwrite(CD_ADDR, struct.pack('<QQ', cd0, cd1) + bytes(48))
        iova = SRC_IOVA
        vm.writeq(PT_L1 + ((iova >> 30) & 0x1ff) * 8,
                  PT_L2 | PTE_TABLE | PTE_VALID)
        vm.writeq(PT_L2 + ((iova >> 21) & 0x1ff) * 8,
                  PT_L3 | PTE_TABLE | PTE_VALID)
        vm.writeq(PT_L3 + ((iova >> 12) & 0x1ff) * 8,
                  SRC_PA | PTE_AF | PTE_AP_EL0 | PTE_TABLE | PTE_VALID)

    def enable(self):
        self.tables()
        self.wrq(STRTAB_BASE, STRTAB_ADDR)
        self.wr(STRTAB_BASE_CFG, STRTAB_LOG2SIZE)
        self.wrq(CMDQ_BASE, CMDQ_ADDR | CMDQ_LOG2SIZE)
        self.wr(CMDQ_PROD, 0)
        self.wr(CMDQ_CONS, 0)
        self.wrq(EVENTQ_BASE, self.evtq_addr | self.evtq_log2size)
        self.wr(EVENTQ_PROD, 0)
        self.wr(EVENTQ_CONS, 0)
        self.wr(IRQ_CTRL, 1 | 4)
        cr0 = CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN
        self.wr(CR0, cr0)
        if self.rd(CR0ACK) != cr0:
            raise RuntimeError('SMMU did not acknowledge CR0')

    def attach_edu(self):
        """S1 STE for edu, CFGI_STE, then one DMA through it."""
        ste0 = 1 | STE_CFG_S1 << 1 | CD_ADDR
        self.vm.memwrite(STRTAB_ADDR + EDU_SID * STE_SIZE,
                         struct.pack('<Q', ste0) + bytes(56))
        self.submit([cmd_bytes(CMD_CFGI_STE | EDU_SID << 32, 1)])
        vm, bar = self.vm, self.edu_bar
        vm.writeq(bar + EDU_DMA_SRC, SRC_IOVA)
        vm.writeq(bar + EDU_DMA_DST, EDU_BUF)
        vm.writeq(bar + EDU_DMA_CNT, 64)
        vm.writeq(bar + EDU_DMA_CMD, 1)
        vm.clock_step(EDU_DMA_NS)
        if vm.readq(bar + EDU_DMA_CMD) & 1:
            raise RuntimeError('edu DMA did not complete')
        if self.gerror_pending():
            raise RuntimeError('GERROR after the edu DMA')

    def gerror_pending(self):
        return self.rd(GERROR) ^ self.rd(GERRORN)

    def probe(self):
        self.edu_setup()
        self.enable()
        self.attach_edu()

    # ---- the command path ----
    def submit(self, cmds, wait_s=0.0):
        """@cmds (bytes) + CMD_SYNC, one PROD write, one CONS read.

        @wait_s: idle time between the doorbell and the CONS read, the
        same pacing as VcmdqDriver's wait for its engine (the emulated
        queue is consumed synchronously on the PROD write anyway).
        """
        lines = self.cmdq.post_lines(list(cmds) + [cmd_sync()],
                                     self.vm.write_line)
        lines.append(f'writel 0x{self.base + CMDQ_PROD:x} '
                     f'0x{self.cmdq.prod:x}')
        self.traps += 2
        for line in lines:
            self.vm.send(line)
        if wait_s:
            self.vm.flush()
            time.sleep(wait_s)
        self.vm.send(f'readl 0x{self.base + CMDQ_CONS:x}')
        cons = int(self.vm.flush()[-1], 16)
        mask = (2 << CMDQ_LOG2SIZE) - 1
        if cons >> CONS_ERR_SHIFT & 0x7f or (cons & mask) != self.cmdq.prod:
            raise RuntimeError(f'CMDQ stopped: CONS {cons:#x} PROD '
                               f'{self.cmdq.prod:#x}')


class VcmdqDriver:
    """Guest driver of VCMDQ0 of the Tegra241 CMDQV of @smmu.

    Commands go into a VCMDQ in guest RAM and PROD into the VINTF page0
    the CMDQV maps into the guest; the host's CMDQV engine consumes them
    with no VMM involvement. Only set-up touches trapped pages.
    """

    FIRST_POLL_S = 300e-6

    def __init__(self, smmu, base):
        self.smmu, self.vm, self.base = smmu, smmu.vm, base
        self.q = Queue(VCMDQ_ADDR, VCMDQ_LOG2SIZE)
        self.page0_accesses = 0

    def _rd(self, off):
        self.smmu.traps += 1
        return self.vm.readl(self.base + off)

    def _wr(self, off, val):
        self.smmu.traps += 1
        self.vm.writel(self.base + off, val)

    def enable(self):
        vm = self.vm
        self._wr(CMDQV_CONFIG, 1)
        if not self._rd(CMDQV_STATUS) & 1:
            raise RuntimeError('CMDQV not enabled')
        self._wr(CMDQV_CMDQ_ALLOC(0), 0 << 1)
        self._wr(CMDQV_CMDQ_ALLOC(1), 1 << 1)
        self._wr(VINTF0_CONFIG, 1)
        if not self._rd(VINTF0_STATUS) & 1:
            raise RuntimeError('VINTF0 not enabled')
        self._wr(CMDQV_CMDQ_ALLOC(0), 1)                     # map to VINTF0
        self.smmu.traps += 1
        vm.writeq(self.base + VINTF0_PAGE1(0), VCMDQ_ADDR | VCMDQ_LOG2SIZE)
        # page0 from here on: mapped, not trapped
        self.page0_accesses += 1
        vm.writel(self.base + VINTF0_PAGE0(0) + VCMDQ_CONFIG, 1)
        if not wait_until(lambda: self._p0_read(VCMDQ_STATUS) & 1):
            raise RuntimeError('VCMDQ0 not enabled')

    def _p0_read(self, off):
        self.page0_accesses += 1
        return self.vm.readl(self.base + VINTF0_PAGE0(0) + off)

    def submit(self, cmds):
        lines = self.q.post_lines(list(cmds) + [cmd_sync()],
                                  self.vm.write_line)
        lines.append(f'writel 0x{self.base + VINTF0_PAGE0(0) + VCMDQ_PROD:x}'
                     f' 0x{self.q.prod:x}')
        self.page0_accesses += 1
        for line in lines:
            self.vm.send(line)
        self.vm.flush()
        mask = (2 << VCMDQ_LOG2SIZE) - 1
        cons = 0

        def done():
            nonlocal cons
            cons = self._p0_read(VCMDQ_CONS)
            return (cons & mask) == self.q.prod or cons >> 24 & 0x7f

        # The engine polls its queues (every 50us while busy, backing off
        # to 1ms when idle). Wait before the first CONS read so that, like
        # the trapped path's one CONS read, one read usually suffices: the
        # qtest line count (QEMU main-loop work) then matches the other
        # configurations and the CPU comparison is about the SMMU paths.
        time.sleep(self.FIRST_POLL_S)
        if not wait_until(done, interval=50e-6) or cons >> 24 & 0x7f:
            raise RuntimeError(f'VCMDQ stopped: CONS {cons:#x} PROD '
                               f'{self.q.prod:#x}')


def require_cmdqv(vm):
    base = vm.mtree_base('tegra241-cmdqv')
    if base is None:
        raise Unavailable('no tegra241-cmdqv MMIO region')
    return base
