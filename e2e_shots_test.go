//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Screenshots of the real window (ImageMagick's import) and the little image
// analysis the end-to-end test needs to find the tabs and buttons it clicks. It
// knows the layout only as Fyne draws it: tab labels in a row with the selected
// one in the accent colour above its accent underline, and buttons as filled
// rectangles of one colour.

// uiShots takes the numbered screenshots of one window.
type uiShots struct {
	dir, win string
	paths    []string
}

// uiShot is one screenshot.
type uiShot struct {
	img  *image.RGBA
	path string
}

// grab captures the window into path.
func (s *uiShots) grab(ctx context.Context, path string) (*uiShot, error) {
	if out, err := exec.CommandContext(ctx, "import", "-window", s.win, path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("import -window %s: %v: %s", s.win, err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s is not a PNG: %w", path, err)
	}
	img := image.NewRGBA(image.Rect(0, 0, src.Bounds().Dx(), src.Bounds().Dy()))
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	return &uiShot{img: img, path: path}, nil
}

func (s *uiShots) file(name string) string {
	p := filepath.Join(s.dir, name+".png")
	if !slices.Contains(s.paths, p) {
		s.paths = append(s.paths, p)
	}
	return p
}

// settle captures the window until ok holds and two captures in a row are the
// same (the window has finished drawing), for at most 15 s.
func (s *uiShots) settle(ctx context.Context, t *testing.T, name string, ok func(*uiShot) bool) *uiShot {
	t.Helper()
	path := s.file(name)
	deadline := time.Now().Add(15 * time.Second)
	var prev *uiShot
	for {
		shot, err := s.grab(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if ok(shot) && prev != nil && !shot.differs(prev) {
			return shot
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("the window did not reach the state %q within 15 s; last screenshot %s", name, path)
		}
		prev = shot
		time.Sleep(150 * time.Millisecond)
	}
}

func (s *uiShot) rgb(x, y int) [3]uint8 {
	i := s.img.PixOffset(x, y)
	p := s.img.Pix[i : i+3 : i+3]
	return [3]uint8{p[0], p[1], p[2]}
}

func uiLum(c [3]uint8) int { return (299*int(c[0]) + 587*int(c[1]) + 114*int(c[2])) / 1000 }

// uiIsAccent reports Fyne's primary (blue) colour: the selected tab and its underline.
func uiIsAccent(c [3]uint8) bool {
	r, g, b := int(c[0]), int(c[1]), int(c[2])
	return b >= 180 && b-r >= 100 && b-g >= 60
}

// colours counts the pixels of each colour.
func (s *uiShot) colours() map[[3]uint8]int {
	n := map[[3]uint8]int{}
	b := s.img.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			n[s.rgb(x, y)]++
		}
	}
	return n
}

// background is the most common colour.
func (s *uiShot) background() [3]uint8 {
	var best [3]uint8
	max := -1
	for c, k := range s.colours() {
		if k > max {
			best, max = c, k
		}
	}
	return best
}

// checkWindow fails unless the screenshot is the whole window (w×h, at least
// 600×400) and shows something (many colours, no colour covering almost all).
func (s *uiShot) checkWindow(t *testing.T, w, h int) {
	t.Helper()
	b := s.img.Bounds()
	if b.Dx() < 600 || b.Dy() < 400 || uiAbs(b.Dx()-w) > 4 || uiAbs(b.Dy()-h) > 4 {
		t.Errorf("screenshot %s is %d×%d, want the window's %d×%d (at least 600×400)", s.path, b.Dx(), b.Dy(), w, h)
	}
	cols := s.colours()
	top := 0
	for _, k := range cols {
		top = max(top, k)
	}
	if len(cols) < 32 || top > b.Dx()*b.Dy()*99/100 {
		t.Errorf("screenshot %s looks blank: %d colours, the commonest covers %d%%", s.path, len(cols), top*100/(b.Dx()*b.Dy()))
	}
}

// differs reports whether two screenshots differ in more than a few pixels.
func (s *uiShot) differs(o *uiShot) bool {
	if s.img.Bounds() != o.img.Bounds() {
		return true
	}
	n := 0
	for i := 0; i+3 < len(s.img.Pix); i += 4 {
		if s.img.Pix[i] != o.img.Pix[i] || s.img.Pix[i+1] != o.img.Pix[i+1] || s.img.Pix[i+2] != o.img.Pix[i+2] {
			n++
		}
	}
	return n > 50
}

