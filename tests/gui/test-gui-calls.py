#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# GUI test for the Hark app with real calls: SIPp calls the daemon's built-in "local" profile
# and a person answers, declines, holds and hangs up through the accessibility tree.
#
# Same environment as test-gui.py (whose harness it imports): its own Xvfb, a private
# dbus-daemon that activates the hark-daemon under test, the AT-SPI bus, the app with
# G_DEBUG=fatal-criticals and the ringtone played into a fakesink (HARK_RINGTONE_SINK); the
# daemon's calls capture a silent audiotestsrc and play into a fakesink, so no sound device is
# needed. The app keeps its settings in a keyfile (GSETTINGS_BACKEND=keyfile, in the test's
# XDG_CONFIG_HOME) and is restarted once, to see its window size and recent calls come back.
# A minimal notification server (notification-server.py) stands in for the desktop's: the
# test reads what the app notified and "clicks" a notification's Accept. Prints TAP; saves
# PNGs under --screenshots (incoming-call, active-call, call-waiting, narrow, recent-calls,
# call-details, subscriptions-request, ...).
#
#   test-gui-calls.py --daemon build/service/hark-daemon --app build/gui/hark \
#                     --schemas build/data --sipp-dir tests/sipp --screenshots build/tests/screenshots
#
# Every wait is bounded; every process it starts (SIPp too) is killed at the end.
# HARK_TEST_APP_WRAPPER="gdb -q -batch -ex run -ex bt --args" runs the app under gdb.

import argparse
import ctypes
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location('hark_gui_harness', os.path.join(HERE, 'test-gui.py'))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

wait_for = harness.wait_for
find = harness.find
find_all = harness.find_all
click = harness.click
dump = harness.dump
screenshot = harness.screenshot
type_into = harness.type_into
text_of = harness.text_of
Skip = harness.Skip
TIMEOUT_SCALE = harness.TIMEOUT_SCALE

DAEMON = 'io.github.hark.Hark.Daemon'
ROOT = '/io/github/hark/Hark'


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def x_resize(display, window_id, width, height):
    """No window manager under Xvfb: any client may resize a toplevel, as a person would."""
    x11 = ctypes.CDLL('libX11.so.6')
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XResizeWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_uint, ctypes.c_uint]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        raise RuntimeError('cannot open display %s' % display)
    try:
        x11.XResizeWindow(dpy, int(window_id, 16), width, height)
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)


def window_size(env, title):
    out = subprocess.run(['xwininfo', '-root', '-tree'], env=env, capture_output=True, text=True,
                         timeout=10).stdout
    import re
    for line in out.splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) "([^"]*)": .* (\d+)x(\d+)\+', line)
        if m and m.group(2) == title and int(m.group(3)) > 10:
            return m.group(1), int(m.group(3)), int(m.group(4))
    return None


def click_and_settle(node):
    """Clicks, then lets GTK finish building or tearing down what the click changed.

    GTK 4.8 answers AT-SPI queries about a widget whose accessible context is not (or no
    longer) realized with a critical (g_variant_is_object_path on a NULL path), which
    G_DEBUG=fatal-criticals turns into a crash: walking the tree while a dialog or a row
    comes or goes is a race a person cannot lose, but this test can."""
    result = click(node)
    time.sleep(1.0 * TIMEOUT_SCALE)
    return result


def find_clickable(root, name):
    """A GtkMenuButton is a button (no actions) around a toggle button (the one to click)."""
    for node in harness.walk(root):
        try:
            if node.name != name or node.getRoleName() not in ('push button', 'toggle button'):
                continue
            if node.queryAction().nActions > 0 and harness.showing(node):
                return node
        except Exception:
            continue
    return None


def screenshot_with_popups(env, title, path):
    """Popovers are windows of their own: shoot the screen where the window is, instead."""
    wid, width, height = wait_for(lambda: window_size(env, title), 5, 'window %r' % title)
    out = subprocess.run(['xwininfo', '-id', wid], env=env, capture_output=True, text=True,
                         timeout=10).stdout
    import re
    x = int(re.search(r'Absolute upper-left X:\s+(-?\d+)', out).group(1))
    y = int(re.search(r'Absolute upper-left Y:\s+(-?\d+)', out).group(1))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(['import', '-window', 'root', '-crop', '%dx%d+%d+%d' % (width, height, x, y),
                    '+repage', path], env=env, check=True, timeout=30, capture_output=True)
    return path


