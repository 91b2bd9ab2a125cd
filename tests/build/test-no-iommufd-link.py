#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A QEMU without iommufd still links, and its stubs behave.

iommufd is Linux's, so QEMU builds on other hosts (and Linux builds with
CONFIG_IOMMUFD=n) leave out the accelerated SMMUv3, the CMDQV that rides
on it, the iommufd backends, iommufd-sim and the iommufd half of VFIO,
and link stubs instead (hw/arm/smmuv3-accel-stubs.c, QEMU's
hw/vfio/iommufd-stubs.c and migration/vfio-stub.c). Nothing here builds
such a QEMU, so this test makes those links for real out of the build
tree given as argument (build-qemu.sh's output):

- "no-iommufd": a Linux build with CONFIG_IOMMUFD=n. The iommufd-only
  objects are dropped, hw/vfio/pci.c (the one aarch64 file that tests
  CONFIG_IOMMUFD) is compiled again against the device configuration
  without it, and the stubs are compiled with their neighbours' flags.
- "no-vfio": a host without VFIO (CONFIG_VFIO=n, so no iommufd either):
  every VFIO object goes too, migration/vfio-stub.c comes in.

Each is linked with qemu-system-aarch64's own link command (the linker
refuses undefined symbols), then run: the emulated SMMUv3 still realizes,
accel=on is refused at realize with the stub's message and hint, and the
iommufd objects and properties are gone. Last, the no-iommufd link made
without the SMMU stubs must fail, naming exactly the symbols the stubs
define (so the check can fail). Ends with "N passed, N failed".
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
TARGET = 'qemu-system-aarch64'
sys.path.insert(0, os.path.dirname(HERE))
import checks  # noqa: E402

# Objects only builds with CONFIG_IOMMUFD have (meson source sets of
# backends/, sim/, hw/vfio/ and hw/arm/ under 'CONFIG_IOMMUFD').
IOMMUFD_ONLY = re.compile(r'/(backends_iommufd\.c|backends_iommufd-sim\.c|'
                          r'sim_[a-z-]+\.c|hw_vfio_iommufd\.c|'
                          r'hw_vfio_cpr-iommufd\.c|hw_arm_smmuv3-accel\.c|'
                          r'hw_arm_tegra241-cmdqv\.c)\.o$')
# Objects only builds with CONFIG_VFIO have (hw/vfio, hw/vfio-user and
# migration/vfio.c).
VFIO_ONLY = re.compile(r'/(hw_vfio_[a-z-]+\.c|hw_vfio-user_[a-z-]+\.c|'
                       r'migration_vfio\.c)\.o$')

CHECKS = checks.Checks()
check = CHECKS.check


def ninja_split(text):
    """Split a ninja line into tokens, undoing $-escapes."""
    tokens, cur, i = [], '', 0
    while i < len(text):
        c = text[i]
        if c == '$' and i + 1 < len(text):
            cur += text[i + 1] if text[i + 1] in ' :$' else c + text[i + 1]
            i += 2
            continue
        if c == ' ':
            if cur:
                tokens.append(cur)
            cur = ''
        else:
            cur += c
        i += 1
    if cur:
        tokens.append(cur)
    return tokens


def link_statement(build):
    """Inputs and variables of the build statement of TARGET."""
    with open(os.path.join(build, 'build.ninja')) as f:
        lines = f.read().split('\n')
    for i, line in enumerate(lines):
        if line.startswith(f'build {TARGET}:'):
            break
    else:
        return None
    toks = ninja_split(line[len(f'build {TARGET}:'):])
    inputs = []
    for t in toks[1:]:
        if t in ('|', '||'):
            break
        inputs.append(t)
    variables = {}
    for line in lines[i + 1:]:
        m = re.match(r'^ +([A-Za-z_]+) = (.*)$', line)
        if not m:
            break
        variables[m.group(1)] = ninja_split(m.group(2))
    return toks[0], inputs, variables


