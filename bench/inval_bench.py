# SPDX-License-Identifier: GPL-2.0-or-later
"""Measurement 1: the cost of guest invalidations, by SMMU configuration.

QEMU runs under the qtest accelerator; smmu_driver.SmmuDriver is the
guest driver. For each configuration, in one QEMU process, each workload
(TLBI_NH_VA only; a mix with CFGI_CD and ATC_INV) is issued in batches of
1, 8 and 64 commands per CMD_SYNC. Per cell we count, as deltas around
the cell: trapped MMIO accesses as QEMU counted them (the SMMU's
mmio-accesses, the CMDQV's trapped pages), host ioctls and host
invalidation entries (the simulator's stats) and QEMU's CPU time (all its
threads). Repetitions start a fresh QEMU per configuration, configurations
round-robin, so that machine noise hits them alike. Every configuration
paces its batches alike: (c) must wait for the CMDQV engine before it
reads CONS, so the trapped configurations idle as long between their
doorbell and their CONS read, and QEMU's main loop sleeps and wakes as
often in all of them.
"""

import json
import time

import benchlib
from benchlib import Unavailable
from qtest_client import QtestVM
import smmu_driver as drv

BATCHES = (1, 8, 64)
WORKLOADS = ('tlbi', 'mix')

SMMU = 'arm-smmuv3,primary-bus=pcie.0,id=smmu0'
EDU = ['-device', f'edu,addr={drv.EDU_SLOT:02x}.0']
SIM = ['-object', 'iommufd-sim,id=sim0,cmdqv=off']
SIM_CMDQV = ['-object', 'iommufd-sim,id=sim0']

# name -> (label, QEMU arguments, uses the VCMDQ)
CONFIGS = {
    'emulated': ('(a) emulated SMMUv3', ['-device', SMMU] + EDU, False),
    'accel': ('(b) accel, batched', SIM + [
        '-device', SMMU + ',accel=on,iommufd=sim0,cmdqv=off'] + EDU, False),
    'accel-cmdqv': ('(c) accel + CMDQV (VCMDQ)', SIM_CMDQV + [
        '-device', SMMU + ',accel=on,iommufd=sim0,cmdqv=on'] + EDU, True),
    'accel-nobatch': ('(d) accel, batch-invalidations=off', SIM + [
        '-device', SMMU + ',accel=on,iommufd=sim0,cmdqv=off,'
        'batch-invalidations=off'] + EDU, False),
}
ORDER = ('emulated', 'accel', 'accel-cmdqv', 'accel-nobatch')


def _cmdqv_traps(vm):
    try:
        st = json.loads(vm.qmp.cmd(
            'qom-get', path='/machine/peripheral/smmu0',
            property='cmdqv-stats'))
    except RuntimeError:
        return 0
    return sum(st.get('traps', {}).values())


def _smmu_traps(vm):
    """Guest accesses QEMU saw on the SMMU's register pages (VMM exits)."""
    return int(vm.qmp.cmd('qom-get', path='/machine/peripheral/smmu0',
                          property='mmio-accesses'))


