package timedoctor

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

type classicEnv struct {
	emu     *timedoctortest.Server
	c       *Classic
	company int
	user    int
	mu      sync.Mutex
	saved   []ClassicToken
}

func newClassicEnv(t *testing.T, opts timedoctortest.Options) *classicEnv {
	t.Helper()
	emu := timedoctortest.New(opts)
	t.Cleanup(emu.Close)
	e := &classicEnv{emu: emu}
	e.company = emu.AddClassicCompany("Acme", "America/New_York")
	e.user = emu.AddClassicUser(e.company, "admin", "Ann Adams", "ann@example.com")
	access, refresh := emu.IssueClassicToken(e.user)
	c, err := NewClassic(ClassicConfig{BaseURL: emu.URL + "/v1.1", ClientID: "timebridge-classic", ClientSecret: "classic-secret",
		RedirectURI: "http://127.0.0.1:7777/callback", Token: ClassicToken{Access: access, Refresh: refresh},
		SaveToken: func(tok ClassicToken) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.saved = append(e.saved, tok)
			return nil
		},
		HTTP: emu.Client(), Now: emu.Clock.Now,
		Pacer: connectorPacer()})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

func connectorPacer() rest.PacerConfig {
	return rest.PacerConfig{Rate: 1e6, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
}

type classicFixture struct {
	*timedoctortest.Server
	company, user int
}

func (f classicFixture) SeedProject(name string) string {
	return strconv.Itoa(f.AddClassicProject(f.company, name, f.user))
}

func (f classicFixture) TrackTime(taskID string, start time.Time, d time.Duration) {
	id, _ := strconv.Atoi(taskID) // "" → 0: no task
	f.AddClassicWorklog(f.user, id, start, int(d/time.Second))
}

func (f classicFixture) ForbidCreate(forbid bool) {
	level := "admin"
	if forbid {
		level = "user"
	}
	f.SetClassicLevel(f.user, level)
	f.Configure(func(o *timedoctortest.Options) { o.ClassicNoOwnTasks = forbid })
}

func (f classicFixture) ExpireAuth() {
	f.ExpireClassicAccess()
	f.RevokeClassicRefresh()
}

func TestContractClassic(t *testing.T) {
	for _, opts := range []timedoctortest.Options{{}, {OffsetZero: true, NumbersAsNumbers: true}} {
		connectortest.Run(t, connectortest.Opt{
			New: func(t *testing.T) (connector.Tracker, connectortest.Fixture) {
				e := newClassicEnv(t, opts)
				return e.c, classicFixture{e.emu, e.company, e.user}
			},
		})
	}
}

func TestClassicCodeFlowAndRefresh(t *testing.T) {
	e := newClassicEnv(t, timedoctortest.Options{})
	e.c.cfg.HTTP = &http.Client{Transport: e.emu.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := e.c.cfg.HTTP.Get(e.c.AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("auth: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := CodeFromCallback(loc, "other"); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("forged state: %v", err)
	}
	code, err := CodeFromCallback(loc, "st4te")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.c.Exchange(bg, code)
	if err != nil || tok.Access == "" || len(e.saved) != 1 {
		t.Fatalf("exchange: %+v %v", tok, err)
	}
	if _, err := e.c.Exchange(bg, code); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("code reused: %v", err)
	}
	// Expired access → one refresh (stored first), then the call succeeds.
	e.emu.ExpireClassicAccess()
	if _, err := e.c.Me(bg); err != nil {
		t.Fatal(err)
	}
	if len(e.saved) != 2 { // exchange + refresh; the failed exchange saved nothing
		t.Fatalf("%d tokens saved, want 2", len(e.saved))
	}
	old := e.saved[0].Refresh
	q := url.Values{"client_id": {"timebridge-classic"}, "client_secret": {"classic-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {old}}
	resp, err = e.emu.Client().Get(e.emu.URL + "/oauth/v2/token?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("rotated refresh token still works: %d", resp.StatusCode)
	}
}

func TestClassicDayTotals(t *testing.T) {
	e := newClassicEnv(t, timedoctortest.Options{OffsetZero: true})
	p := e.emu.AddClassicProject(e.company, "P", e.user)
	task := e.emu.AddClassicTask(e.user, p, "T [B24-1]")
	other := e.emu.AddClassicUser(e.company, "user", "Ben", "ben@example.com")
	e.emu.AddClassicWorklog(e.user, task, time.Date(2026, 3, 28, 22, 30, 0, 0, time.UTC), 3600) // Berlin 23:30 CET
	e.emu.AddClassicWorklog(other, task, time.Date(2026, 3, 28, 22, 30, 0, 0, time.UTC), 3600)
	for i := range 300 { // more than a page
		e.emu.AddClassicWorklog(e.user, task, time.Date(2026, 3, 20, 8, 0, i, 0, time.UTC), 1)
	}
	tot, err := e.c.DayTotals(bg, span(t, "2026-03-16", "2026-03-29", "Europe/Berlin"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"2026-03-20": 300, "2026-03-28": 1800, "2026-03-29": 1800}
	if got := totalsByDay(tot, strconv.Itoa(task)); !maps.Equal(got, want) {
		t.Fatalf("totals %v, want %v", got, want)
	}
	for _, r := range e.emu.Requests() {
		if strings.HasSuffix(r.Path, "/worklogs") && (r.Query.Get("consolidated") != "0" || r.Query.Get("user_ids") != strconv.Itoa(e.user)) {
			t.Fatalf("worklog query %v", r.Query)
		}
	}
}
