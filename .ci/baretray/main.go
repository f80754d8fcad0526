//go:build ignore

// Command baretray is the baseline of the idle benchmark (.ci/bench-idle.sh): a
// Fyne app that only sets a system-tray icon and menu, with no window. With
// -hidden-window it also makes a window with one label that is never shown (what a
// tray app started hidden keeps), to tell the window's cost from the rest. The
// build tag keeps it out of `go build ./...` and `go test ./...`; build it with
//
//	go build -o DIR/baretray .ci/baretray/main.go
package main

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

func main() {
	hidden := flag.Bool("hidden-window", false, "also make a window that is never shown")
	flag.Parse()
	a := app.NewWithID("app.timebridge.baretray")
	desk, ok := a.(desktop.App)
	if !ok {
		panic("baretray: not a desktop driver")
	}
	desk.SetSystemTrayMenu(fyne.NewMenu("baretray", fyne.NewMenuItem("Hello", func() {})))
	desk.SetSystemTrayIcon(fyne.NewStaticResource("baretray.png", icon()))
	if *hidden {
		w := a.NewWindow("baretray")
		w.SetContent(widget.NewLabel("hidden"))
		w.Resize(fyne.NewSize(900, 640))
		desk.SetSystemTrayWindow(w)
	}
	a.Run()
}

// icon is a 32 px PNG disc, the size of timebridge's tray icons.
func icon() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			if dx, dy := x-16, y-16; dx*dx+dy*dy < 15*15 {
				img.Set(x, y, color.NRGBA{R: 0x1e, G: 0x88, B: 0xe5, A: 0xff})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