// tabLabels finds the tab labels, left to right: the row of text that holds the
// selected (accent-coloured) label, above the accent underline.
func (s *uiShot) tabLabels() []image.Rectangle {
	b := s.img.Bounds()
	acc := image.Rectangle{}
	rows := map[int]int{}
	for y := 0; y < b.Dy()/3; y++ {
		for x := 0; x < b.Dx(); x++ {
			if uiIsAccent(s.rgb(x, y)) {
				acc = acc.Union(image.Rect(x, y, x+1, y+1))
				rows[y]++
			}
		}
	}
	if acc.Empty() {
		return nil
	}
	under := acc.Max.Y
	for y := acc.Min.Y; y < acc.Max.Y; y++ {
		if rows[y] >= acc.Dx()*8/10 {
			under = y
			break
		}
	}
	if under-acc.Min.Y < 5 {
		return nil
	}
	band := image.Rect(0, acc.Min.Y, b.Dx(), under)
	bg := uiLum(s.background())
	ink := func(x, y int) bool { c := s.rgb(x, y); return uiIsAccent(c) || uiAbs(uiLum(c)-bg) > 60 }
	var labels []image.Rectangle
	var cur image.Rectangle
	gap := 0
	for x := band.Min.X; x < band.Max.X; x++ {
		col := image.Rectangle{}
		for y := band.Min.Y; y < band.Max.Y; y++ {
			if ink(x, y) {
				col = col.Union(image.Rect(x, y, x+1, y+1))
			}
		}
		switch {
		case !col.Empty():
			cur, gap = cur.Union(col), 0
		case !cur.Empty():
			if gap++; gap >= 8 {
				labels, cur = append(labels, cur), image.Rectangle{}
			}
		}
	}
	if !cur.Empty() {
		labels = append(labels, cur)
	}
	return labels
}

// selectedTab is the index of the accent-coloured tab label, or -1.
func (s *uiShot) selectedTab() int {
	for i, r := range s.tabLabels() {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if uiIsAccent(s.rgb(x, y)) {
					n++
				}
			}
		}
		if n > 20 {
			return i
		}
	}
	return -1
}

// buttons finds the buttons below the tabs whose left edge is at x ≥ minX, top to
// bottom: filled one-colour rectangles of a button's size (Fyne draws text and
// the pressed/hover shading on top, which leaves the rectangle connected).
func (s *uiShot) buttons(minX int) []image.Rectangle {
	b := s.img.Bounds()
	top := 0
	if l := s.tabLabels(); len(l) > 0 {
		top = l[0].Max.Y + 10
	}
	bg := s.background()
	w := b.Dx()
	seen := make([]bool, w*b.Dy())
	var out []image.Rectangle
	var stack [][2]int
	for y0 := top; y0 < b.Dy(); y0++ {
		for x0 := minX; x0 < w; x0++ {
			if seen[y0*w+x0] || s.rgb(x0, y0) == bg {
				continue
			}
			c := s.rgb(x0, y0)
			box, n := image.Rect(x0, y0, x0+1, y0+1), 0
			stack = append(stack[:0], [2]int{x0, y0})
			seen[y0*w+x0] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				n++
				box = box.Union(image.Rect(p[0], p[1], p[0]+1, p[1]+1))
				for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					x, y := p[0]+d[0], p[1]+d[1]
					if x < 0 || y < top || x >= w || y >= b.Dy() || seen[y*w+x] || s.rgb(x, y) != c {
						continue
					}
					seen[y*w+x] = true
					stack = append(stack, [2]int{x, y})
				}
			}
			if box.Dx() >= 40 && box.Dx() <= 400 && box.Dy() >= 24 && box.Dy() <= 80 && n*2 >= box.Dx()*box.Dy() && box.Min.X >= minX {
				out = append(out, box)
			}
		}
	}
	slices.SortFunc(out, func(a, b image.Rectangle) int { return a.Min.Y - b.Min.Y })
	return out
}

func uiCenter(r image.Rectangle) [2]int {
	return [2]int{(r.Min.X + r.Max.X) / 2, (r.Min.Y + r.Max.Y) / 2}
}

func uiAbs(v int) int { return max(v, -v) }
