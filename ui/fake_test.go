package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/timebridge/timebridge/sync/engine"
)

// fakeBackend records every call as one line, e.g. "Retry(p2)".
type fakeBackend struct {
	mu      sync.Mutex
	calls   []string
	watcher engine.Watcher
	err     error // returned by Resolve, Authorize and SignOut
	// authorize, when set, replaces Authorize's body (e.g. to block until ctx ends).
	authorize func(ctx context.Context, service string) error
	// signIn, when set, replaces SignIn's body; else SignIn returns err.
	signIn func(ctx context.Context, service string, c Credentials) error
	// setSetting, when set, replaces SetSetting's body; else it saves into settings.
	setSetting func(key, value string) error

	settings      []Setting
	normalise     map[string]string // SetSetting stores normalise[value] instead, when set
	zoneWarning   string
	journal       []engine.JournalEntry
	notifications bool
}

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) Watch() engine.Watcher { f.record("Watch()"); return f.watcher }
func (f *fakeBackend) SyncNow()              { f.record("SyncNow()") }
func (f *fakeBackend) Pause(d time.Duration) { f.record("Pause(%v)", d) }
func (f *fakeBackend) Resume()               { f.record("Resume()") }
func (f *fakeBackend) Retry(key string)      { f.record("Retry(%s)", key) }
func (f *fakeBackend) LogDir() string        { f.record("LogDir()"); return "/tmp/timebridge-logs" }
func (f *fakeBackend) SignOut(_ context.Context, s string) error {
	f.record("SignOut(%s)", s)
	return f.err
}

func (f *fakeBackend) Resolve(key string, keep bool) error {
	f.record("Resolve(%s, %v)", key, keep)
	return f.err
}

func (f *fakeBackend) Authorize(ctx context.Context, s string) error {
	f.record("Authorize(%s)", s)
	if f.authorize != nil {
		return f.authorize(ctx, s)
	}
	return f.err
}

// SignIn records the credentials with the secrets masked: "SignIn(timedoctor,
// email=ann@acme.com password=*** totp=123456)".
func (f *fakeBackend) SignIn(ctx context.Context, s string, c Credentials) error {
	var parts []string
	for _, kv := range []struct{ k, v string }{{"email", c.Email}, {"password", c.Password}, {"totp", c.TOTP},
		{"token", c.Token}, {"webhook", c.Webhook}} {
		if kv.v == "" {
			continue
		}
		if kv.k == "password" || kv.k == "token" {
			kv.v = "***" + kv.v[len(kv.v)-min(2, len(kv.v)):]
		}
		parts = append(parts, kv.k+"="+kv.v)
	}
	f.record("SignIn(%s, %s)", s, strings.Join(parts, " "))
	if f.signIn != nil {
		return f.signIn(ctx, s, c)
	}
	return f.err
}

func (f *fakeBackend) Settings() []Setting {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Setting(nil), f.settings...)
}

func (f *fakeBackend) SetSetting(key, value string) error {
	f.record("SetSetting(%s, %s)", key, value)
	if f.setSetting != nil {
		if err := f.setSetting(key, value); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.normalise[value]; ok {
		value = n
	}
	for i := range f.settings {
		if f.settings[i].Key == key {
			f.settings[i].Value = value
		}
	}
	return nil
}

func (f *fakeBackend) ZoneWarning() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.zoneWarning
}

func (f *fakeBackend) Journal(limit int) []engine.JournalEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.JournalEntry(nil), f.journal[:min(limit, len(f.journal))]...)
}

func (f *fakeBackend) NotificationsEnabled() bool { return f.notifications }

// fakeWatcher hands out the given snapshots in order, then ends like a cancelled
// context.
type fakeWatcher struct {
	mu    sync.Mutex
	snaps []engine.Status
}

func (w *fakeWatcher) Next(ctx context.Context) (engine.Status, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.snaps) == 0 || ctx.Err() != nil {
		return engine.Status{}, context.Canceled
	}
	st := w.snaps[0]
	w.snaps = w.snaps[1:]
	return st, nil
}

// fakeTray records what the bridge set.
type fakeTray struct {
	menus    []*fyne.Menu
	icons    []fyne.Resource
	tooltips []string
}

func (t *fakeTray) SetSystemTrayMenu(m *fyne.Menu)    { t.menus = append(t.menus, m) }
func (t *fakeTray) SetSystemTrayIcon(r fyne.Resource) { t.icons = append(t.icons, r) }
func (t *fakeTray) SetTooltip(s string)               { t.tooltips = append(t.tooltips, s) }

// Fixed clock for every UI test: Tuesday 1 Dec 2026, 11:00 in Berlin.
var (
	berlin  = mustZone("Europe/Berlin")
	testNow = time.Date(2026, 12, 1, 11, 0, 0, 0, berlin)
)

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

// newTestView builds a view on a fresh test app; Backend calls that may block run
// inline unless async is given.
func newTestView(t *testing.T, b Backend, tray trayHost) *view {
	t.Helper()
	test.NewTempApp(t)
	return newView(t.Context(), viewConfig{
		backend: b,
		now:     func() time.Time { return testNow },
		async:   func(f func()) { f() },
		tray:    tray,
	})
}

// show puts content in a test window big enough for lists to lay out their rows.
func show(t *testing.T, content fyne.CanvasObject) fyne.Window {
	t.Helper()
	w := test.NewTempWindow(t, content)
	w.Resize(fyne.NewSize(900, 700))
	return w
}

// walk visits o and everything below it, through the widgets' live renderers.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch c := o.(type) {
	case fyne.Widget:
		for _, ch := range test.WidgetRenderer(c).Objects() {
			walk(ch, fn)
		}
	case *fyne.Container:
		for _, ch := range c.Objects {
			walk(ch, fn)
		}
	}
}

// buttons returns the visible buttons labelled text, in layout order.
func buttons(root fyne.CanvasObject, text string) []*widget.Button {
	var out []*widget.Button
	walk(root, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			out = append(out, b)
		}
	})
	return out
}

// texts joins the text of every visible label below root.
func texts(root fyne.CanvasObject) string {
	var out []string
	walk(root, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text != "" {
			out = append(out, l.Text)
		}
	})
	return strings.Join(out, "\n")
}

func wantCalls(t *testing.T, b *fakeBackend, want ...string) {
	t.Helper()
	got := b.Calls()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("backend calls = %q, want %q", got, want)
	}
}
