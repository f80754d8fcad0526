//go:build ignore

// Command gen draws timebridge's icons: the tray icons (a monochrome clock-and-bridge
// base with a coloured state badge) at 16, 32 and 64 px, and the colour app icon
// icon.png at 512 px. The PNGs are committed; run it again after changing a shape:
//
//	go run assets/gen/main.go            # from the repository root
//	go generate ./assets                 # the same, through assets.go
//
// Shapes are inside-tests in unit coordinates ([0,1]², y down), rendered with 8×8
// supersampling into alpha masks and composited with image/draw. The output is
// deterministic, so regenerating unchanged shapes gives identical files.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// states are the file name slugs, in engine.State order; assets.go uses the same.
var states = []string{"idle", "synced", "syncing", "attention", "offline", "paused", "signin"}

var sizes = []int{16, 32, 64}

func main() {
	out := flag.String("out", "assets", "directory that holds icon.png and tray/")
	flag.Parse()
	if err := os.MkdirAll(filepath.Join(*out, "tray"), 0o755); err != nil {
		log.Fatal(err)
	}
	for _, st := range states {
		for _, px := range sizes {
			write(filepath.Join(*out, "tray", fmt.Sprintf("%s-%d.png", st, px)), trayIcon(st, px))
		}
	}
	write(filepath.Join(*out, "icon.png"), appIcon(512))
}

func write(path string, img image.Image) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// shape reports whether the point (x, y) in unit coordinates is inside.
type shape func(x, y float64) bool

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

func minus(a, b shape) shape { return func(x, y float64) bool { return a(x, y) && !b(x, y) } }

func disc(cx, cy, r float64) shape {
	return func(x, y float64) bool { return math.Hypot(x-cx, y-cy) <= r }
}

// ring is a circle outline of radius r (to the middle of the stroke) and stroke width w.
func ring(cx, cy, r, w float64) shape {
	return func(x, y float64) bool { return math.Abs(math.Hypot(x-cx, y-cy)-r) <= w/2 }
}

// arc is the part of ring between angles a0 and a1 (radians, clockwise from 3 o'clock,
// since y points down).
func arc(cx, cy, r, w, a0, a1 float64) shape {
	rg := ring(cx, cy, r, w)
	return func(x, y float64) bool {
		if !rg(x, y) {
			return false
		}
		a := math.Atan2(y-cy, x-cx)
		for a < a0 {
			a += 2 * math.Pi
		}
		return a <= a1
	}
}

// line is a stroke of width w from (x0, y0) to (x1, y1) with round caps.
func line(x0, y0, x1, y1, w float64) shape {
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	return func(x, y float64) bool {
		t := ((x-x0)*dx + (y-y0)*dy) / l2
		t = math.Max(0, math.Min(1, t))
		return math.Hypot(x-(x0+t*dx), y-(y0+t*dy)) <= w/2
	}
}

func polyline(w float64, pts ...float64) shape {
	var s []shape
	for i := 0; i+3 < len(pts); i += 2 {
		s = append(s, line(pts[i], pts[i+1], pts[i+2], pts[i+3], w))
	}
	return union(s...)
}

func rect(x0, y0, x1, y1 float64) shape {
	return func(x, y float64) bool { return x >= x0 && x <= x1 && y >= y0 && y <= y1 }
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		cx := math.Max(x0+r, math.Min(x1-r, x))
		cy := math.Max(y0+r, math.Min(y1-r, y))
		return math.Hypot(x-cx, y-cy) <= r
	}
}

