// Package assets holds timebridge's embedded icons: one tray icon per engine state at
// 16, 32 and 64 px (a monochrome clock-and-bridge base with a coloured state badge)
// and the colour app icon icon.png (512 px, also named by FyneApp.toml).
//
// The PNGs are drawn by gen/main.go; after changing a shape there, run
// `go generate ./assets` and commit the new files.
package assets

//go:generate go run gen/main.go -out .

import (
	"embed"
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/timebridge/timebridge/sync/engine"
)

//go:embed icon.png tray/*.png
var files embed.FS

// traySizes are the pixel sizes every tray icon is drawn at, smallest first.
var traySizes = []int{16, 32, 64}

// slugs name each state's files (tray/<slug>-<px>.png); gen/main.go uses the same list.
var slugs = map[engine.State]string{
	engine.StateIdle:         "idle",
	engine.StateSynced:       "synced",
	engine.StateSyncing:      "syncing",
	engine.StateAttention:    "attention",
	engine.StateOffline:      "offline",
	engine.StatePaused:       "paused",
	engine.StateSignInNeeded: "signin",
}

// TraySizes returns the pixel sizes tray icons come in, smallest first.
func TraySizes() []int { return append([]int(nil), traySizes...) }

// TrayStates returns every state that has its own tray icon, in engine order.
func TrayStates() []engine.State {
	return []engine.State{
		engine.StateIdle, engine.StateSynced, engine.StateSyncing, engine.StateAttention,
		engine.StateOffline, engine.StatePaused, engine.StateSignInNeeded,
	}
}

// TrayIcon returns the tray icon for state s, px pixels square. A size that is not
// drawn gets the smallest drawn size at least px wide (or the largest), and an unknown
// state gets the idle icon, so the tray always has something to show.
func TrayIcon(s engine.State, px int) fyne.Resource {
	slug, ok := slugs[s]
	if !ok {
		slug = slugs[engine.StateIdle]
	}
	size := traySizes[len(traySizes)-1]
	for _, n := range traySizes {
		if n >= px {
			size = n
			break
		}
	}
	return resource(fmt.Sprintf("tray/%s-%d.png", slug, size))
}

// AppIcon returns the 512 px colour application icon.
func AppIcon() fyne.Resource { return resource("icon.png") }

func resource(name string) fyne.Resource {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("assets: missing embedded " + name) // the test covers every name
	}
	return fyne.NewStaticResource("timebridge-"+pathBase(name), b)
}

func pathBase(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}