class Daemon:
    """Reads the daemon's objects, as a gdbus script would: to find the local profile's
    port and to check that what the window says is what the daemon says."""

    def __init__(self, address):
        from gi.repository import Gio
        self.conn = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

    def objects(self):
        from gi.repository import GLib
        reply = self.conn.call_sync(DAEMON, ROOT, 'org.freedesktop.DBus.ObjectManager',
                                    'GetManagedObjects', None,
                                    GLib.VariantType('(a{oa{sa{sv}}})'), 0, 5000, None)
        return reply.unpack()[0]

    def local_port(self):
        for path, ifaces in self.objects().items():
            p = ifaces.get('io.github.hark.Hark.Profile1')
            if p and p.get('Name') == 'local' and p.get('Contact'):
                return int(p['Contact'].rsplit(':', 1)[1].split(';')[0])
        return None

    def calls(self):
        return {path: ifaces['io.github.hark.Hark.Call1']
                for path, ifaces in self.objects().items()
                if 'io.github.hark.Hark.Call1' in ifaces}

    def call_states(self):
        return sorted((c.get('RemoteUri', ''), c.get('State', ''))
                      for c in self.calls().values())


class Sipp:
    def __init__(self, h, sipp_dir, scenario, target_port=None, port=None, extra=()):
        self.h = h
        self.scenario = scenario
        self.port = port or free_udp_port()
        self.messages = os.path.join(h.tmp, '%s-%d.messages' % (scenario, self.port))
        argv = ['sipp', '-sf', os.path.join(sipp_dir, scenario), '-i', '127.0.0.1',
                '-p', str(self.port), '-m', '1', '-timeout', str(int(90 * TIMEOUT_SCALE)),
                '-timeout_error', '-nostdin', '-trace_msg', '-message_file', self.messages]
        if target_port:
            argv += ['-s', 'hark', '127.0.0.1:%d' % target_port]
        argv += list(extra)
        self.name = 'sipp-%s-%d' % (scenario, self.port)
        self.proc = h.spawn(self.name, argv)
        if not target_port:
            time.sleep(0.3)  # SIPp binds its port at start; let it before Hark calls

    def wait_passed(self, timeout=30):
        try:
            self.proc.wait(timeout * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            raise RuntimeError('SIPp %s still running after %ds' % (self.scenario, timeout))
        if self.proc.returncode != 0:
            raise RuntimeError('SIPp %s failed (exit %d):\n%s\n%s' % (
                self.scenario, self.proc.returncode, '\n'.join(self.h.log_tail(self.name, 20)),
                self.message_tail()))

    def message_tail(self, n=60):
        try:
            with open(self.messages, errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return '(no messages)'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--daemon', required=True)
    parser.add_argument('--app', required=True)
    parser.add_argument('--schemas')
    parser.add_argument('--sipp-dir', default=os.path.join(HERE, '..', 'sipp'))
    parser.add_argument('--screenshots', required=True)
    args = parser.parse_args()

    missing = [t for t in ('Xvfb', 'dbus-daemon', 'xwininfo', 'import', 'sipp')
               if shutil.which(t) is None]
    if not os.path.exists('/usr/libexec/at-spi-bus-launcher'):
        missing.append('at-spi-bus-launcher')
    try:
        import gi
        gi.require_version('Atspi', '2.0')
        gi.require_version('Gio', '2.0')
    except (ImportError, ValueError):
        missing.append('python3-gi with Atspi')
    if missing:
        print('1..0 # SKIP missing: %s' % ', '.join(missing))
        return 0

    h = harness.Harness(args)
    tap = harness.Tap()
    shots = args.screenshots
    state = {}
    steps = []

    def step(name):
        def register(fn):
            steps.append((name, fn))
            return fn
        return register

    def app():
        return state['app']

    def ringer_log():
        return [l for l in h.log_tail('hark', 2000) if 'Ringtone playing' in l or
                'Ringtone stopped' in l]

    def wait_ringtone(what, timeout=10):
        """The last ringtone line in the app's log says 'playing' or 'stopped'."""
        def last():
            lines = ringer_log()
            return lines and ('Ringtone ' + what) in lines[-1]
        wait_for(last, timeout, 'the ringtone %s' % what)

    def toplevel(title, timeout=20):
        """A window of the app, looked up among its top levels only (no deep walk while it is
        being built), then given a moment to settle; see click_and_settle()."""
        def found():
            a = app()
            for i in range(a.childCount):
                w = a.getChildAtIndex(i)
                if w is not None and w.name == title and harness.showing(w):
                    return w
            return None
        try:
            w = wait_for(found, timeout, 'the %r window' % title)
        except TimeoutError:
            dump(app())
            raise
        time.sleep(1.0 * TIMEOUT_SCALE)
        return w

    def toplevel_gone(title, timeout=10):
        def gone():
            a = app()
            return not any(a.getChildAtIndex(i) is not None and
                           a.getChildAtIndex(i).name == title for i in range(a.childCount))
        wait_for(gone, timeout, 'the %r window to close' % title)

    def incoming_dialog():
        return toplevel('Incoming Call')

    def call_row_label(pattern, timeout=15):
        return wait_for(lambda: find(app(), role='label', name_re=pattern), timeout,
                        'a call row saying %r' % pattern)

    def no_row_label(pattern, timeout=15):
        wait_for(lambda: find(app(), role='label', name_re=pattern) is None, timeout,
                 'no call row saying %r' % pattern)

    # -- the steps ---------------------------------------------------------------------------

    @step('app starts and activates the daemon')
    def app_starts():
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
        state['calls_tab'] = wait_for(lambda: find(app(), name='Calls', role='page tab'), 30,
                                      'the Calls view (daemon activated)')
        state['daemon'] = Daemon(h.env['DBUS_SESSION_BUS_ADDRESS'])
        state['port'] = wait_for(state['daemon'].local_port, 15, 'the local profile’s port')
        print('# local profile listens on 127.0.0.1:%d' % state['port'])

    @step('incoming call: the dialog shows the caller and it rings')
    def incoming_shows_caller():
        state['sipp'] = Sipp(h, args.sipp_dir, 'gui-uac-call.xml', state['port'])
        dialog = incoming_dialog()
        state['dialog'] = dialog
        wait_for(lambda: find(dialog, role='label', name_re='SIPp Caller'), 10, 'caller name')
        wait_for(lambda: find(dialog, role='label', name_re=r'sip:sipp@127\.0\.0\.1'), 10,
                 'caller URI')
        wait_for(lambda: find(dialog, role='label', name_re='local'), 10, 'the profile')
        wait_ringtone('playing')
        time.sleep(0.5)
        screenshot(h.env, 'Incoming Call', os.path.join(shots, 'incoming-call.png'))

    @step('incoming call: Accept makes the call active; SIPp gets 200, ACKs and hangs up')
    def accept_call():
        click_and_settle(wait_for(lambda: find(state['dialog'], role='push button', name='Accept'), 5,
                       'the Accept button'))
        call_row_label('^Active')
        wait_ringtone('stopped')
        if not any(s == 'active' for _, s in state['daemon'].call_states()):
            raise RuntimeError('the daemon has no active call: %r' % state['daemon'].call_states())
        # The timer has ticked and the codec is known (SIPp talks for 6 s).
        label = call_row_label(r'^Active · 00:0[1-9]', 5)
        print('# call row: %s' % label.name)
        screenshot(h.env, 'Hark', os.path.join(shots, 'active-call.png'))
        state['sipp'].wait_passed(30)
        no_row_label('^Active', 15)  # the row says "Ended" for a few seconds, then goes

    @step('second incoming call: Decline sends 603 and the ringing stops')
    def decline_call():
        no_row_label('^Ended', 20)  # the ended call has left the bus
        sipp = Sipp(h, args.sipp_dir, 'uac-reject.xml', state['port'])
        dialog = incoming_dialog()
        wait_ringtone('playing')
        click_and_settle(wait_for(lambda: find(dialog, role='push button', name='Decline'), 5,
                       'the Decline button'))
        sipp.wait_passed(30)
        wait_ringtone('stopped')

    @step('call waiting: "Hold and Accept" holds the first call and answers the second')
    def hold_and_accept():
        no_row_label('^Ended', 20)
        first = Sipp(h, args.sipp_dir, 'uac-held.xml', state['port'])
        dialog = incoming_dialog()
        click_and_settle(wait_for(lambda: find(dialog, role='push button', name='Accept'), 5, 'Accept'))
        call_row_label('^Active')
        time.sleep(0.5)  # Hold needs the ACK of our 200 first
        second = Sipp(h, args.sipp_dir, 'gui-uac-call.xml', state['port'])
        dialog = incoming_dialog()
        button = wait_for(lambda: find(dialog, role='push button', name='Hold and Accept'), 5,
                          'the Hold and Accept button')
        time.sleep(0.5)
        screenshot(h.env, 'Incoming Call', os.path.join(shots, 'call-waiting.png'))
        click_and_settle(button)
        call_row_label('^On hold')
        call_row_label('^Active')
        states = [s for _, s in state['daemon'].call_states()]
        if sorted(states) != ['active', 'held']:
            raise RuntimeError('daemon call states: %r' % states)
        time.sleep(0.5)
        screenshot(h.env, 'Hark', os.path.join(shots, 'held-and-active.png'))
        second.wait_passed(30)
        # The held caller is hung up through its row.
        no_row_label('^Ended', 20)
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Hang Up'), 10, 'Hang Up'))
        first.wait_passed(30)

    @step('dial from the dialer; keypad, transfer dialog; Hang Up sends BYE')
    def dial_and_hang_up():
        no_row_label('^Ended', 20)
        sipp = Sipp(h, args.sipp_dir, 'gui-uas-answer.xml')
        entry = wait_for(lambda: find(app(), role='text', name='Number or SIP Address'), 10,
                         'the dialer entry')
        state['bob_port'] = sipp.port
        type_into(entry, 'sip:bob@127.0.0.1:%d' % sipp.port)
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Call'), 5, 'Call'))
        call_row_label('^Active', 20)

        # DTMF: a person presses 1 on the in-call keypad. Without media support the daemon
        # says NotSupported, which the window must show rather than swallow.
        keypad = wait_for(lambda: find_clickable(app(), 'Keypad'), 5, 'the Keypad button')
        click(keypad)
        # The narrow window keeps every control of a call in reach.
        wid, width, height = wait_for(lambda: window_size(h.env, 'Hark'), 5, 'the window')
        x_resize(h.env['DISPLAY'], wid, 360, 640)
        wait_for(lambda: window_size(h.env, 'Hark')[1] == 360, 5, 'the window at 360 px')
        time.sleep(1.0)
        # The popover's keys, not the dialer's: they live under the menu button.
        try:
            one = wait_for(lambda: find(keypad.parent, role='push button', name='1'), 5,
                           'the in-call keypad’s 1')
        except TimeoutError:
            dump(keypad.parent.parent)
            raise
        time.sleep(0.3)
        click(one)
        wait_for(lambda: find(keypad.parent, role='label', name='1'), 5, 'the digit sent')
        time.sleep(1.0)
        toast = find(app(), role='label', name_re='^Could not send the tone')
        print('# DTMF: %s' % (toast.name if toast else 'sent, no error'))
        screenshot_with_popups(h.env, 'Hark', os.path.join(shots, 'in-call-keypad.png'))
        harness.key(0xff1b)  # Escape closes the popover
        time.sleep(0.3)

        # Blind transfer: the dialog asks whom to; cancelled here, the SIPp peer does no REFER.
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Transfer'), 5, 'Transfer'))
        tdialog = toplevel('Transfer Call')
        wait_for(lambda: find(tdialog, role='text', name='Transfer To'), 5, 'the transfer entry')
        time.sleep(0.3)
        screenshot(h.env, 'Transfer Call', os.path.join(shots, 'transfer.png'))
        click_and_settle(wait_for(lambda: find(tdialog, role='push button', name='Cancel'), 5, 'Cancel'))
        toplevel_gone('Transfer Call')

        screenshot(h.env, 'Hark', os.path.join(shots, 'narrow-active-call.png'))

        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Hang Up'), 5, 'Hang Up'))
        sipp.wait_passed(30)
        # The row says "Ended" for a few seconds and then goes; under a sanitizer SIPp's exit
        # can take longer than that, so what is checked is that no call is active any more.
        no_row_label('^Active', 15)
        states = state['daemon'].call_states()
        if any(s == 'active' for _, s in states):
            raise RuntimeError('daemon call states after Hang Up: %r' % states)

    @step('subscriptions: a message-waiting NOTIFY from SIPp shows as a badge with counts')
    def mwi_badge():
        sipp = Sipp(h, args.sipp_dir, 'notify-unsolicited.xml', state['port'])
        sipp.wait_passed(20)
        tab = wait_for(lambda: find(app(), role='page tab', name_re='^Subscriptions'), 10,
                       'Subscriptions tab')
        click_and_settle(tab)
        wait_for(lambda: find(app(), role='label', name='2 new messages, 8 old'), 10,
                 'the voicemail counts')
        # The switcher's badge: a label with the number of new messages.
        try:
            wait_for(lambda: any(find(t, role='label', name='2') is not None
                                 for t in find_all(app(), role='page tab')
                                 if (t.name or '').startswith('Subscriptions')), 10,
                     'the badge on Subscriptions')
        except TimeoutError:
            for t in find_all(app(), role='page tab'):
                dump(t)
            raise
        wait_for(lambda: find_clickable(app(), 'Call Voicemail'), 5, 'Call Voicemail')
        screenshot(h.env, 'Hark', os.path.join(shots, 'subscriptions-mwi.png'))

    @step('subscriptions: watch a contact’s presence, see it, stop watching')
    def presence_watch():
        sipp = Sipp(h, args.sipp_dir, 'gui-sub-presence.xml')
        entry = wait_for(lambda: find(app(), role='text', name='Watch a SIP Address'), 10,
                         'the watch entry')
        type_into(entry, 'sip:carol@127.0.0.1:%d' % sipp.port)
        harness.key(0xff0d)  # Return
        time.sleep(1.0 * TIMEOUT_SCALE)
        wait_for(lambda: find(app(), role='label', name='Available — In a meeting'), 15,
                 'the contact’s presence and note')
        time.sleep(0.5)
        screenshot(h.env, 'Hark', os.path.join(shots, 'subscriptions-presence.png'))
        click_and_settle(wait_for(lambda: find_clickable(app(), 'Stop Watching'), 5,
                                  'Stop Watching'))
        sipp.wait_passed(30)

    @step('subscriptions: a presence request offers Allow / Deny; Allow sends 200 and PIDF')
    def presence_requests():
        retrans = ['-max_non_invite_retrans', '40']  # outlast the person's answer
        sipp = Sipp(h, args.sipp_dir, 'gui-sub-watcher.xml', state['port'], extra=retrans)
        ask = r'^sip:sipp@127\.0\.0\.1:%d wants to see your status$' % sipp.port
        try:
            wait_for(lambda: find(app(), role='label', name_re=ask), 20, 'the presence request')
        except TimeoutError:
            dump(app())
            raise
        allow = wait_for(lambda: find(app(), role='push button', name='Allow'), 5, 'Allow')
        wait_for(lambda: find(app(), role='push button', name='Deny'), 5, 'Deny')
        time.sleep(0.5)
        screenshot(h.env, 'Hark', os.path.join(shots, 'subscriptions-request.png'))
        click_and_settle(allow)
        wait_for(lambda: find(app(), role='label',
                              name_re=r'^sip:sipp@127\.0\.0\.1:%d sees your status$' % sipp.port),
                 15, 'the allowed watcher')
        wait_for(lambda: find(app(), role='label', name='Allowed'), 5, '“Allowed”')
        if find(app(), role='push button', name='Allow') is not None:
            raise RuntimeError('Allow is still offered after the request was allowed')
        # The daemon says what the window says: a notifier subscription, active.
        subs = [i['io.github.hark.Hark.Subscription1'] for i in state['daemon'].objects().values()
                if 'io.github.hark.Hark.Subscription1' in i]
        if not any(x.get('Role') == 'notifier' and x.get('State') == 'active' for x in subs):
            raise RuntimeError('no active notifier subscription on the bus: %r' % subs)
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Stop Sharing'), 5,
                                  'Stop Sharing'))
        sipp.wait_passed(30)  # SIPp checked the 200, the PIDF NOTIFY and the final NOTIFY

        deny_sipp = Sipp(h, args.sipp_dir, 'gui-sub-watcher-deny.xml', state['port'],
                         extra=retrans)
        ask = r'^sip:stranger@127\.0\.0\.1:%d wants to see your status$' % deny_sipp.port
        wait_for(lambda: find(app(), role='label', name_re=ask), 20, 'the second request')
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Deny'), 5, 'Deny'))
        deny_sipp.wait_passed(30)  # it got 603

    @step('preferences: the ring switch silences the next call')
    def preferences_silence():
        menu = wait_for(lambda: find_clickable(app(), 'Main Menu'), 5, 'the main menu')
        click(menu)
        try:
            item = wait_for(lambda: find(menu.parent, name='Preferences'), 5, 'Preferences item')
        except TimeoutError:
            dump(menu.parent)
            raise
        click_and_settle(item)
        prefs = toplevel('Preferences')
        def ring_switch():
            # Looked up afresh each time: the window's tree fills in after it maps. GTK 4.8
            # calls a GtkSwitch a check box.
            p = toplevel('Preferences', 5)
            return find(p, role='check box', name='Ring') or find(p, role='switch', name='Ring')
        try:
            switch = wait_for(ring_switch, 15, 'the Ring switch')
        except TimeoutError:
            p = toplevel('Preferences', 5)
            try:
                print('# children: %d' % p.childCount)
                c = p.getChildAtIndex(0)
                print('# child 0: %r' % c)
                print('# child 0 role: %r' % c.getRoleName())
                print('# child 0 count: %r' % c.childCount)
            except Exception as e:
                print('# error: %r' % e)
            dump(p)
            raise
        prefs = toplevel('Preferences', 5)
        for name in ('Microphone (Audio Source)', 'Speaker (Audio Sink)'):
            wait_for(lambda: find(prefs, role='text', name=name), 5, name)
        time.sleep(0.5)
        screenshot(h.env, 'Preferences', os.path.join(shots, 'preferences.png'))
        click(switch)
        time.sleep(0.5)
        harness.key(0xff1b)  # Escape closes it
        toplevel_gone('Preferences')

        before = len(ringer_log())
        sipp = Sipp(h, args.sipp_dir, 'uac-reject.xml', state['port'])
        dialog = incoming_dialog()
        time.sleep(1.5)
        if len(ringer_log()) != before:
            raise RuntimeError('it rang although ringing is off: %r' % ringer_log()[before:])
        click_and_settle(wait_for(lambda: find(dialog, role='push button', name='Decline'), 5, 'Decline'))
        sipp.wait_passed(30)

    @step('narrow window: the view switcher bar and the dialer fit in 360 px')
    def narrow():
        click_and_settle(wait_for(lambda: find(app(), role='page tab', name='Calls'), 5,
                                  'Calls tab'))
        no_row_label('^Ended', 20)
        time.sleep(0.5)
        wid, width, _ = wait_for(lambda: window_size(h.env, 'Hark'), 5, 'the window')
        if width != 360:
            raise RuntimeError('window is %d px wide' % width)
        # At 360 px the header's switcher gives way to the bar at the bottom: the tabs are
        # still there, once each.
        tabs = [t.name for t in find_all(app(), role='page tab')]
        print('# visible view tabs: %r' % tabs)
        if sorted(set(tabs)) != ['Calls', 'Profiles', 'Subscriptions']:
            raise RuntimeError('view tabs: %r' % tabs)
        screenshot(h.env, 'Hark', os.path.join(shots, 'narrow.png'))

    def mouse_click(node):
        """A person's click at the middle of a node (see harness.type_into about coordinates)."""
        import pyatspi
        ext = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        pyatspi.Registry.generateMouseEvent(ext.x + ext.width // 2, ext.y + ext.height // 2, 'b1c')
        time.sleep(0.5 * TIMEOUT_SCALE)

    def recent_row_subtitle(title_re, subtitle_re, timeout=10):
        """A recent call's row: its title label and, next to it, its subtitle label."""
        def found():
            for label in find_all(app(), role='label'):
                if not re.search(title_re, label.name or ''):
                    continue
                parent = label.parent
                for i in range(parent.childCount):
                    sub = parent.getChildAtIndex(i)
                    if sub is not None and re.search(subtitle_re, sub.name or ''):
                        return label, sub
            return None
        return wait_for(found, timeout, 'a recent call %r saying %r' % (title_re, subtitle_re))

    @step('recent calls: dialed and received calls listed with outcome; a row fills the dialer')
    def recent_calls():
        # Tall enough for the list below the keypad; the next start must restore this size.
        wid, _, _ = wait_for(lambda: window_size(h.env, 'Hark'), 5, 'the window')
        x_resize(h.env['DISPLAY'], wid, 700, 1000)
        wait_for(lambda: window_size(h.env, 'Hark')[1:] == (700, 1000), 5, 'the window at 700×1000')
        time.sleep(1.0)
        wait_for(lambda: find(app(), role='label', name='Recent Calls'), 10, 'Recent Calls')
        bob = r'^sip:bob@127\.0\.0\.1:%d$' % state['bob_port']
        title, subtitle = recent_row_subtitle(bob, r'^Outgoing · Answered · \d\d:\d\d$')
        print('# recent: %s — %s' % (title.name, subtitle.name))
        recent_row_subtitle(r'^SIPp Caller$', r'^Incoming · Answered · ')
        recent_row_subtitle(r'sipp@127\.0\.0\.1', r'^Incoming · Declined · ')
        screenshot(h.env, 'Hark', os.path.join(shots, 'recent-calls.png'))
        entry = find(app(), role='text', name='Number or SIP Address')
        if text_of(entry):
            raise RuntimeError('the dialer is not empty: %r' % text_of(entry))
        mouse_click(title)
        wait_for(lambda: text_of(entry) == 'sip:bob@127.0.0.1:%d' % state['bob_port'], 5,
                 'the dialer filled from the recent call (has %r)' % text_of(entry))

    @step('recent calls: Call Back dials; Call Details show codec and media statistics')
    def call_back_and_details():
        sipp = Sipp(h, args.sipp_dir, 'gui-uas-answer.xml', port=state['bob_port'])
        buttons = [b for b in find_all(app(), role='push button') if b.name == 'Call Back']
        if len(buttons) < 4:
            raise RuntimeError('%d Call Back buttons' % len(buttons))
        # Bob's row: the one his title label is in.
        title, _ = recent_row_subtitle(r'^sip:bob@127\.0\.0\.1:%d$' % state['bob_port'], 'Outgoing')
        node, button = title, None
        for _ in range(6):
            node = node.parent
            button = find(node, role='push button', name='Call Back')
            if button is not None:
                break
        if button is None:
            raise RuntimeError('no Call Back button in bob’s row')
        click_and_settle(button)
        call_row_label('^Active', 20)
        call = wait_for(lambda: next(iter(state['daemon'].calls().values()), None), 5, 'the call')
        if call.get('RemoteUri') != 'sip:bob@127.0.0.1:%d' % state['bob_port']:
            raise RuntimeError('called %r' % call.get('RemoteUri'))
        details = wait_for(lambda: find_clickable(app(), 'Call Details'), 5, 'Call Details')
        click(details)
        time.sleep(1.0 * TIMEOUT_SCALE)
        label = wait_for(lambda: find(details.parent, role='label', name_re='^Codec: PCMU'), 10,
                         'the codec in the details')
        wait_for(lambda: find(details.parent, role='label', name_re='Audio not encrypted'), 5,
                 'the encryption in the details')
        wait_for(lambda: find(app(), name='Not encrypted'), 5, 'the encryption indicator')
        if 'MediaStats' in call:
            def sent():
                node = find(details.parent, role='label', name_re='Packets sent: [1-9]')
                return node and int(re.search(r'Packets sent: (\d+)', node.name).group(1))
            first = wait_for(sent, 15, 'packets sent')
            wait_for(lambda: (sent() or 0) > first, 10, 'the packets sent to climb past %d' % first)
            wait_for(lambda: find(details.parent, role='label', name_re='Packets received: \d+'),
                     5, 'packets received')
            wait_for(lambda: find(details.parent, role='label', name_re='Jitter buffer: \d+ ms'),
                     5, 'the jitter buffer’s playout delay')
        else:
            print('# the daemon has no MediaStats yet: the details must say so')
            wait_for(lambda: find(details.parent, role='label', name_re='No statistics yet'), 5,
                     '“No statistics yet”')
        label = find(details.parent, role='label', name_re='^Codec: ')
        print('# details: %r' % label.name)
        screenshot_with_popups(h.env, 'Hark', os.path.join(shots, 'call-details.png'))
        harness.key(0xff1b)  # Escape closes the popover
        time.sleep(0.3)
        click_and_settle(wait_for(lambda: find(app(), role='push button', name='Hang Up'), 5,
                                  'Hang Up'))
        sipp.wait_passed(30)
        no_row_label('^Active', 15)

    def notifications():
        try:
            with open(state['notifications']) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def quit_app():
        subprocess.run(['gdbus', 'call', '--session', '--dest', 'io.github.hark.Hark',
                        '--object-path', '/io/github/hark/Hark', '--method',
                        'org.gtk.Actions.Activate', 'quit', '[]', '{}'],
                       env=h.env, check=True, capture_output=True, timeout=10 * TIMEOUT_SCALE)
        try:
            h.app.wait(15 * TIMEOUT_SCALE)
        except subprocess.TimeoutExpired:
            raise RuntimeError('the app did not quit')
        if h.app.returncode != 0:
            raise RuntimeError('the app exited with %d' % h.app.returncode)

    def find_app_again(with_window=True):
        import pyatspi
        desktop = pyatspi.Registry.getDesktop(0)

        def found():
            if h.app.poll() is not None:
                raise RuntimeError('hark exited with %d' % h.app.returncode)
            for i in range(desktop.childCount):
                a = desktop.getChildAtIndex(i)
                if a is not None and a.name in ('hark', 'Hark', 'io.github.hark.Hark') and \
                        (not with_window or find(a, name='Calls', role='page tab') is not None):
                    return a
            return None
        state['app'] = wait_for(found, 30, 'the restarted app')

    def answered_incoming():
        try:
            with open(os.path.join(h.env['XDG_DATA_HOME'], 'hark', 'recent-calls')) as f:
                return len(re.findall(r"'direction': <'incoming'>[^}]*'outcome': <'answered'>",
                                      f.read()))
        except OSError:
            return 0

    @step('no window: an incoming call notifies with Accept / Decline; Accept answers it')
    def notification_accept():
        # As the desktop starts it (D-Bus activation, or at login): a service, no window.
        quit_app()
        h.start_app('hark-service', ['--gapplication-service'])
        wait_for(lambda: subprocess.run(
            ['gdbus', 'introspect', '--session', '--dest', 'io.github.hark.Hark',
             '--object-path', '/io/github/hark/Hark'], env=h.env,
            capture_output=True).returncode == 0, 20, 'the app on the bus')
        time.sleep(2.0 * TIMEOUT_SCALE)  # its client has found the daemon's objects
        if window_size(h.env, 'Hark') is not None:
            raise RuntimeError('the service opened a window')
        before = len(notifications())
        answered_before = answered_incoming()
        sipp = Sipp(h, args.sipp_dir, 'gui-uac-call.xml', state['port'])

        def notified():
            for n in notifications()[before:]:
                if n.get('summary') == 'Incoming Call':
                    return n
            return None
        note = wait_for(notified, 20, 'the incoming-call notification')
        print('# notification: %r' % note)
        if 'SIPp Caller' not in note['body'] or 'sip:sipp@127.0.0.1' not in note['body']:
            raise RuntimeError('the notification does not say who calls: %r' % note['body'])
        actions = dict(zip(note['actions'][1::2], note['actions'][0::2]))  # label -> key
        if 'Accept' not in actions or 'Decline' not in actions:
            raise RuntimeError('the notification offers %r' % note['actions'])
        if window_size(h.env, 'Hark') is not None or window_size(h.env, 'Incoming Call'):
            raise RuntimeError('a window showed although the window was closed')
        subprocess.run(['gdbus', 'call', '--session', '--dest', 'org.freedesktop.Notifications',
                        '--object-path', '/org/freedesktop/Notifications', '--method',
                        'io.github.hark.Test.Notifications.InvokeAction', str(note['notify']),
                        actions['Accept']],
                       env=h.env, check=True, capture_output=True, timeout=10 * TIMEOUT_SCALE)
        # The action answers the call, brings the window back on the Calls view and
        # withdraws the notification.
        wait_for(lambda: any(s == 'active' for _, s in state['daemon'].call_states()), 15,
                 'the daemon to answer the call')
        wait_for(lambda: window_size(h.env, 'Hark'), 15, 'the window to open')
        time.sleep(1.0 * TIMEOUT_SCALE)
        find_app_again()
        # SIPp talks for 6 s: on a slow machine the call may be over before the window is
        # built. Then it is in the recent calls, answered.
        wait_for(lambda: find(app(), role='label', name_re='^Active') or
                 answered_incoming() > answered_before, 20,
                 'the call active in the window, or answered in the recent calls')
        wait_for(lambda: {'closed': note['notify']} in notifications(), 10,
                 'the notification withdrawn')
        screenshot(h.env, 'Hark', os.path.join(shots, 'accepted-from-notification.png'))
        sipp.wait_passed(30)  # it got the 200, ACKed and hung up
        no_row_label('^Active', 15)

    @step('restart: the window size and the recent calls come back; Clear forgets them')
    def restart():
        history = os.path.join(h.env['XDG_DATA_HOME'], 'hark', 'recent-calls')
        quit_app()
        with open(history) as f:
            saved = f.read()
        if 'sip:bob@127.0.0.1:%d' % state['bob_port'] not in saved:
            raise RuntimeError('the history file lacks the call: %r' % saved[:300])
        h.start_app('hark-restarted')
        find_app_again()
        size = wait_for(lambda: window_size(h.env, 'Hark'), 10, 'the window')
        if size[1:] != (700, 1000):
            raise RuntimeError('the window came back at %dx%d, not 700x1000' % size[1:])
        recent_row_subtitle(r'^sip:bob@127\.0\.0\.1:%d$' % state['bob_port'],
                            r'^Outgoing · Answered · ', 15)
        time.sleep(0.5)
        screenshot(h.env, 'Hark', os.path.join(shots, 'recent-calls-restarted.png'))
        click_and_settle(wait_for(lambda: find(app(), role='push button',
                                               name='Clear Recent Calls'), 5, 'Clear'))
        wait_for(lambda: find(app(), role='label', name='No recent calls'), 10,
                 '“No recent calls”')
        if find(app(), role='push button', name='Call Back') is not None:
            raise RuntimeError('a recent call is still listed after Clear')
        with open(history) as f:
            saved = f.read()
        if 'sip:' in saved:
            raise RuntimeError('Clear left the history file with %r' % saved[:300])

    @step('no criticals or warnings from the app')
    def no_criticals():
        if h.app.poll() is not None:
            raise RuntimeError('hark exited with %d' % h.app.returncode)
        lines = (h.log_tail('hark', 5000) + h.log_tail('hark-service', 5000) +
                 h.log_tail('hark-restarted', 5000))
        bad = [l for l in lines if 'CRITICAL' in l or 'WARNING' in l]
        if bad:
            raise RuntimeError('\n'.join(bad))

    print('1..%d' % len(steps), flush=True)
    try:
        h.start_x()
        # A silent microphone and no speaker: the calls' media runs (and its statistics
        # count) without a sound device.
        h.env['HARK_AUDIO_SOURCE'] = 'audiotestsrc is-live=true wave=silence'
        h.env['HARK_AUDIO_SINK'] = 'fakesink sync=false'
        h.start_bus()
        # A notification server, as a desktop has: it logs what the app sends.
        state['notifications'] = os.path.join(h.tmp, 'notifications.jsonl')
        h.spawn('notifications', [sys.executable, os.path.join(HERE, 'notification-server.py'),
                                  state['notifications']])
        wait_for(lambda: any(n.get('ready') for n in notifications()), 10,
                 'the notification server')
        # The app keeps its settings in a file, so that a restart finds the window size
        # (the daemon, started by the bus, keeps the memory backend).
        h.env['GSETTINGS_BACKEND'] = 'keyfile'
        h.start_atspi()
        os.environ.update({k: h.env[k] for k in ('DISPLAY', 'DBUS_SESSION_BUS_ADDRESS')})
        import pyatspi  # noqa: F401  (needs the bus in the environment first)
        h.env['HARK_RINGTONE_SINK'] = 'fakesink'
        h.env['G_MESSAGES_DEBUG'] = 'hark-ringer'
        wrapper = os.environ.get('HARK_TEST_APP_WRAPPER')
        if wrapper:  # e.g. "gdb -q -batch -ex run -ex bt --args": a critical's backtrace
            h.env['G_DEBUG'] = 'fatal-criticals'
            h.app = h.spawn('hark', wrapper.split() + [os.path.abspath(args.app)])
        else:
            h.start_app()

        ok = True
        for name, fn in steps:
            if ok or fn is no_criticals:
                ok = tap.run(name, fn) is not None
                if not ok and 'app' in state:
                    try:
                        screenshot(h.env, 'Hark', os.path.join(shots, 'failed-calls.png'))
                    except Exception:
                        pass
            else:
                tap.n += 1
                print('ok %d - %s # SKIP an earlier step failed' % (tap.n, name))
    except Exception:
        for line in traceback.format_exc().splitlines():
            print('# ' + line)
        tap.failed += 1
        print('not ok %d - harness' % (tap.n + 1))
    finally:
        for line in h.log_tail('hark', 25):
            print('# hark: %s' % line)
            if tap.failed:
                print('# hark: %s' % line, file=sys.stderr)
        h.stop()
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
