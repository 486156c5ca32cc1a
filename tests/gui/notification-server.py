#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A minimal org.freedesktop.Notifications server for the GUI tests, on the private bus
# (DBUS_SESSION_BUS_ADDRESS). Writes every Notify() and CloseNotification() as a JSON line to
# the file given as argument; io.github.hark.Test.Notifications.InvokeAction(id, key) makes it
# emit ActionInvoked, as a person clicking a notification's button would.

import json
import sys

from gi.repository import Gio, GLib

XML = '''<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
  </interface>
  <interface name="io.github.hark.Test.Notifications">
    <method name="InvokeAction"><arg type="u" direction="in"/><arg type="s" direction="in"/></method>
  </interface>
</node>'''

PATH = '/org/freedesktop/Notifications'
FDO = 'org.freedesktop.Notifications'


def main():
    log = open(sys.argv[1], 'a', buffering=1)
    node = Gio.DBusNodeInfo.new_for_xml(XML)
    loop = GLib.MainLoop()
    state = {'next': 1}

    def on_call(conn, sender, path, iface, method, params, invocation):
        args = params.unpack()
        if method == 'Notify':
            nid = args[1] or state['next']
            state['next'] = max(state['next'], nid) + 1
            log.write(json.dumps({'notify': nid, 'app': args[0], 'summary': args[3],
                                  'body': args[4], 'actions': args[5]}) + '\n')
            invocation.return_value(GLib.Variant('(u)', (nid,)))
        elif method == 'CloseNotification':
            log.write(json.dumps({'closed': args[0]}) + '\n')
            conn.emit_signal(None, PATH, FDO, 'NotificationClosed', GLib.Variant('(uu)', (args[0], 3)))
            invocation.return_value(None)
        elif method == 'GetCapabilities':
            invocation.return_value(GLib.Variant('(as)', (['actions', 'body'],)))
        elif method == 'GetServerInformation':
            invocation.return_value(GLib.Variant('(ssss)', ('hark-test', 'Hark', '1', '1.2')))
        elif method == 'InvokeAction':
            conn.emit_signal(None, PATH, FDO, 'ActionInvoked', GLib.Variant('(us)', args))
            invocation.return_value(None)

    def on_bus(conn, name):
        for iface in node.interfaces:
            conn.register_object(PATH, iface, on_call, None, None)

    Gio.bus_own_name(Gio.BusType.SESSION, FDO, Gio.BusNameOwnerFlags.NONE, on_bus,
                     lambda *a: log.write(json.dumps({'ready': True}) + '\n'),
                     lambda *a: loop.quit())
    loop.run()


if __name__ == '__main__':
    main()
