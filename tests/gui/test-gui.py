#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# GUI test for the Hark app, as a person would use it, through the accessibility tree.
#
# Starts its own Xvfb, a private dbus-daemon whose activation files start the hark-daemon
# under test, the AT-SPI bus, then the app (G_DEBUG=fatal-criticals), and drives it with
# pyatspi. Prints TAP. Saves a PNG of each main view under --screenshots.
#
#   test-gui.py --daemon build/service/hark-daemon --app build/gui/hark \
#               --schemas build/data --screenshots build/tests/screenshots
#
# Every wait is bounded; every process it starts is killed at the end, whatever happens.

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

TIMEOUT_SCALE = float(os.environ.get('HARK_TEST_TIMEOUT_SCALE', '1'))


class Harness:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix='hark-gui-')
        self.env = dict(os.environ)
        self.logs = {}
        self.app_restarted = False

    # -- processes -------------------------------------------------------------------------

    def spawn(self, name, argv, **kwargs):
        log = open(os.path.join(self.tmp, name + '.log'), 'wb')
        self.logs[name] = log.name
        proc = subprocess.Popen(argv, env=self.env, stdout=kwargs.pop('stdout', log),
                                stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def stop(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for name, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if os.environ.get('HARK_TEST_KEEP_TMPDIR'):
            print('# kept', self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, name, lines=30):
        try:
            with open(self.logs[name], 'rb') as f:
                return f.read().decode(errors='replace').splitlines()[-lines:]
        except (KeyError, OSError):
            return []

    # -- environment -----------------------------------------------------------------------

    def start_x(self):
        # Xvfb picks a free display itself and says which (-displayfd). Two suites starting
        # servers at the same moment can still be told the same number, one of them then
        # failing on the lock: so the display is only taken once this server is alive and a
        # client connects to it, else a fresh server is started. The server only lets in
        # clients with this suite's cookie, so "a client connects" cannot be another suite's
        # server answering on that number (and going away when that suite ends).
        self._write_xauthority()
        for attempt in range(3):
            name = 'xvfb' if attempt == 0 else 'xvfb-%d' % attempt
            xvfb, number = self._spawn_xvfb(name)
            if number is not None and self._display_answers(xvfb, number):
                self.xvfb = xvfb
                self.env['DISPLAY'] = ':%d' % number
                self.env['GDK_BACKEND'] = 'x11'
                return
            print('# Xvfb attempt %d failed: %s' % (attempt + 1, ' / '.join(self.log_tail(name, 5))))
            if xvfb.poll() is None:
                xvfb.kill()
                xvfb.wait()
            time.sleep(0.5 + attempt)
        raise RuntimeError('Xvfb did not start: %s' % ' / '.join(self.log_tail(name, 10)))

    def _write_xauthority(self):
        """One MIT-MAGIC-COOKIE-1 for any display of this host (FamilyWild, no number),
        in the Xauthority format: a family, then four length-prefixed strings."""
        import struct

        def counted(b):
            return struct.pack('>H', len(b)) + b
        path = os.path.join(self.tmp, 'Xauthority')
        with open(path, 'wb') as f:
            f.write(struct.pack('>H', 0xFFFF) + counted(b'') + counted(b'') +
                    counted(b'MIT-MAGIC-COOKIE-1') + counted(os.urandom(16)))
        self.env['XAUTHORITY'] = path
        os.environ['XAUTHORITY'] = path  # for the checks below, which connect from here

    def display_alive(self):
        """The X server of start_x() is still there and takes clients."""
        xvfb = getattr(self, 'xvfb', None)
        if xvfb is None or xvfb.poll() is not None:
            return False
        return self._display_answers(xvfb, int(self.env['DISPLAY'].lstrip(':')))

    def _spawn_xvfb(self, name):
        r, w = os.pipe()
        try:
            xvfb = self.spawn(name, ['Xvfb', '-displayfd', str(w), '-auth', self.env['XAUTHORITY'],
                                     '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
                              pass_fds=(w,))
        finally:
            os.close(w)
        number = b''
        deadline = time.monotonic() + 15 * TIMEOUT_SCALE
        try:
            import select
            while not number.endswith(b'\n') and time.monotonic() < deadline:
                if xvfb.poll() is not None:
                    break
                if select.select([r], [], [], 0.2)[0]:
                    chunk = os.read(r, 16)
                    if not chunk:
                        break
                    number += chunk
        finally:
            os.close(r)
        return xvfb, int(number) if number.strip().isdigit() else None

    @staticmethod
    def _display_answers(xvfb, number):
        import ctypes
        x11 = ctypes.CDLL('libX11.so.6')
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        time.sleep(0.3)  # a server that lost the lock race exits right after saying its number
        if xvfb.poll() is not None:
            return False
        dpy = x11.XOpenDisplay((':%d' % number).encode())
        if not dpy:
            return False
        x11.XCloseDisplay(dpy)
        return xvfb.poll() is None

    def start_bus(self):
        services = os.path.join(self.tmp, 'services')
        os.makedirs(services)
        with open(os.path.join(services, 'io.github.hark.Hark.Daemon.service'), 'w') as f:
            f.write('[D-BUS Service]\nName=io.github.hark.Hark.Daemon\nExec=%s\n'
                    % os.path.abspath(self.args.daemon))
        config = os.path.join(self.tmp, 'session.conf')
        with open(config, 'w') as f:
            f.write('''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <servicedir>%s</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
''' % (self.tmp, services))
        for d in ('config', 'data', 'cache', 'runtime', 'home'):
            os.makedirs(os.path.join(self.tmp, d), mode=0o700)
        self.env.update({
            'HOME': os.path.join(self.tmp, 'home'),
            'XDG_CONFIG_HOME': os.path.join(self.tmp, 'config'),
            'XDG_DATA_HOME': os.path.join(self.tmp, 'data'),
            'XDG_CACHE_HOME': os.path.join(self.tmp, 'cache'),
            'XDG_RUNTIME_DIR': os.path.join(self.tmp, 'runtime'),
            'GSETTINGS_BACKEND': 'memory',
            'LC_ALL': 'C.UTF-8',
            'LANGUAGE': '',
            'NO_AT_BRIDGE': '0',
        })
        if self.args.schemas:
            self.env['GSETTINGS_SCHEMA_DIR'] = os.path.abspath(self.args.schemas)
        address_file = os.path.join(self.tmp, 'bus-address')
        with open(address_file, 'wb') as out:
            self.spawn('dbus-daemon', ['dbus-daemon', '--nofork', '--print-address=1',
                                       '--config-file=' + config], stdout=out)
        wait_for(lambda: os.path.getsize(address_file) > 0, 10, 'dbus-daemon')
        with open(address_file) as f:
            self.env['DBUS_SESSION_BUS_ADDRESS'] = f.read().strip()

    def start_atspi(self):
        self.spawn('at-spi', ['/usr/libexec/at-spi-bus-launcher', '--launch-immediately'])
        wait_for(lambda: subprocess.run(
            ['dbus-send', '--session', '--print-reply', '--dest=org.a11y.Bus', '/org/a11y/bus',
             'org.a11y.Bus.GetAddress'], env=self.env, capture_output=True).returncode == 0,
            10, 'AT-SPI bus')

    def start_app(self, name='hark', extra=()):
        env_app = dict(self.env)
        env_app['G_DEBUG'] = 'fatal-criticals'
        # In the sanitizer build: GTK and fontconfig keep caches for the life of
        # the process, which LeakSanitizer reports at exit. Leaks are checked in
        # the daemon and the C tests; the app is checked for memory errors only,
        # so it can keep the fast unwinder (full stacks on every malloc make a
        # GTK start-up take minutes).
        env_app['ASAN_OPTIONS'] = (env_app.get('ASAN_OPTIONS', '') +
                                   ':detect_leaks=0:fast_unwind_on_malloc=1').lstrip(':')
        saved, self.env = self.env, env_app
        try:
            self.app = self.spawn(name, [os.path.abspath(self.args.app)] + list(extra))
        finally:
            self.env = saved

    def restart_app_if_display_lost(self, extra=()):
        """Once per suite: the app exited because it could not open the display that
        start_x() had connected to (seen with many suites starting servers at once). Say
        what the X server did, and start the app again, on a fresh server if that one is
        gone. False when the app exited for any other reason, or already had its retry."""
        if self.app_restarted or not any('cannot open display' in l
                                         for l in self.log_tail('hark')):
            return False
        self.app_restarted = True
        print('# the app could not open %s; X server alive: %s; its log: %s' % (
            self.env['DISPLAY'], self.display_alive(), ' / '.join(self.log_tail('xvfb', 5))),
            file=sys.stderr, flush=True)
        if not self.display_alive():
            self.start_x()
            os.environ['DISPLAY'] = self.env['DISPLAY']
        self.start_app(extra=extra)
        return True


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout * TIMEOUT_SCALE
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as e:  # the tree changes under our feet; try again
            last_error = e
        time.sleep(0.2)
    raise TimeoutError('timed out waiting for %s%s' % (what, ': %r' % last_error if last_error else ''))


# -- AT-SPI helpers ----------------------------------------------------------------------------

def walk(node, depth=0, max_depth=40):
    if node is None or depth > max_depth:
        return
    yield node
    try:
        count = node.childCount
    except Exception:
        return
    for i in range(count):
        try:
            child = node.getChildAtIndex(i)
        except Exception:
            continue
        yield from walk(child, depth + 1, max_depth)


def showing(node):
    """GTK 4.8 sets no SHOWING state: a node shows when it and its ancestors are VISIBLE."""
    import pyatspi
    try:
        depth = 0
        while node is not None and depth < 80:
            if node.getRoleName() == 'application':
                return True
            if not node.getState().contains(pyatspi.STATE_VISIBLE):
                return False
            node = node.parent
            depth += 1
    except Exception:
        return False
    return True


def find(root, role=None, name=None, name_re=None, visible=True):
    for node in walk(root):
        try:
            if role is not None and node.getRoleName() != role:
                continue
            if name is not None and node.name != name:
                continue
            if name_re is not None and not re.search(name_re, node.name or ''):
                continue
        except Exception:
            continue
        if visible and not showing(node):
            continue
        return node
    return None


def find_all(root, role=None, visible=True):
    out = []
    for node in walk(root):
        try:
            if role is not None and node.getRoleName() != role:
                continue
        except Exception:
            continue
        if visible and not showing(node):
            continue
        out.append(node)
    return out


def dump(root):
    for node in walk(root):
        try:
            depth = 0
            p = node
            while p is not None and p != root and depth < 60:
                p = p.parent
                depth += 1
            print('# %s%s %r%s' % ('  ' * depth, node.getRoleName(), node.name,
                                    '' if showing(node) else ' (hidden)'))
        except Exception:
            pass


def click(node):
    """Does a node's click action. A busy app (a sanitizer build on a loaded machine) may
    answer the AT-SPI call after its timeout although the click happened: that is no
    failure here, as every click is followed by a wait for what it should have done."""
    action = node.queryAction()
    index = 0
    for i in range(action.nActions):
        if action.getName(i) in ('click', 'press', 'activate', 'toggle'):
            index = i
            break
    try:
        return action.doAction(index)
    except Exception as e:
        if 'Did not receive a reply' not in str(e):
            raise
        print('# (the click on %r got no AT-SPI reply in time; going on)' % node.name, flush=True)
        return True


def key(keysym):
    import pyatspi
    pyatspi.Registry.generateKeyboardEvent(keysym, None, pyatspi.KEY_SYM)
    time.sleep(0.01)


def type_into(node, text, clear=False):
    """Click into an entry and type, through the AT-SPI registry (XTest on Xvfb).

    GTK 4.8 offers neither EditableText nor Component.GrabFocus on its entries, and only
    window coordinates; with no window manager every window sits at 0,0, so these are
    screen coordinates too."""
    import pyatspi
    ext = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    pyatspi.Registry.generateMouseEvent(ext.x + ext.width // 2, ext.y + ext.height // 2, 'b1c')
    time.sleep(0.3)
    if clear:
        key(0xff57)  # End
        for _ in range(len(text_of(node))):
            key(0xff08)  # BackSpace
    for ch in text:
        pyatspi.Registry.generateKeyboardEvent(0, ch, pyatspi.KEY_STRING)
        time.sleep(0.01)
    wait_for(lambda: text in text_of(node), 5, 'text %r typed' % text)


def text_of(node):
    try:
        t = node.queryText()
        return t.getText(0, t.characterCount)
    except Exception:
        return node.name or ''


# -- screenshots -------------------------------------------------------------------------------

def window_ids(env, title):
    out = subprocess.run(['xwininfo', '-root', '-tree'], env=env, capture_output=True, text=True,
                         timeout=10).stdout
    ids = []
    for line in out.splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) "([^"]*)": .* (\d+)x(\d+)\+', line)
        if m and m.group(2) == title and int(m.group(3)) > 10:
            ids.append(m.group(1))
    return ids


def screenshot(env, title, path):
    ids = window_ids(env, title)
    if not ids:
        raise RuntimeError('no X window titled %r' % title)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(['import', '-window', ids[-1], path], env=env, check=True, timeout=30,
                   capture_output=True)
    return path


# -- the test ----------------------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def run(self, name, fn, *args):
        self.n += 1
        started = time.monotonic()
        try:
            result = fn(*args)
        except Skip as s:
            print('ok %d - %s # SKIP %s' % (self.n, name, s), flush=True)
            return None
        except Exception as e:
            self.failed += 1
            print('not ok %d - %s' % (self.n, name), flush=True)
            # Also on stderr: meson prints a failed test's stderr, not its TAP, so this is
            # what a CI log shows of why.
            print('not ok %d - %s' % (self.n, name), file=sys.stderr)
            for line in traceback.format_exc().splitlines():
                print('# ' + line)
                print('# ' + line, file=sys.stderr, flush=True)
            return None
        print('ok %d - %s' % (self.n, name), flush=True)
        print('# %.1f s' % (time.monotonic() - started), flush=True)
        return result if result is not None else True


class Skip(Exception):
    pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--daemon', required=True)
    parser.add_argument('--app', required=True)
    parser.add_argument('--schemas')
    parser.add_argument('--screenshots', required=True)
    args = parser.parse_args()

    missing = [t for t in ('Xvfb', 'dbus-daemon', 'xwininfo', 'import')
               if shutil.which(t) is None]
    if not os.path.exists('/usr/libexec/at-spi-bus-launcher'):
        missing.append('at-spi-bus-launcher')
    try:
        import gi  # noqa: F401
        gi.require_version('Atspi', '2.0')
    except (ImportError, ValueError):
        missing.append('python3-gi with Atspi')
    if missing:
        print('1..0 # SKIP missing: %s' % ', '.join(missing))
        return 0

    h = Harness(args)
    tap = Tap()
    print('1..8', flush=True)
    try:
        h.start_x()
        h.start_bus()
        h.start_atspi()
        os.environ.update({k: h.env[k] for k in ('DISPLAY', 'DBUS_SESSION_BUS_ADDRESS')})
        import pyatspi  # noqa: F401  (needs the bus in the environment first)
        h.start_app()
        state = {}
        shots = args.screenshots

        def app_appears():
            import pyatspi
            desktop = pyatspi.Registry.getDesktop(0)

            def found():
                if h.app.poll() is not None:
                    if h.restart_app_if_display_lost():
                        return None
                    raise RuntimeError('hark exited with %d: %s' % (h.app.returncode,
                                                                    h.log_tail('hark')))
                for i in range(desktop.childCount):
                    a = desktop.getChildAtIndex(i)
                    if a is not None and a.name in ('hark', 'Hark', 'io.github.hark.Hark'):
                        return a
                return None
            state['app'] = wait_for(found, 30, 'the app on the accessibility bus')
            # D-Bus activation started the daemon; the main view replaces "Connecting…".
            try:
                state['calls_tab'] = wait_for(
                    lambda: find(state['app'], name='Calls', role='page tab'), 30,
                    'the Calls view switcher (daemon activated)')
            except TimeoutError:
                dump(state['app'])
                screenshot(h.env, 'Hark', os.path.join(shots, 'failed-start.png'))
                raise

        def profiles_list_local():
            click(wait_for(lambda: find(state['app'], name='Profiles', role='page tab'),
                           10, 'Profiles switcher'))
            wait_for(lambda: find(state['app'], name='local'), 15, 'the local profile row')
            time.sleep(0.5)
            screenshot(h.env, 'Hark', os.path.join(shots, 'profiles.png'))

        def add_profile_bad_field():
            click(wait_for(lambda: find(state['app'], name='Add', role='push button'),
                           10, 'Add Profile button'))
            editor = wait_for(lambda: find(state['app'], name='New Profile', role='filler') or
                              find(state['app'], name='New Profile', role='frame'),
                              10, 'the New Profile window')
            state['editor'] = editor
            entries = wait_for(lambda: find_all(editor, role='text'), 10, 'entries')
            by_name = {}
            for e in entries:
                by_name[e.name] = e
            state['entries'] = by_name
            print('# entries: %r' % sorted(by_name))
            type_into(by_name['Name'], 'Work')
            type_into(by_name['SIP Addresses'], 'sip:alice@192.0.2.1')
            type_into(by_name['Registrar'], 'http://x')
            click(find(editor, name_re='Save', role='push button'))
            err = wait_for(lambda: find(editor, role='label', name_re='“http://x” is not a SIP URI'),
                           15, 'the registrar error under its field')
            print('# error shown: %s' % err.name)
            time.sleep(0.5)
            screenshot(h.env, 'New Profile', os.path.join(shots, 'profile-editor-error.png'))

        def fix_and_save():
            editor = state['editor']
            reg = state['entries']['Registrar']
            type_into(reg, 'sip:192.0.2.1', clear=True)
            click(find(editor, name_re='Save', role='push button'))
            try:
                wait_for(lambda: find(state['app'], name='Work', role='label'), 15,
                         'the new profile in the list')
            except TimeoutError:
                screenshot(h.env, 'New Profile', os.path.join(shots, 'failed-save.png'))
                raise
            time.sleep(0.5)
            screenshot(h.env, 'Hark', os.path.join(shots, 'profiles-added.png'))

        def open_dialer():
            click(state['calls_tab'])
            wait_for(lambda: find(state['app'], name='Call', role='push button'), 10,
                     'the Call button')
            time.sleep(0.5)
            screenshot(h.env, 'Hark', os.path.join(shots, 'dialer.png'))

        def subscriptions_view():
            click(wait_for(lambda: find(state['app'], name='Subscriptions', role='page tab'),
                           10, 'Subscriptions switcher'))
            wait_for(lambda: find(state['app'], name='You are not watching anyone.'), 10,
                     'the presence watch list')
            time.sleep(0.5)
            screenshot(h.env, 'Hark', os.path.join(shots, 'subscriptions.png'))

        def no_criticals():
            if h.app.poll() is not None:
                raise RuntimeError('hark exited with %d' % h.app.returncode)
            bad = [l for l in h.log_tail('hark', 200) if 'CRITICAL' in l or 'WARNING' in l]
            if bad:
                raise RuntimeError('\n'.join(bad))

        ok = tap.run('app starts and activates the daemon', app_appears)
        steps = [
            ('profiles page lists the local profile', profiles_list_local),
            ('add profile: bad registrar shows the daemon error on the field', add_profile_bad_field),
            ('add profile: fixed registrar saves and the profile appears', fix_and_save),
            ('dialer opens', open_dialer),
            ('subscriptions view', subscriptions_view),
            ('no criticals or warnings from the app', no_criticals),
        ]
        for name, fn in steps:
            if ok:
                tap.run(name, fn)
            else:
                tap.n += 1
                print('ok %d - %s # SKIP the app did not start' % (tap.n, name))
        tap.run('screenshots saved', lambda: [p for p in ('profiles', 'dialer', 'subscriptions')
                                               if os.path.exists(os.path.join(shots, p + '.png'))]
                or (_ for _ in ()).throw(RuntimeError('no screenshots')))
    except Exception:
        for line in traceback.format_exc().splitlines():
            print('# ' + line)
        tap.failed += 1
        print('not ok %d - harness' % (tap.n + 1))
    finally:
        for name in ('hark',):
            for line in h.log_tail(name, 20):
                print('# %s: %s' % (name, line))
        h.stop()
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