func triangle(ax, ay, bx, by, cx, cy float64) shape {
	side := func(px, py, qx, qy, x, y float64) float64 { return (qx-px)*(y-py) - (qy-py)*(x-px) }
	return func(x, y float64) bool {
		d1, d2, d3 := side(ax, ay, bx, by, x, y), side(bx, by, cx, cy, x, y), side(cx, cy, ax, ay, x, y)
		neg := d1 < 0 || d2 < 0 || d3 < 0
		pos := d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

// grow dilates s by d (approximately: 16 probe directions), for the contrast halo.
func grow(s shape, d float64) shape {
	return func(x, y float64) bool {
		if s(x, y) {
			return true
		}
		for i := range 16 {
			a := float64(i) * math.Pi / 8
			if s(x+d*math.Cos(a), y+d*math.Sin(a)) || s(x+d/2*math.Cos(a), y+d/2*math.Sin(a)) {
				return true
			}
		}
		return false
	}
}

// mask renders s at px×px with 8×8 supersampling.
func mask(s shape, px int) *image.Alpha {
	const n = 8
	m := image.NewAlpha(image.Rect(0, 0, px, px))
	for py := range px {
		for pxx := range px {
			hits := 0
			for sy := range n {
				for sx := range n {
					x := (float64(pxx) + (float64(sx)+0.5)/n) / float64(px)
					y := (float64(py) + (float64(sy)+0.5)/n) / float64(px)
					if s(x, y) {
						hits++
					}
				}
			}
			m.SetAlpha(pxx, py, color.Alpha{A: uint8((hits*255 + n*n/2) / (n * n))})
		}
	}
	return m
}

func paint(dst draw.Image, s shape, src image.Image) {
	b := dst.Bounds()
	draw.DrawMask(dst, b, src, image.Point{}, mask(s, b.Dx()), image.Point{}, draw.Over)
}

func fill(c color.Color) image.Image { return image.NewUniform(c) }

// Tray geometry, shared by every state.
const (
	badgeX, badgeY, badgeR = 0.73, 0.73, 0.27
	gap                    = 0.06 // clear space between the base and the badge
	halo                   = 0.05 // dark edge that keeps a light icon visible on a light panel
)

// trayBase is the clock on a bridge deck, in one colour.
func trayBase() shape {
	return union(
		ring(0.42, 0.40, 0.32, 0.11),       // clock face
		line(0.42, 0.40, 0.42, 0.20, 0.10), // minute hand at 12
		line(0.42, 0.40, 0.57, 0.40, 0.10), // hour hand at 3
		line(0.06, 0.90, 0.94, 0.90, 0.10), // bridge deck
		line(0.20, 0.90, 0.20, 0.66, 0.08), // left pier
		line(0.64, 0.90, 0.64, 0.66, 0.08), // right pier
	)
}

// glyph returns the white sign inside the badge and the badge colour.
func glyph(state string) (shape, color.NRGBA) {
	cx, cy, r := badgeX, badgeY, badgeR
	p := func(dx, dy float64) (float64, float64) { return cx + dx*r, cy + dy*r }
	switch state {
	case "synced":
		x0, y0 := p(-0.50, 0.02)
		x1, y1 := p(-0.14, 0.38)
		x2, y2 := p(0.50, -0.34)
		return polyline(0.26*r, x0, y0, x1, y1, x2, y2), color.NRGBA{0x2E, 0x9E, 0x4F, 0xFF}
	case "syncing":
		w := 0.22 * r
		rr := 0.52 * r
		head := func(a, dir float64) shape { // arrow head at angle a, pointing along the arc
			tx, ty := cx+rr*math.Cos(a), cy+rr*math.Sin(a)
			ux, uy := -math.Sin(a)*dir, math.Cos(a)*dir // tangent
			nx, ny := math.Cos(a), math.Sin(a)          // normal
			h := 0.42 * r
			return triangle(tx+ux*h*0.9, ty+uy*h*0.9, tx+nx*h*0.6, ty+ny*h*0.6, tx-nx*h*0.6, ty-ny*h*0.6)
		}
		a := math.Pi / 180
		return union(
			arc(cx, cy, rr, w, 200*a, 330*a), head(330*a, 1),
			arc(cx, cy, rr, w, 20*a, 150*a), head(150*a, 1),
		), color.NRGBA{0x2F, 0x7B, 0xE5, 0xFF}
	case "attention":
		x0, y0 := p(0, -0.52)
		x1, y1 := p(0, 0.10)
		dx, dy := p(0, 0.46)
		return union(line(x0, y0, x1, y1, 0.26*r), disc(dx, dy, 0.15*r)), color.NRGBA{0xE0, 0x8A, 0x00, 0xFF}
	case "offline":
		a0, b0 := p(-0.40, -0.40)
		a1, b1 := p(0.40, 0.40)
		a2, b2 := p(0.40, -0.40)
		a3, b3 := p(-0.40, 0.40)
		return union(line(a0, b0, a1, b1, 0.26*r), line(a2, b2, a3, b3, 0.26*r)), color.NRGBA{0xD9, 0x3B, 0x3B, 0xFF}
	case "paused":
		x0, y0 := p(-0.38, -0.46)
		x1, y1 := p(-0.10, 0.46)
		x2, y2 := p(0.10, -0.46)
		x3, y3 := p(0.38, 0.46)
		return union(rect(x0, y0, x1, y1), rect(x2, y2, x3, y3)), color.NRGBA{0x6E, 0x6E, 0x6E, 0xFF}
	case "signin":
		kx, ky := p(-0.28, 0)
		sx0, sy0 := p(0.0, 0)
		sx1, sy1 := p(0.58, 0)
		t1x, t1y := p(0.36, 0.26)
		t2x, t2y := p(0.58, 0.26)
		w := 0.18 * r
		return union(
			ring(kx, ky, 0.22*r, w),
			line(sx0, sy0, sx1, sy1, w),
			line(t1x, sy0, t1x, t1y, w),
			line(t2x, sy0, t2x, t2y, w),
		), color.NRGBA{0x8E, 0x5B, 0xD9, 0xFF}
	}
	return nil, color.NRGBA{}
}

func trayIcon(state string, px int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	base := trayBase()
	sign, badge := glyph(state)
	if sign != nil {
		base = minus(base, disc(badgeX, badgeY, badgeR+gap))
	}
	dark := fill(color.NRGBA{0, 0, 0, 0x70})
	paint(img, grow(base, halo), dark)
	paint(img, base, fill(color.NRGBA{0xF2, 0xF2, 0xF2, 0xFF}))
	if sign != nil {
		paint(img, disc(badgeX, badgeY, badgeR+halo/2), dark)
		paint(img, disc(badgeX, badgeY, badgeR), fill(badge))
		paint(img, sign, fill(color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}))
	}
	return img
}

// gradient is a vertical blend from top to bottom colour.
type gradient struct{ top, bottom color.NRGBA }

func (g gradient) ColorModel() color.Model { return color.NRGBAModel }
func (g gradient) Bounds() image.Rectangle {
	return image.Rect(-1e9, -1e9, 1e9, 1e9)
}
func (g gradient) At(_, y int) color.Color {
	t := math.Max(0, math.Min(1, float64(y)/512))
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }
	return color.NRGBA{mix(g.top.R, g.bottom.R), mix(g.top.G, g.bottom.G), mix(g.top.B, g.bottom.B), 0xFF}
}