def run_config(name, n_inval, log):
    """One QEMU, every workload and batch size. Returns {cell: result}."""
    label, args, vcmdq = CONFIGS[name]
    has_sim = 'iommufd-sim' in ' '.join(args)
    with QtestVM(args) as vm:
        base = vm.mtree_base('arm-smmuv3')
        if base is None:
            raise RuntimeError('no arm-smmuv3 MMIO region in info mtree')
        smmu = drv.SmmuDriver(vm, base)
        smmu.probe()
        vq = None
        if vcmdq:
            vq = drv.VcmdqDriver(smmu, drv.require_cmdqv(vm))
            vq.enable()
        results = {}
        for kind in WORKLOADS:
            for batch in BATCHES:
                nb = max(1, n_inval // batch)
                st0 = benchlib.sim_stats(vm.qmp) if has_sim else None
                ct0 = _cmdqv_traps(vm) if vcmdq else 0
                tr0 = _smmu_traps(vm)
                dtr0 = smmu.traps
                p00 = vq.page0_accesses if vq else 0
                cpu0 = benchlib.cpu_ns(vm.pid)
                tick0 = benchlib.stat_cpu_ns(vm.pid)
                t0 = time.monotonic()
                for b in range(nb):
                    cmds = drv.workload_cmds(kind, b * batch, batch,
                                             drv.EDU_SID)
                    if vq:
                        # CFGI_CD is not a VCMDQ command: main CMDQ.
                        main = [c for op, c in cmds if op == drv.CMD_CFGI_CD]
                        rest = [c for op, c in cmds if op != drv.CMD_CFGI_CD]
                        if main:
                            smmu.submit(main)
                        if rest:
                            vq.submit(rest)
                    else:
                        smmu.submit([c for _, c in cmds],
                                    wait_s=drv.VcmdqDriver.FIRST_POLL_S)
                wall = time.monotonic() - t0
                cpu1 = benchlib.cpu_ns(vm.pid)
                tick1 = benchlib.stat_cpu_ns(vm.pid)
                res = {'invalidations': nb * batch, 'batches': nb,
                       # counted by QEMU: SMMU and CMDQV register pages
                       'traps': _smmu_traps(vm) - tr0 +
                       ((_cmdqv_traps(vm) - ct0) if vcmdq else 0),
                       # what the driver thinks it did, for comparison
                       'driver_traps': smmu.traps - dtr0,
                       'cpu_ns': cpu1['vmm'] - cpu0['vmm'],
                       'simhw_cpu_ns': cpu1['simhw'] - cpu0['simhw'],
                       # utime+stime of /proc/PID/stat, all threads, in
                       # 10 ms ticks: for reference only
                       'stat_cpu_ns': tick1 - tick0,
                       'page0_accesses': vq.page0_accesses - p00 if vq else 0,
                       'wall_s': wall}
                if has_sim:
                    res.update(benchlib.stats_delta(
                        st0, benchlib.sim_stats(vm.qmp)))
                results[f'{kind}/{batch}'] = res
        if smmu.gerror_pending():
            raise RuntimeError(f'{name}: GERROR pending after the run')
    return results


def run(n_inval, reps, log):
    """Round-robin over configurations, @reps times. Returns the report."""
    raw = {name: [] for name in ORDER}
    unavailable = {}
    for rep in range(reps):
        for name in ORDER:
            if name in unavailable:
                continue
            log(f'invalidation: {name} rep {rep + 1}/{reps}')
            try:
                raw[name].append(run_config(name, n_inval, log))
            except Unavailable as e:
                unavailable[name] = str(e)
                log(f'  {name}: not available ({e})')
    return summarize(raw, unavailable)


def per_k(res, key):
    if key not in res:
        return None
    return res[key] * 1000.0 / res['invalidations']


def summarize(raw, unavailable):
    out = {'configs': {}, 'targets': {}}
    for name in ORDER:
        label = CONFIGS[name][0]
        if name in unavailable or not raw[name]:
            out['configs'][name] = {'label': label, 'available': False,
                                    'reason': unavailable.get(name, '')}
            continue
        cells = {}
        for cell in raw[name][0]:
            runs = [r[cell] for r in raw[name]]
            base = [r[cell] for r in raw['emulated']] if raw['emulated'] \
                else []
            c = {'invalidations': runs[0]['invalidations'],
                 'batches': runs[0]['batches']}
            for key in ('traps', 'ioctls', 'invalidate_ioctls',
                        'invalidate_entries', 'vcmdq_commands'):
                vals = [per_k(r, key) for r in runs]
                c[key + '_per_1k'] = benchlib.summary(vals)
                c[key + '_exact'] = [r.get(key) for r in runs]
            c['cpu_us_per_1k'] = benchlib.summary(
                [r['cpu_ns'] / r['invalidations'] for r in runs])
            c['stat_cpu_us_per_1k'] = benchlib.summary(
                [r['stat_cpu_ns'] / r['invalidations'] for r in runs])
            c['simhw_cpu_us_per_1k'] = benchlib.summary(
                [r['simhw_cpu_ns'] / r['invalidations'] for r in runs])
            c['page0_accesses_per_1k'] = benchlib.summary(
                [per_k(r, 'page0_accesses') for r in runs])
            # paired with the emulated run of the same repetition
            c['cpu_ratio_vs_emulated'] = benchlib.summary(
                [r['cpu_ns'] / b['cpu_ns'] if b['cpu_ns'] else None
                 for r, b in zip(runs, base)])
            cells[cell] = c
        out['configs'][name] = {'label': label, 'available': True,
                                'reps': len(raw[name]), 'cells': cells}
    out['targets'] = targets(out)
    return out


def targets(out):
    t = {}
    b = out['configs'].get('accel', {})
    if b.get('available'):
        ok = all(r.get('invalidate_ioctls') == r['batches'] and
                 r.get('ioctls') == r['batches']
                 for cell in b['cells'].values()
                 for r in _runs(cell))
        t['b_one_ioctl_per_sync'] = {
            'met': ok, 'what': '(b) exactly one host ioctl per CMD_SYNC '
            'batch (every workload, every batch size, every repetition)'}
    c = out['configs'].get('accel-cmdqv', {})
    if c.get('available'):
        ok = all(all(v == 0 for v in cell['traps_exact'] +
                     cell['ioctls_exact'])
                 for k, cell in c['cells'].items() if k.startswith('tlbi/'))
        t['c_zero_traps_ioctls'] = {
            'met': ok, 'what': '(c) zero traps and zero ioctls for '
            'VCMDQ-issued invalidations (TLBI workload)'}
    else:
        t['c_zero_traps_ioctls'] = {
            'met': None, 'what': '(c) zero traps and zero ioctls for '
            'VCMDQ-issued invalidations: not available'}
    return t


def _runs(cell):
    n = len(cell['ioctls_exact'])
    return [{'ioctls': cell['ioctls_exact'][i],
             'invalidate_ioctls': cell['invalidate_ioctls_exact'][i],
             'batches': cell['batches']} for i in range(n)]
