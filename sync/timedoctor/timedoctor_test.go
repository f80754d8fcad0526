package timedoctor

import (
	"context"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

// env is a client signed in to a fresh emulator account.
type env struct {
	emu           *timedoctortest.Server
	c             *Client
	company, user string
	token         string
	sleeps        *[]time.Duration
}

// newEnv starts an emulator with one company and an admin, Ann, and a client
// for her. mod may change the client's Config.
func newEnv(t *testing.T, opts timedoctortest.Options, mod func(*Config)) *env {
	t.Helper()
	emu := timedoctortest.New(opts)
	t.Cleanup(emu.Close)
	e := &env{emu: emu, sleeps: new([]time.Duration)}
	e.company = emu.AddCompany("Acme", "Europe/Berlin")
	e.user = emu.AddUser(timedoctortest.User{Company: e.company, Role: timedoctortest.RoleAdmin, Name: "Ann",
		Email: "ann@example.com", Zone: "Europe/Berlin"})
	e.token = emu.IssueToken(e.user)
	cfg := Config{BaseURL: emu.URL + "/api/1.0", Token: e.token, Company: e.company, HTTP: emu.Client(),
		Now: emu.Clock.Now}
	cfg.Pacer.Rate = 1e6
	cfg.Pacer.Sleep = func(ctx context.Context, d time.Duration) error {
		*e.sleeps = append(*e.sleeps, d)
		return ctx.Err()
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// fixture adapts the emulator to the contract suite; FailNext and
// LoseReplyAfterWrite are the emulator's own.
type fixture struct {
	*timedoctortest.Server
	company, user string
}

func (f fixture) SeedProject(name string) string { return f.AddProject(f.company, name) }

func (f fixture) TrackTime(taskID string, start time.Time, d time.Duration) {
	f.AddWorklog(f.user, taskID, start, int(d/time.Second), timedoctortest.ModeComputer)
}

func (f fixture) ForbidCreate(forbid bool) {
	role := timedoctortest.RoleAdmin
	if forbid {
		role = timedoctortest.RoleUser
	}
	f.SetRole(f.user, f.company, role)
}

func (f fixture) ExpireAuth() { f.ExpireTokens() }

var _ connectortest.Fixture = fixture{}
var _ connector.Tracker = (*Client)(nil)

func TestContract(t *testing.T) {
	variants := []struct {
		name string
		opts timedoctortest.Options
		mod  func(*Config)
	}{
		{"DeletedFlagged", timedoctortest.Options{DeletedInLists: "flagged"}, nil},
		{"StatusArchiveCursorPages", timedoctortest.Options{TaskArchive: "status", PageMode: "cursor", MaxLimit: 50}, nil},
		{"IndexPagesHeaderBroken", timedoctortest.Options{PageMode: "index", MaxLimit: 50, HeaderAuthBroken: true,
			WorklogClip: "clip", DeletedInLists: "flagged", TaskArchive: "deleteToggle"}, nil},
		{"StatusModeClient", timedoctortest.Options{WorklogClip: "startOnly", ToInclusive: true}, func(c *Config) { c.Deactivation = "status" }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			connectortest.Run(t, connectortest.Opt{
				New: func(t *testing.T) (connector.Tracker, connectortest.Fixture) {
					e := newEnv(t, v.opts, v.mod)
					return e.c, fixture{e.emu, e.company, e.user}
				},
			})
		})
	}
}
