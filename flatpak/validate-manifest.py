#!/usr/bin/env python3
# Checks the Flatpak manifest without flatpak-builder or a network: that it is plain
# JSON (flatpak-builder accepts comments, we do not), that it builds the app we ship
# with the permissions it needs and no more, and that every source is pinned.
#
# Usage: validate-manifest.py [MANIFEST]   (default: io.github.hark.Hark.json beside it)

import json
import os
import re
import sys

APP_ID = 'io.github.hark.Hark'
MIN_RUNTIME = 47

REQUIRED_FINISH_ARGS = {
    '--share=network',        # SIP and RTP
    '--share=ipc',            # X11 shared memory
    '--socket=wayland',
    '--socket=fallback-x11',
    '--socket=pulseaudio',    # microphone and speaker
    '--device=dri',
    '--talk-name=org.freedesktop.secrets',  # account passwords
}

# Holes in the sandbox a softphone has no business opening.
FORBIDDEN_FINISH_ARGS = re.compile(
    r'^(--filesystem=(host|home|/)|--socket=(x11|session-bus|system-bus)$'
    r'|--talk-name=org\.freedesktop\.Flatpak$|--device=all$)')

SHA256 = re.compile(r'^[0-9a-f]{64}$')
GIT_COMMIT = re.compile(r'^[0-9a-f]{40}$')

errors = []


def error(msg):
    errors.append(msg)


def check_source(module, i, source, manifest_dir):
    where = f'module {module!r}, source {i}'
    if not isinstance(source, dict):
        error(f'{where}: a source must be an object (external source files are not allowed)')
        return
    kind = source.get('type')
    if kind in ('archive', 'file'):
        url = source.get('url', '')
        if not url.startswith('https://'):
            error(f'{where}: {kind} source needs an https url, got {url!r}')
        if not SHA256.match(source.get('sha256', '')):
            error(f'{where}: {kind} source needs a sha256 of 64 lower-case hex digits')
    elif kind == 'git':
        if not source.get('url', '').startswith('https://'):
            error(f'{where}: git source needs an https url')
        if not GIT_COMMIT.match(source.get('commit', '')):
            error(f'{where}: git source must pin a full 40-digit commit')
    elif kind in ('dir', 'patch'):
        path = source.get('path')
        if not path or not os.path.exists(os.path.join(manifest_dir, path)):
            error(f'{where}: {kind} source path {path!r} does not exist')
    elif kind == 'shell':
        if not source.get('commands'):
            error(f'{where}: shell source without commands')
    else:
        error(f'{where}: unknown or unpinnable source type {kind!r}')


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, APP_ID + '.json')
    manifest_dir = os.path.dirname(os.path.abspath(path))

    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f'{path}: not valid JSON: {e}', file=sys.stderr)
        return 1

    ids = [manifest[k] for k in ('id', 'app-id') if k in manifest]
    if ids != [APP_ID]:
        error(f'need exactly one of "id"/"app-id" and it must be {APP_ID!r}, got {ids!r}')
    if manifest.get('runtime') != 'org.gnome.Platform':
        error(f'runtime must be org.gnome.Platform, got {manifest.get("runtime")!r}')
    if manifest.get('sdk') != 'org.gnome.Sdk':
        error(f'sdk must be org.gnome.Sdk, got {manifest.get("sdk")!r}')
    version = str(manifest.get('runtime-version', ''))
    if not (version.isdigit() and int(version) >= MIN_RUNTIME):
        error(f'runtime-version must be a GNOME release >= {MIN_RUNTIME}, got {version!r}')
    if manifest.get('command') != 'hark':
        error(f'command must be hark, got {manifest.get("command")!r}')

    finish_args = manifest.get('finish-args', [])
    for arg in sorted(REQUIRED_FINISH_ARGS - set(finish_args)):
        error(f'finish-args lacks {arg}')
    for arg in finish_args:
        if FORBIDDEN_FINISH_ARGS.match(arg):
            error(f'finish-args must not contain {arg}')
        # The daemon's name is under the app ID, which Flatpak lets the app own anyway.
        if arg.startswith('--own-name=') and not arg[len('--own-name='):].startswith(APP_ID):
            error(f'finish-args owns a name outside the app ID: {arg}')

    modules = manifest.get('modules', [])
    if not modules or not all(isinstance(m, dict) for m in modules):
        error('modules must be a non-empty list of objects (no external module files)')
        modules = [m for m in modules if isinstance(m, dict)]
    names = [m.get('name') for m in modules]
    if 'sofia-sip' not in names:
        error('no sofia-sip module')
    elif names[0] != 'sofia-sip':
        error(f'sofia-sip must be the first module, modules are {names}')
    if not names or names[-1] != 'hark':
        error(f'hark must be the last module, modules are {names}')

    for m in modules:
        sources = m.get('sources', [])
        if not sources:
            error(f'module {m.get("name")!r} has no sources')
        for i, source in enumerate(sources):
            check_source(m.get('name'), i, source, manifest_dir)

    hark = modules[-1] if modules and modules[-1].get('name') == 'hark' else None
    if hark is not None:
        if hark.get('buildsystem') != 'meson':
            error('hark module must use the meson buildsystem')
        if '-Dtests=false' not in hark.get('config-opts', []):
            error('hark module must configure with -Dtests=false')
        dirs = [s for s in hark.get('sources', []) if isinstance(s, dict) and s.get('type') == 'dir']
        top = os.path.join(manifest_dir, dirs[0]['path'], 'meson.build') if dirs else None
        if top is None or not os.path.isfile(top):
            error('hark module must build from a dir source at the top of the tree')
        else:
            with open(top, encoding='utf-8') as f:
                if not re.match(r"\s*project\(\s*'hark'", f.read()):
                    error(f'{top} is not the hark project')

    for e in errors:
        print(f'{path}: {e}', file=sys.stderr)
    if errors:
        return 1
    print(f'{path}: OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
