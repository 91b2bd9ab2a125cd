# SPDX-License-Identifier: GPL-2.0-or-later
"""Measurement 6: the capacity of the event path, host to guest EVTQ.

QEMU runs under the qtest accelerator with the accelerated SMMUv3 on
iommufd-sim and the bench's guest driver (smmu_driver.SmmuDriver) with a
guest EVTQ of 2^LOG2SIZE records; the host's vEVENTQ is as deep. Nothing
consumes while QEMU writes, so what is measured is the path alone: the
simulated host queueing the records, QEMU reading its vEVENTQ and writing
the guest's EVTQ.

Per repetition, in one QEMU:
1. fill: one inject-event count=SIZE call; events/s = SIZE over the time
   from that call until QEMU's x-events-written counter reaches SIZE
   (polled every 2 ms);
2. full: SIZE/8 more; the full guest EVTQ drops them, OVFLG is set;
3. host overflow: the guest consumes everything and acknowledges the
   overflow, then one call of SIZE + SIZE/8: the host vEVENTQ loses the
   excess (a LOST_EVENTS record), QEMU writes SIZE more and toggles OVFLG
   again.
At each step the accounting must be exact: injected = delivered + lost
(the simulator's stats), delivered = written + dropped (QEMU's counters),
and the guest's PROD/OVFLG must agree.
"""

import time

import benchlib
from qtest_client import QtestVM
import smmu_driver as drv

LOG2SIZE = 19                   # QEMU's IDR1.EVENTQS: the largest EVTQ
EVTQ_ADDR = 0x41000000          # 16 MiB of guest RAM for 2^19 records
F_TRANSLATION = 0x10
COUNTERS = ('written', 'dropped-full', 'dropped-disabled', 'dropped-abort',
            'host-overflows')
ARGS = ['-object', 'iommufd-sim,id=sim0,cmdqv=off',
        '-device', 'arm-smmuv3,primary-bus=pcie.0,id=smmu0,accel=on,'
        'iommufd=sim0,cmdqv=off',
        '-device', f'edu,addr={drv.EDU_SLOT:02x}.0']
TARGET_EVENTS_PER_S = 1_000_000


def _counters(vm):
    return {k: int(vm.qmp.cmd('qom-get', path='/machine/peripheral/smmu0',
                              property=f'x-events-{k}')) for k in COUNTERS}


def _events(vm):
    return benchlib.sim_stats(vm.qmp)['events']


def _inject(vm, psid, count, addr):
    vm.qmp.cmd('qom-set', path='/objects/sim0', property='inject-event',
               value=f'psid={psid:#x},event={F_TRANSLATION:#x},'
                     f'addr={addr:#x},count={count},step=0x1000')


def _wait_written(vm, n, timeout=60.0):
    """Poll x-events-written until it reaches @n; the time it did."""
    end = time.monotonic() + timeout
    while True:
        c = _counters(vm)
        if c['written'] >= n:
            return time.monotonic(), c
        if time.monotonic() > end:
            raise RuntimeError(f'only {c["written"]} of {n} records reached '
                               f'the guest EVTQ: {c}')
        time.sleep(0.002)