def compile_like(build, commands, neighbour, source, obj, edit=None):
    """Compile @source to @obj with the flags of @neighbour's object."""
    entry = next((e for e in commands if e['output'] == neighbour), None)
    if not entry:
        return False, f'no compile command for {neighbour}'
    cmd = entry['command']
    cmd = cmd.replace(f'-MD -MQ {neighbour} -MF {neighbour}.d ', '')
    cmd = cmd.replace(f'-o {neighbour}', f'-o {obj}')
    cmd = cmd.replace(f'-c {entry["file"]}', f'-c {source}')
    if edit:
        cmd = edit(cmd)
    r = subprocess.run(cmd, shell=True, cwd=entry['directory'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return r.returncode == 0, r.stdout.strip()[-2000:] or 'compiled'


def link(build, args, objs, link_args, out):
    rsp = out + '.rsp'
    with open(rsp, 'w') as f:
        f.write(' '.join(args + ['-o', out] + objs + link_args))
    t0 = time.monotonic()
    r = subprocess.run(['cc', '-m64', '@' + rsp], cwd=build,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return r.returncode, r.stdout, time.monotonic() - t0


def undefined_refs(linker_output):
    return set(re.findall(r"undefined reference to `([^']+)'",
                          linker_output))


def defined_globals(obj):
    out = subprocess.run(['nm', '-P', '--defined-only', '-g', obj],
                         stdout=subprocess.PIPE, text=True, check=True)
    return {ln.split()[0] for ln in out.stdout.splitlines() if ln}


def run_qemu(binary, *args, qmp=None):
    cmd = [binary, '-M', 'virt', '-cpu', 'max', '-display', 'none',
           '-nodefaults', '-S'] + list(args)
    if qmp is not None:
        cmd += ['-qmp', 'stdio']
    r = subprocess.run(cmd, input=qmp, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr.strip()


QUIT = '{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n'


def behaviour(name, binary, vfio):
    """What the stubs' QEMU does with the SMMU and iommufd options."""
    rc, out, err = run_qemu(binary, '-device',
                            'arm-smmuv3,primary-bus=pcie.0,id=smmu0',
                            qmp=QUIT)
    check(f'{name}-emulated-smmu', rc == 0 and '"return": {}' in out,
          f'arm-smmuv3 (emulated) realizes and QEMU quits: exit {rc}'
          + (f', {err}' if err else ''))
    rc, out, err = run_qemu(binary, '-device',
                            'arm-smmuv3,primary-bus=pcie.0,accel=on')
    check(f'{name}-accel-refused',
          rc == 1 and 'need a QEMU built with iommufd' in err and
          'build QEMU on a Linux host, or drop accel=on' in err,
          f'accel=on: exit {rc}, "{err}"')
    rc, out, err = run_qemu(binary, '-object', 'iommufd,id=ifd0')
    check(f'{name}-no-iommufd-object',
          rc == 1 and "invalid object type: iommufd" in err,
          f'-object iommufd: exit {rc}, "{err}"')
    rc, out, err = run_qemu(binary, '-object', 'iommufd-sim,id=sim0')
    check(f'{name}-no-iommufd-sim-object',
          rc == 1 and "invalid object type: iommufd-sim" in err,
          f'-object iommufd-sim: exit {rc}, "{err}"')
    rc, out, err = run_qemu(binary, '-device', 'vfio-pci,help')
    if vfio:
        props = re.findall(r'^\s+([a-z0-9-]+)=', out, re.M)
        check(f'{name}-vfio-pci-no-iommufd',
              rc == 0 and 'host' in props and 'iommufd' not in props,
              f'vfio-pci has {len(props)} properties, host= '
              f'{"present" if "host" in props else "missing"}, iommufd= '
              f'{"present" if "iommufd" in props else "absent"}')
    else:
        check(f'{name}-no-vfio-pci', "Device 'vfio-pci' not found" in err,
              f'-device vfio-pci,help: exit {rc}, "{err}"')


def main():
    if len(sys.argv) != 2:
        print(f'usage: {sys.argv[0]} BUILD_DIR (build-qemu.sh output)',
              file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    stmt = link_statement(build)
    if not check('link-command', stmt is not None and
                 stmt[0] == 'c_LINKER_RSP',
                 f'{TARGET} build statement in build.ninja'):
        return CHECKS.summary()
    _, inputs, variables = stmt
    with open(os.path.join(build, 'compile_commands.json')) as f:
        commands = json.load(f)
    for e in commands:
        e.setdefault('output', re.search(r' -o (\S+) ', e['command']).group(1))
    # The QEMU source tree, from the compile command of hw/arm/smmuv3.c.
    smmu_c = next(e for e in commands
                  if e['file'].endswith('/hw/arm/smmuv3.c'))
    qemu_src = os.path.realpath(os.path.join(
        smmu_c['directory'], smmu_c['file'][:-len('/hw/arm/smmuv3.c')]))

    dropped_iommufd = [o for o in inputs if IOMMUFD_ONLY.search('/' + o)]
    dropped_vfio = [o for o in inputs if VFIO_ONLY.search('/' + o)]
    check('iommufd-only-objects',
          any('smmuv3-accel' in o for o in dropped_iommufd) and
          any('backends_iommufd.c' in o for o in dropped_iommufd) and
          any('hw_vfio_iommufd.c' in o for o in dropped_iommufd),
          f'{len(dropped_iommufd)} of {len(inputs)} link inputs are built '
          'only with CONFIG_IOMMUFD')

    tmp = tempfile.mkdtemp(prefix='no-iommufd-', dir=build)
    try:
        return run_links(build, commands, qemu_src, inputs, variables,
                         dropped_iommufd, dropped_vfio, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_links(build, commands, qemu_src, inputs, variables,
              dropped_iommufd, dropped_vfio, tmp):
    def obj(name):
        return os.path.join(tmp, name)

    # The stubs, each with the flags of an object of its source set.
    stubs = {
        'smmu': ('libsystem_arm.a.p/hw_arm_smmuv3.c.o',
                 'hw/arm/smmuv3-accel-stubs.c', obj('smmuv3-accel-stubs.o')),
        'iommufd': ('libsystem.a.p/hw_vfio_cpr.c.o',
                    'hw/vfio/iommufd-stubs.c', obj('iommufd-stubs.o')),
        'vfio-migration': ('libsystem.a.p/migration_vfio.c.o',
                           'migration/vfio-stub.c', obj('vfio-stub.o')),
    }
    for key, (neighbour, source, out) in stubs.items():
        ok, msg = compile_like(build, commands, neighbour,
                               os.path.join(qemu_src, source), out)
        check(f'compile-{key}-stubs', ok, f'{source}: {msg}')

    # hw/vfio/pci.c against the device configuration without IOMMUFD.
    devices = os.path.join(build, 'aarch64-softmmu-config-devices.h')
    with open(devices) as f:
        lines = f.readlines()
    kept = [ln for ln in lines if not re.match(r'#define CONFIG_IOMMUFD\b',
                                               ln)]
    no_iommufd_h = obj('config-devices-no-iommufd.h')
    with open(no_iommufd_h, 'w') as f:
        f.writelines(kept)
    pci_neighbour = next(o for o in inputs if o.endswith('/hw_vfio_pci.c.o'))
    pci_obj = obj('hw_vfio_pci-no-iommufd.o')
    ok, msg = compile_like(
        build, commands, pci_neighbour,
        os.path.join(qemu_src, 'hw/vfio/pci.c'), pci_obj,
        edit=lambda c: c.replace('"aarch64-softmmu-config-devices.h"',
                                 f'"{no_iommufd_h}"'))
    check('compile-vfio-pci-no-iommufd', ok and len(kept) == len(lines) - 1,
          f'hw/vfio/pci.c without CONFIG_IOMMUFD ({len(lines) - len(kept)} '
          f'line dropped from the device configuration): {msg}')

    args = variables.get('ARGS', [])
    link_args = variables.get('LINK_ARGS', [])
    smmu_stub = stubs['smmu'][2]
    configs = {
        'no-iommufd': [o for o in inputs if o not in dropped_iommufd and
                       o != pci_neighbour] +
                      [pci_obj, smmu_stub, stubs['iommufd'][2]],
        'no-vfio': [o for o in inputs if o not in dropped_iommufd and
                    o not in dropped_vfio] +
                   [smmu_stub, stubs['iommufd'][2],
                    stubs['vfio-migration'][2]],
    }
    # The real build, for contrast: its vfio-pci has iommufd=.
    rc, out, err = run_qemu(os.path.join(build, TARGET), '-device',
                            'vfio-pci,help')
    props = re.findall(r'^\s+([a-z0-9-]+)=', out, re.M)
    check('iommufd-build-vfio-pci', rc == 0 and 'iommufd' in props,
          f'the build itself: vfio-pci has {len(props)} properties, iommufd= '
          f'{"present" if "iommufd" in props else "absent"}')
    for name, objs in configs.items():
        binary = obj(f'{TARGET}-{name}')
        rc, out, secs = link(build, args, objs, link_args, binary)
        undef = sorted(undefined_refs(out))
        if not check(f'{name}-link', rc == 0 and os.access(binary, os.X_OK),
                     f'{len(objs)} objects, linker exit {rc} in {secs:.1f} s'
                     + (f', undefined: {" ".join(undef[:20])}' if undef
                        else '')
                     + ('' if rc == 0 or undef else f': {out[-1500:]}')):
            continue
        behaviour(name, binary, vfio=name == 'no-iommufd')
        os.unlink(binary)

    # Without the SMMU stubs the link must fail on exactly their symbols.
    objs = [o for o in configs['no-iommufd'] if o != smmu_stub]
    binary = obj(f'{TARGET}-no-stubs')
    rc, out, secs = link(build, args, objs, link_args, binary)
    want = defined_globals(smmu_stub)
    got = undefined_refs(out)
    check('no-smmu-stubs-link-fails',
          rc != 0 and got == want and len(want) > 0,
          f'linker exit {rc}; undefined {len(got)}, the stubs define '
          f'{len(want)}' + ('' if got == want else
                            f'; only undefined: {sorted(got - want)}, only '
                            f'stubbed: {sorted(want - got)}'))
    return CHECKS.summary()


if __name__ == '__main__':
    sys.exit(main())
