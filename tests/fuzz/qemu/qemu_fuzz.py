#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU generic-fuzz configurations for the accelerated SMMUv3 and the
Tegra241 CMDQV, over iommufd-sim, with an edu endpoint doing DMA.

generic-fuzz (QEMU's tests/qtest/fuzz/generic_fuzz.c) turns each input
into MMIO accesses to the memory regions of QEMU_FUZZ_OBJECTS and fills
the guest memory a device reads by DMA (stream table, CDs, commands)
with patterns from the input. Its PCI set-up goes through the PC's
0xcf8 ports, which virt does not have, so edu is not listed as a PCI
device: the ECAM region is, and the seeds below program edu's BAR and
bus mastering through it, bring the SMMU (and the CMDQV) up and make edu
DMA, so that the fuzzer starts past the first checks.

  qemu_fuzz.py env CONFIG          the QEMU_FUZZ_* variables, as K=V lines
  qemu_fuzz.py seeds CONFIG DIR    write the seed inputs into DIR, and
                                   the inputs of regressions.hex
  qemu_fuzz.py list                the configurations
"""

import hashlib
import os
import struct
import sys

COMMON = '-M virt,gic-version=3 -cpu max -nodefaults '
EDU = '-device edu,addr=04.0'
# The SMMU (its register pages and the CMDQV's are its child regions),
# the ECAM and edu's BAR (memory regions are matched by QOM name, "NAME[0]")
OBJECTS = 'arm-smmuv3 pcie-mmcfg-mmio* edu-mmio*'
CONFIGS = {
    'smmuv3-accel': {
        'args': COMMON + '-object iommufd-sim,id=sim0,cmdqv=off '
                '-device arm-smmuv3,primary-bus=pcie.0,accel=on,'
                'iommufd=sim0,cmdqv=off,id=smmu0 ' + EDU,
        'objects': OBJECTS,
    },
    'smmuv3-accel-cmdqv': {
        'args': COMMON + '-object iommufd-sim,id=sim0 '
                '-device arm-smmuv3,primary-bus=pcie.0,accel=on,'
                'iommufd=sim0,cmdqv=on,id=smmu0 ' + EDU,
        'objects': OBJECTS,
    },
}

# generic-fuzz's opcodes (enum in generic_fuzz.c) and separator
OP_WRITE, OP_ADD_DMA_PATTERN, OP_CLOCK_STEP = 3, 7, 9
SEPARATOR = b'FUZZ'
LONG, QUAD = 2, 3

# SMMUv3 registers (page 0; EVENTQ_PROD/CONS on page 1)
CR0, IRQ_CTRL = 0x20, 0x50
STRTAB_BASE, STRTAB_BASE_CFG = 0x80, 0x88
CMDQ_BASE, CMDQ_PROD, CMDQ_CONS = 0x90, 0x98, 0x9c
EVENTQ_BASE, EVENTQ_PROD, EVENTQ_CONS = 0xa0, 0x100a8, 0x100ac
RAM = 0x40000000
EDU_SID = 0x20                  # 00:04.0
EDU_BAR = 0x10000000
ECAM_EDU = 4 << 15              # bus 0, device 4, function 0


def write(index, off, val, size=QUAD):
    """op_write: the @index-th fuzzable range, offset, value."""
    return bytes([OP_WRITE]) + struct.pack('<BBxxIQ', size, index, off, val)


def pattern(data, index=0, stride=0):
    return bytes([OP_ADD_DMA_PATTERN, index, stride]) + data


def clock():
    return bytes([OP_CLOCK_STEP])


def ste(config, cd=RAM + 0x30000):
    word0 = 1 | config << 1 | cd
    return struct.pack('<Q', word0) + bytes(56)


def cmd(op, word0_hi=0, word1=0):
    return struct.pack('<QQ', op | word0_hi << 32, word1)


CD = struct.pack('<QQ', 25 | 1 << 14 | 1 << 30 | 1 << 31 | 5 << 32 |
                 1 << 41 | 1 << 48, RAM + 0x40000) + bytes(48)


def seed_ops(ecam, edu, ste_config, cmdqv, strtab_cfg=8):
    """One seed: edu set up through the ECAM (range @ecam before edu's BAR
    is mapped), the SMMU brought up (range 0), CFGI_STE of edu's StreamID
    with the STE, the CD and the commands served as DMA patterns in the
    order the SMMU reads them, then an edu DMA (range @edu) and a clock
    step to run it."""
    ops = [write(ecam, ECAM_EDU + 0x10, EDU_BAR, LONG),
           write(ecam, ECAM_EDU + 0x04, 0x6, LONG),
           write(0, STRTAB_BASE, RAM),
           write(0, STRTAB_BASE_CFG, strtab_cfg, LONG),
           write(0, CMDQ_BASE, RAM + 0x10000 | 8),
           write(0, CMDQ_PROD, 0, LONG), write(0, CMDQ_CONS, 0, LONG),
           write(0, EVENTQ_BASE, RAM + 0x20000 | 6),
           write(0, EVENTQ_PROD, 0, LONG), write(0, EVENTQ_CONS, 0, LONG),
           write(0, IRQ_CTRL, 5, LONG),
           write(0, CR0, 0xd, LONG)]
    if cmdqv:
        # CMDQV_CONFIG.EN, VINTF0 CONFIG.EN, LVCMDQ0 of VINTF0 allocated
        ops += [write(1, 0x0, 1, LONG), write(1, 0x1000, 1, LONG),
                write(1, 0x200, 1, LONG)]
    ops += [pattern(cmd(0x03, EDU_SID, 1)),         # CFGI_STE, leaf
            pattern(ste(ste_config)),
            pattern(CD),
            pattern(cmd(0x46)),                     # CMD_SYNC
            write(0, CMDQ_PROD, 2, LONG),
            write(edu, 0x80, 0x01000000),           # DMA source IOVA
            write(edu, 0x88, 0x40000),              # edu's buffer
            write(edu, 0x90, 64),
            write(edu, 0x98, 1),                    # start, to edu
            clock(), clock()]
    return SEPARATOR.join(ops)


def seeds(name):
    cmdqv = name.endswith('-cmdqv')
    out = []
    # The range indices depend on what else is mapped (the CMDQV window
    # sits between the SMMU and the PCI windows): a seed for each guess.
    for ecam in (1, 2, 3):
        for edu in (1, 2):
            for config in (0b101, 0b111, 0b100):    # S1, nested, bypass
                out.append(seed_ops(ecam, edu, config, cmdqv))
    # LOG2SIZE 63, linear and 2-level (split 8): above IDR1.SIDSIZE, once
    # a negative shift in QEMU's stream table lookup (patch 0022)
    for cfg in (63, 1 << 16 | 8 << 6 | 63):
        out.append(seed_ops(1, 1, 0b101, cmdqv, cfg))
    return out


def regressions(name):
    """The committed inputs that once crashed this configuration."""
    out = []
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'regressions.hex')) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            cfg, data = line.split()
            if cfg == name:
                out.append(bytes.fromhex(data))
    return out


def main(argv):
    if len(argv) >= 2 and argv[1] == 'list':
        print('\n'.join(CONFIGS))
        return 0
    if len(argv) < 3 or argv[2] not in CONFIGS:
        print(__doc__, file=sys.stderr)
        return 2
    cfg = CONFIGS[argv[2]]
    if argv[1] == 'env':
        print(f'QEMU_FUZZ_ARGS={cfg["args"]}')
        print(f'QEMU_FUZZ_OBJECTS={cfg["objects"]}')
        return 0
    if argv[1] == 'seeds' and len(argv) == 4:
        os.makedirs(argv[3], exist_ok=True)
        for data in seeds(argv[2]) + regressions(argv[2]):
            path = os.path.join(argv[3], hashlib.sha1(data).hexdigest())
            if not os.path.exists(path):
                with open(path, 'wb') as f:
                    f.write(data)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