func appIcon(px int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	navy := fill(color.NRGBA{0x12, 0x2B, 0x4A, 0xFF})
	white := fill(color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF})
	orange := fill(color.NRGBA{0xF5, 0x9E, 0x0B, 0xFF})

	paint(img, roundRect(0.04, 0.04, 0.96, 0.96, 0.20), gradient{
		top: color.NRGBA{0x25, 0x74, 0xE8, 0xFF}, bottom: color.NRGBA{0x0E, 0xA5, 0x8F, 0xFF},
	})
	// Bridge: an arch over the deck, with piers and hangers.
	deckY := 0.80
	archCX, archCY, archR := 0.50, 1.16, 0.56
	archAbove := func(s shape) shape { return func(x, y float64) bool { return y <= deckY && s(x, y) } }
	paint(img, union(
		archAbove(ring(archCX, archCY, archR, 0.035)),
		line(0.12, deckY, 0.88, deckY, 0.05),
		line(0.20, deckY, 0.20, 0.90, 0.045),
		line(0.80, deckY, 0.80, 0.90, 0.045),
		line(0.30, deckY, 0.30, archCY-math.Sqrt(archR*archR-0.04), 0.018),
		line(0.70, deckY, 0.70, archCY-math.Sqrt(archR*archR-0.04), 0.018),
	), white)
	// Clock above the deck.
	cx, cy := 0.50, 0.42
	paint(img, disc(cx, cy, 0.27), white)
	paint(img, ring(cx, cy, 0.245, 0.035), navy)
	var ticks []shape
	for i := range 12 {
		a := float64(i) * math.Pi / 6
		l := 0.03
		if i%3 == 0 {
			l = 0.05
		}
		r0, r1 := 0.205-l, 0.205
		ticks = append(ticks, line(cx+r0*math.Cos(a), cy+r0*math.Sin(a), cx+r1*math.Cos(a), cy+r1*math.Sin(a), 0.018))
	}
	paint(img, union(ticks...), navy)
	paint(img, union(
		line(cx, cy, cx, cy-0.16, 0.030),      // minute hand
		line(cx, cy, cx+0.11, cy+0.04, 0.036), // hour hand
	), navy)
	paint(img, disc(cx, cy, 0.028), orange)
	return img
}
