#!/usr/bin/python3
"""A stand-in desktop for gui-test.sh: owns org.kde.StatusNotifierWatcher (a tray host) and
org.freedesktop.Notifications (a notification daemon) on the session bus.

Implements what a StatusNotifierItem (fyne.io/systray) uses: RegisterStatusNotifierItem /
RegisterStatusNotifierHost, the ItemRegistered signal and the watcher's properties; of the
notification daemon, Notify. Prints "READY" once it owns the names, "ITEM <sender><path>" for each
registration and "NOTIFY <summary>\t<body>" for each notification.
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


NOTIFICATIONS = "org.freedesktop.Notifications"


class Notifications(dbus.service.Object):
    def __init__(self, bus):
        self.last = 0
        self.bus_name = dbus.service.BusName(NOTIFICATIONS, bus, do_not_queue=True)
        super().__init__(self.bus_name, "/org/freedesktop/Notifications")

    @dbus.service.method(NOTIFICATIONS, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        print("NOTIFY", summary + "\t" + body.replace("\n", " "), flush=True)
        self.last += 1
        return dbus.UInt32(self.last)

    @dbus.service.method(NOTIFICATIONS, out_signature="as")
    def GetCapabilities(self):
        return dbus.Array(["body"], signature="s")

    @dbus.service.method(NOTIFICATIONS, out_signature="ssss")
    def GetServerInformation(self):
        return ("gui-test", "exocal", "1", "1.2")


if __name__ == "__main__":
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    host = TrayHost(bus)
    notifications = Notifications(bus)
    print("READY", flush=True)
    GLib.MainLoop().run()
