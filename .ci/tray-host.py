#!/usr/bin/python3
"""A stand-in tray host for gui-test.sh: owns org.kde.StatusNotifierWatcher on the session bus.

Implements what a StatusNotifierItem (fyne.io/systray) uses: RegisterStatusNotifierItem /
RegisterStatusNotifierHost, the ItemRegistered signal and the watcher's properties. Prints
"READY" once it owns the name and "ITEM <sender><path>" for each registration.
Needs Debian's python3-dbus and python3-gi (run with /usr/bin/python3).
"""
import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

NAME = "org.kde.StatusNotifierWatcher"


class TrayHost(dbus.service.Object):
    def __init__(self, bus):
        self.items = []
        self.bus_name = dbus.service.BusName(NAME, bus, do_not_queue=True)
        super().__init__(self.bus_name, "/StatusNotifierWatcher")

    @dbus.service.method(NAME, in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        item = sender + service if service.startswith("/") else service
        if item not in self.items:
            self.items.append(item)
        print("ITEM", item, flush=True)
        self.StatusNotifierItemRegistered(item)

    @dbus.service.method(NAME, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(NAME, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    def props(self):
        return {"RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
                "IsStatusNotifierHostRegistered": dbus.Boolean(True),
                "ProtocolVersion": dbus.Int32(0)}

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.props()[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props()


if __name__ == "__main__":
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    host = TrayHost(dbus.SessionBus())
    print("READY", flush=True)
    GLib.MainLoop().run()