def run_once(log2size):
    size = 1 << log2size
    extra = size // 8
    out = {'size': size}
    with QtestVM(ARGS, memory='512M', timeout=120) as vm:
        base = vm.mtree_base('arm-smmuv3')
        if base is None:
            raise RuntimeError('no arm-smmuv3 MMIO region in info mtree')
        d = drv.SmmuDriver(vm, base, evtq_addr=EVTQ_ADDR,
                           evtq_log2size=log2size)
        d.probe()
        st = benchlib.sim_stats(vm.qmp)
        devs = [x for x in st['devices'] if x.get('vdevice')]
        if len(devs) != 1:
            raise RuntimeError('no vDEVICE after the probe')
        psid = devs[0]['psid']
        ev0, c0 = _events(vm), _counters(vm)

        # 1. fill the guest EVTQ with one injection
        t0 = time.monotonic()
        _inject(vm, psid, size, 0x10000000)
        t_call = time.monotonic()
        t1, c1 = _wait_written(vm, c0['written'] + size)
        ev1 = _events(vm)
        prod = d.rd(drv.EVENTQ_PROD)
        out['fill'] = {
            'events': size, 'seconds': t1 - t0,
            'inject_call_s': t_call - t0,
            'events_per_s': size / (t1 - t0),
            'host_delivered': ev1['delivered'] - ev0['delivered'],
            'host_lost': ev1['lost'] - ev0['lost'],
            'written': c1['written'] - c0['written'],
            'full': (prod & ((2 << log2size) - 1)) == size,
            'ovflg': bool(prod >> 31)}

        # 2. the full guest EVTQ drops the next ones and flags the overflow
        _inject(vm, psid, extra, 0x20000000)
        end = time.monotonic() + 30
        while _counters(vm)['dropped-full'] - c1['dropped-full'] < extra:
            if time.monotonic() > end:
                raise RuntimeError('the full EVTQ did not drop the storm')
            time.sleep(0.002)
        c2, ev2 = _counters(vm), _events(vm)
        prod2 = d.rd(drv.EVENTQ_PROD)
        out['full'] = {
            'events': extra,
            'host_delivered': ev2['delivered'] - ev1['delivered'],
            'dropped_full': c2['dropped-full'] - c1['dropped-full'],
            'written': c2['written'] - c1['written'],
            'ovflg_set': bool(prod2 >> 31) and not (prod >> 31)}

        # 3. consume and acknowledge; then more than the host queue holds
        d.wr(drv.EVENTQ_CONS, prod2)
        _inject(vm, psid, size + extra, 0x30000000)
        t3, c3 = _wait_written(vm, c2['written'] + size)
        end = time.monotonic() + 30
        while c3['host-overflows'] == c2['host-overflows']:
            if time.monotonic() > end:
                raise RuntimeError('QEMU saw no host overflow')
            time.sleep(0.002)
            c3 = _counters(vm)
        ev3 = _events(vm)
        prod3 = d.rd(drv.EVENTQ_PROD)
        out['host_overflow'] = {
            'events': size + extra,
            'host_delivered': ev3['delivered'] - ev2['delivered'],
            'host_lost': ev3['lost'] - ev2['lost'],
            'written': c3['written'] - c2['written'],
            'host_overflows': c3['host-overflows'] - c2['host-overflows'],
            'ovflg_toggled': (prod3 >> 31) != (prod2 >> 31)}
        if d.gerror_pending():
            raise RuntimeError('GERROR pending after the run')
        total = {k: c3[k] - c0[k] for k in COUNTERS}
        injected = size + extra + size + extra
        delivered = ev3['delivered'] - ev0['delivered']
        lost = ev3['lost'] - ev0['lost']
        only = ev3['host_only'] - ev0['host_only']
        out['accounting'] = {
            'injected': injected, 'host_delivered': delivered,
            'host_lost': lost, 'host_only': only, 'qemu': total,
            'exact': (
                delivered + lost + only == injected and
                total['written'] + total['dropped-full'] +
                total['dropped-disabled'] + total['dropped-abort'] ==
                delivered and
                out['fill']['host_lost'] == 0 and
                out['fill']['written'] == size and out['fill']['full'] and
                not out['fill']['ovflg'] and
                out['full']['dropped_full'] == extra and
                out['full']['written'] == 0 and out['full']['ovflg_set'] and
                out['host_overflow']['host_lost'] == extra and
                out['host_overflow']['written'] == size and
                out['host_overflow']['host_overflows'] == 1 and
                out['host_overflow']['ovflg_toggled'])}
    return out


def run(reps, log, log2size=LOG2SIZE):
    runs, failures = [], []
    for rep in range(reps):
        log(f'EVTQ capacity: 2^{log2size} records, rep {rep + 1}/{reps}')
        try:
            runs.append(run_once(log2size))
        except Exception as e:  # a failed measurement, reported
            failures.append(f'rep {rep + 1}: {type(e).__name__}: {e}')
    out = {'log2size': log2size, 'runs': runs, 'failures': failures}
    if runs:
        rate = benchlib.summary([r['fill']['events_per_s'] for r in runs])
        out['events_per_s'] = rate
        exact = all(r['accounting']['exact'] for r in runs)
        out['targets'] = {
            'evtq_capacity': {
                'met': rate['median'] >= TARGET_EVENTS_PER_S and exact,
                'what': f'event path: >= {TARGET_EVENTS_PER_S:,} events/s '
                        'from the host vEVENTQ into the guest EVTQ (median '
                        f'{rate["median"]:,.0f}/s), accounting exact and '
                        'both overflows seen by the guest'}}
    return out
