#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make patches`: the overlay as a `git format-patch` series against QEMU
10.2.2 that upstream reviewers can read.

The series interleaves the edits to existing QEMU files
(patches/qemu-10.2.2/series) with commits of the overlay's new files, as
patches/qemu-10.2.2/overlay-commits lays them out: each group of new files,
with its own message, right before the patch that builds it. Every commit
is signed off by the person running this (git config user.name and
user.email: an error when unset), who is also its author.

  scripts/make-patches.py            the series in build/patches/
  scripts/make-patches.py --check    and build every commit of it
                                     (qemu-system-aarch64 and the qtests,
                                     one build tree, ccache), reporting
                                     each commit's result
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = '10.2.2'
PDIR = os.path.join(TOP, 'patches', f'qemu-{VERSION}')
BUILD = os.environ.get('SMMUV3_ACCEL_BUILD', os.path.join(TOP, 'build'))


def die(msg):
    print(f'[make-patches] error: {msg}', file=sys.stderr)
    sys.exit(1)


def log(msg):
    print(f'[make-patches] {msg}', file=sys.stderr, flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True,
                          stdout=subprocess.PIPE, **kw).stdout


def identity():
    try:
        name = sh('git', '-C', TOP, 'config', 'user.name').strip()
        email = sh('git', '-C', TOP, 'config', 'user.email').strip()
    except subprocess.CalledProcessError:
        name = email = ''
    if not name or not email:
        die('git config user.name and user.email must be set: they sign '
            'off every commit of the series (git config --global '
            'user.name "Your Name"; git config --global user.email you@...)')
    return name, email


def read_plan():
    """[(before, [files], subject, body)] from overlay-commits."""
    plan, cur, msg = [], None, None
    for line in open(os.path.join(PDIR, 'overlay-commits')):
        line = line.rstrip('\n')
        if msg is not None:
            if line == 'end':
                text = '\n'.join(msg).strip('\n')
                subject, _, body = text.partition('\n')
                plan.append((cur['before'], cur['files'], subject,
                             body.strip('\n')))
                cur = msg = None
            else:
                msg.append(line)
        elif line.startswith('#') or not line.strip():
            continue
        elif line.startswith('before '):
            cur = {'before': line.split()[1], 'files': []}
        elif line.startswith('files:') and cur is not None:
            cur['files'] = line.split()[1:]
            msg = []
        else:
            die(f'overlay-commits: cannot read {line!r}')
    overlay = sh(os.path.join(TOP, 'scripts', 'overlay-files.sh')).split()
    listed = [f for _, files, _, _ in plan for f in files]
    missing = sorted(set(overlay) - set(listed))
    extra = sorted(set(listed) - set(overlay))
    dup = sorted({f for f in listed if listed.count(f) > 1})
    if missing or extra or dup:
        die(f'overlay-commits does not match the overlay: not listed '
            f'{missing}, not overlay files {extra}, listed twice {dup}')
    return plan


def read_series():
    out = []
    for line in open(os.path.join(PDIR, 'series')):
        p = line.split('#')[0].strip()
        if p:
            out.append(p.split()[0])
    return out


