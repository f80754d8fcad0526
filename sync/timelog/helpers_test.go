package timelog

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// env is a client against a fresh emulator, with a log buffer to check redaction.
type env struct {
	srv *timelogtest.Server
	c   *Client
	log *bytes.Buffer
	ctx context.Context
}

func newEnv(t *testing.T, opts timelogtest.Options, mod ...func(*Config)) *env {
	t.Helper()
	srv := timelogtest.New(opts)
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	cfg := Config{BaseURL: srv.URL, Token: srv.Token, HTTPClient: srv.Client(), Now: srv.Clock.Now,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Pacer:  rest.PacerConfig{Rate: -1, Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return &env{srv: srv, c: c, log: &buf, ctx: ctx}
}

func day(t *testing.T, s string) connector.Day {
	t.Helper()
	d, err := connector.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func span(t *testing.T, from, to string) connector.DaySpan {
	return connector.DaySpan{From: day(t, from), To: day(t, to), Zone: time.UTC}
}

// task seeds a project and an allocated task with the marker of sourceID.
func (e *env) task(name, sourceID string) timelogtest.Task {
	p := e.srv.AddProject(timelogtest.Project{Name: "P " + sourceID})
	tk := e.srv.AddTask(timelogtest.Task{Name: connector.TaskName(name, sourceID, 0), ProjectID: p.ProjectID, IsDefaultBillable: true})
	e.srv.Allocate(e.srv.Owner.UserID, tk.TaskID)
	return tk
}
