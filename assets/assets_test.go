package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/timebridge/timebridge/sync/engine"
)

func decode(t *testing.T, content []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// opaque counts pixels with more than half alpha.
func opaque(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
				n++
			}
		}
	}
	return n
}

func TestTrayIcons(t *testing.T) {
	t.Parallel()
	for _, st := range TrayStates() {
		seen := map[string]bool{}
		for _, px := range TraySizes() {
			res := TrayIcon(st, px)
			img := decode(t, res.Content())
			if b := img.Bounds(); b.Dx() != px || b.Dy() != px {
				t.Errorf("%v %d px: image is %v", st, px, b)
			}
			if n := opaque(img); n < px*px/10 {
				t.Errorf("%v %d px: only %d opaque pixels", st, px, n)
			}
			if seen[res.Name()] {
				t.Errorf("%v %d px: name %q used twice", st, px, res.Name())
			}
			seen[res.Name()] = true
		}
	}
}

func TestTrayIconsDifferPerState(t *testing.T) {
	t.Parallel()
	for _, px := range TraySizes() {
		byContent := map[string]engine.State{}
		for _, st := range TrayStates() {
			c := string(TrayIcon(st, px).Content())
			if other, dup := byContent[c]; dup {
				t.Errorf("%d px: %v and %v share one icon", px, other, st)
			}
			byContent[c] = st
		}
	}
}

func TestTrayIconFallbacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		state  engine.State
		px     int
		wantPx int
		same   engine.State
	}{
		{"tiny size gets smallest", engine.StateSynced, 8, 16, engine.StateSynced},
		{"between sizes rounds up", engine.StateSynced, 24, 32, engine.StateSynced},
		{"huge size gets largest", engine.StatePaused, 256, 64, engine.StatePaused},
		{"unknown state gets idle", engine.State(99), 32, 32, engine.StateIdle},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TrayIcon(tc.state, tc.px)
			if b := decode(t, got.Content()).Bounds(); b.Dx() != tc.wantPx {
				t.Errorf("width %d, want %d", b.Dx(), tc.wantPx)
			}
			if want := TrayIcon(tc.same, tc.wantPx); !bytes.Equal(got.Content(), want.Content()) {
				t.Errorf("got %s, want %s", got.Name(), want.Name())
			}
		})
	}
}

func TestAppIcon(t *testing.T) {
	t.Parallel()
	img := decode(t, AppIcon().Content())
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("app icon is %v, want 512×512", b)
	}
	if n := opaque(img); n < 512*512/2 {
		t.Errorf("app icon has only %d opaque pixels", n)
	}
	// A colour icon: the centre of the background is not grey.
	r, g, b, _ := img.At(256, 490).RGBA()
	if r == g && g == b {
		t.Errorf("app icon background looks grey: %d %d %d", r, g, b)
	}
}