def build_series(work, name, email):
    base = os.environ.get('QEMU_SRC') or sh(
        os.path.join(TOP, 'scripts', 'fetch-qemu.sh')).strip()
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work, symlinks=True)
    for junk in ('.git', '.unpacked'):
        p = os.path.join(work, junk)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.unlink(p)
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email)

    def git(*args):
        return subprocess.run(['git', '-C', work, '-c', f'user.name={name}',
                               '-c', f'user.email={email}', *args],
                              check=True, env=env, text=True,
                              stdout=subprocess.PIPE).stdout

    git('init', '-q', '-b', 'series')
    git('add', '-A')
    git('commit', '-q', '-m', f'QEMU {VERSION} (Debian 1:{VERSION}+ds-1)')
    git('tag', f'v{VERSION}')
    plan = read_plan()
    signoff = f'Signed-off-by: {name} <{email}>'
    for p in read_series():
        num = p[:4]
        for before, files, subject, body in plan:
            if before != num:
                continue
            for f in files:
                os.makedirs(os.path.dirname(os.path.join(work, f)),
                            exist_ok=True)
                shutil.copy(os.path.join(TOP, f), os.path.join(work, f))
                git('add', f)
            git('commit', '-q', '-m', f'{subject}\n\n{body}\n\n{signoff}')
        # The series' own patches: their messages, this author's sign-off.
        text = open(os.path.join(PDIR, p)).read()
        text = re.sub(r'^Signed-off-by: .*$', signoff, text, flags=re.M)
        text = re.sub(r'^From: .*$', f'From: {name} <{email}>', text,
                      count=1, flags=re.M)
        subprocess.run(['git', '-C', work, 'am', '-q', '--keep-cr'],
                       input=text, text=True, check=True, env=env)
    befores = {b for b, _, _, _ in plan}
    unknown = befores - {p[:4] for p in read_series()}
    if unknown:
        die(f'overlay-commits names patches not in the series: {unknown}')
    return git


def check_builds(work, git):
    """Build every commit of the series in one build tree."""
    commits = git('rev-list', '--reverse', f'v{VERSION}..HEAD').split()
    # The tree and its build sit side by side as qemu-src and qemu do in
    # build/, so that with their parent as ccache's base directory the
    # compiles hash as the main build's do.
    bdir = os.path.join(os.path.dirname(work), 'qemu')
    shutil.rmtree(bdir, ignore_errors=True)
    os.makedirs(bdir)
    env = dict(os.environ)
    if os.path.isdir('/usr/lib/ccache'):
        env['PATH'] = '/usr/lib/ccache:' + env['PATH']
    env['CCACHE_BASEDIR'] = os.path.dirname(work)
    env['CCACHE_NOHASHDIR'] = '1'
    conf = [os.path.join(work, 'configure'), '--target-list=aarch64-softmmu',
            '--disable-install-blobs', '--disable-download',
            '--python=/usr/bin/python3', '--disable-docs', '--disable-user',
            '--disable-tools', '--disable-guest-agent', '--enable-fdt=system']
    failed = 0
    for i, c in enumerate(commits, 1):
        git('checkout', '-q', c)
        subj = git('log', '-1', '--format=%s').strip()
        t0 = time.monotonic()
        if i == 1:
            r = subprocess.run(conf, cwd=bdir, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode:
                print(r.stdout[-3000:])
                die('configure failed')
        targets = ['qemu-system-aarch64']
        subprocess.run(['ninja', '-C', bdir, 'build.ninja'], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        known = subprocess.run(['ninja', '-C', bdir, '-t', 'targets', 'all'],
                               env=env, text=True, stdout=subprocess.PIPE).stdout
        targets += sorted(set(re.findall(
            r'^(tests/qtest/(?:smmuv3-accel|tegra241-cmdqv)-test):', known,
            re.M)))
        r = subprocess.run(['ninja', '-C', bdir] + targets, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok = r.returncode == 0
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {i:2}/{len(commits)} {subj} '
              f'({time.monotonic() - t0:.0f} s, {" ".join(targets)})',
              flush=True)
        if not ok:
            errs = [ln for ln in r.stdout.splitlines()
                    if 'error' in ln or 'FAILED' in ln or 'undefined' in ln]
            print('\n'.join(errs[:20]))
    git('checkout', '-q', 'series')
    print(f'{len(commits) - failed} passed, {failed} failed')
    return failed == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true',
                    help='build every commit of the series')
    opts = ap.parse_args()
    name, email = identity()
    work = os.path.join(BUILD, 'patches-check', 'qemu-src')
    out = os.path.join(BUILD, 'patches')
    git = build_series(work, name, email)
    shutil.rmtree(out, ignore_errors=True)
    git('format-patch', '-q', '-o', out, f'v{VERSION}')
    for f in sorted(os.listdir(out)):
        print(os.path.join(out, f))
    if opts.check and not check_builds(work, git):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
