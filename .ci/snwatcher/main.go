//go:build ignore

// Command snwatcher is a minimal org.kde.StatusNotifierWatcher on the session bus,
// for the idle benchmark (.ci/bench-idle.sh): with a watcher present, timebridge
// sees a tray and --autostart really starts hidden (without one it shows the
// window, since the tray could not be seen). It accepts every registration and
// shows nothing. It prints "ready" once it owns the name and runs until killed.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	name  = "org.kde.StatusNotifierWatcher"
	path  = dbus.ObjectPath("/StatusNotifierWatcher")
	iface = "org.kde.StatusNotifierWatcher"
)

type watcher struct {
	mu    sync.Mutex
	props *prop.Properties
	items []string
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	if service == "" || service[0] == '/' { // a path: the item lives at the sender
		service = string(sender) + service
	}
	w.mu.Lock()
	w.items = append(w.items, service)
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.props.SetMust(iface, "RegisteredStatusNotifierItems", items)
	fmt.Fprintln(os.Stderr, "snwatcher: registered", service)
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func main() {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "snwatcher:", err)
		os.Exit(1)
	}
	w := &watcher{}
	if err := conn.Export(w, path, iface); err != nil {
		fmt.Fprintln(os.Stderr, "snwatcher:", err)
		os.Exit(1)
	}
	w.props, err = prop.Export(conn, path, prop.Map{iface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "snwatcher:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "snwatcher: could not own", name, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
