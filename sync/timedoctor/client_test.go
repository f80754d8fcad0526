package timedoctor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

var bg = context.Background()

func TestEveryCallSendsJWTAndCompany(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	p := e.emu.AddProject(e.company, "Website")
	if _, err := e.c.Users(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("A", "1", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-03", "UTC")); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.emu.Requests() {
		if r.Method == "POST" && r.Path == "/api/1.0/tasks" && r.Body != `{"project":{"id":"`+p+`","weight":0},"name":"A [B24-1]","description":""}` {
			t.Errorf("create body %s", r.Body)
		}
		if r.Auth != "JWT" || r.Query.Has("token") {
			t.Errorf("%s %s: auth %q, token in query %v", r.Method, r.Path, r.Auth, r.Query.Has("token"))
		}
		if r.Path != "/api/1.0/authorization" && r.Query.Get("company") != e.company {
			t.Errorf("%s %s without company=", r.Method, r.Path)
		}
	}
}

func TestHeaderRefusedFallsBackToQueryOnce(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, timedoctortest.Options{HeaderAuthBroken: true}, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for range 3 {
		if _, err := e.c.FindProject(bg, "none"); !errors.Is(err, connector.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if !e.c.QueryMode() {
		t.Fatal("client did not switch to query mode")
	}
	if got := len(e.emu.Requests()); got != 4 {
		t.Fatalf("%d requests, want 4 (one refused header call, then query mode)", got)
	}
	if strings.Contains(logs.String(), e.token) {
		t.Fatal("token in the log")
	}
}

func TestUnauthorizedStopsCalling(t *testing.T) {
	cases := []struct {
		name string
		kill func(e *env)
	}{
		{"Expired", func(e *env) { e.emu.Clock.Advance(181 * 24 * time.Hour) }},
		{"Revoked", func(e *env) { e.emu.RevokeToken(e.token) }},
		{"MidCycle", func(e *env) { e.emu.ExpireAfterCalls(1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, timedoctortest.Options{}, nil)
			tc.kill(e)
			_, err := e.c.FindProject(bg, "x")
			if tc.name == "MidCycle" {
				if !errors.Is(err, connector.ErrNotFound) {
					t.Fatalf("first call: %v", err)
				}
				_, err = e.c.FindTasks(bg, "1")
			}
			if !errors.Is(err, connector.ErrUnauthorized) {
				t.Fatalf("error %v, want ErrUnauthorized", err)
			}
			if strings.Contains(err.Error(), e.token) {
				t.Fatal("token in the error")
			}
			n := len(e.emu.Requests())
			if _, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-02", "UTC")); !errors.Is(err, connector.ErrUnauthorized) {
				t.Fatalf("next call: %v", err)
			}
			if got := len(e.emu.Requests()); got != n {
				t.Fatalf("%d more requests after ErrUnauthorized, want none", got-n)
			}
			if e.emu.Count("POST", "/api/1.0/authorization/login")+e.emu.Count("POST", "/api/1.0/login") != 0 {
				t.Fatal("the client logged in by itself")
			}
		})
	}
}

func TestExpiryKnownLocally(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, func(c *Config) { c.ExpiresAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) })
	if _, err := e.c.Me(bg); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("error %v, want ErrUnauthorized", err)
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Fatalf("%d requests with an expired token, want 0", n)
	}
}

func TestForbiddenCreate(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	p := e.emu.AddProject(e.company, "Website")
	e.emu.SetRole(e.user, e.company, timedoctortest.RoleUser)
	_, err := e.c.CreateProject(bg, "Mobile")
	if !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("CreateProject: %v, want ErrForbidden", err)
	}
	want := "Time Doctor does not let you create projects — ask an admin to allow it or create 'Mobile'"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q lacks %q", err, want)
	}
	if _, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("T", "5", 0)}); !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("CreateTask: %v, want ErrForbidden", err)
	}
	if f := e.c.Features(); f.CreateProject || f.CreateTask {
		t.Fatalf("features after 403: %+v, want create off", f)
	}
	n := len(e.emu.Requests())
	if _, err := e.c.CreateProject(bg, "Mobile"); !errors.Is(err, connector.ErrForbidden) || len(e.emu.Requests()) != n {
		t.Fatalf("second try: %v, %d requests; want ErrForbidden without a call", err, len(e.emu.Requests())-n)
	}
	// Managers may create once the company allows it; the capability returns after 24 h.
	e.emu.SetRole(e.user, e.company, timedoctortest.RoleManager)
	e.emu.Configure(func(o *timedoctortest.Options) { o.ManagersCreate = true })
	e.emu.Clock.Advance(25 * time.Hour)
	if _, err := e.c.CreateProject(bg, "Mobile"); err != nil {
		t.Fatal(err)
	}
	// An ordinary user allowed to create tasks may.
	e.emu.SetRole(e.user, e.company, timedoctortest.RoleUser)
	e.emu.Configure(func(o *timedoctortest.Options) { o.UsersCreateTasks = true })
	if _, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("T", "5", 0)}); err != nil {
		t.Fatal(err)
	}
}

func TestLostCreateReplyMakesOneTask(t *testing.T) {
	for _, mode := range []string{"500", "drop"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, timedoctortest.Options{LoseReplyMode: mode}, nil)
			p := e.emu.AddProject(e.company, "Website")
			e.emu.LoseReplyAfterWrite(1)
			got, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("Fix export", "1234", 0)})
			if err != nil {
				t.Fatalf("CreateTask after a lost reply: %v", err)
			}
			tasks := e.emu.Tasks(e.company)
			if len(tasks) != 1 || tasks[0].ID != got.ID || tasks[0].Name != "Fix export [B24-1234]" {
				t.Fatalf("emulator holds %+v, want one task %s", tasks, got.ID)
			}
			if n := e.emu.Count("POST", "/api/1.0/tasks"); n != 1 {
				t.Fatalf("%d POSTs, want 1", n)
			}
		})
	}
}

func TestLostProjectReplyMakesOneProject(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	e.emu.LoseReplyAfterWrite(1)
	p, err := e.c.CreateProject(bg, "Website")
	if err != nil {
		t.Fatal(err)
	}
	if ps := e.emu.Projects(e.company); len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("projects %+v, want one", ps)
	}
}

func TestTwoEmployeesCreateAtOnce(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{UsersCreateTasks: true}, nil)
	p := e.emu.AddProject(e.company, "Website")
	ben := e.emu.AddUser(timedoctortest.User{Company: e.company, Role: "user", Name: "Ben", Email: "ben@example.com"})
	c2, err := New(Config{BaseURL: e.emu.URL, Token: e.emu.IssueToken(ben), Company: e.company, HTTP: e.emu.Client(),
		Now: e.emu.Clock.Now, Pacer: e.c.cfg.Pacer})
	if err != nil {
		t.Fatal(err)
	}
	clients := []*Client{e.c, c2}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range clients {
		wg.Go(func() {
			// The engine looks up the marker first; both find nothing and create.
			found, err := c.FindTasks(bg, "77")
			if err == nil && len(found) == 0 {
				_, err = c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("Shared", "77", 0)})
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	a, err1 := e.c.FindTasks(bg, "77")
	b, err2 := c2.FindTasks(bg, "77")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || len(a) != len(b) || a[0].ID != b[0].ID {
		t.Fatalf("the two employees see %v and %v: the same winner first", a, b)
	}
	// A third look-up after the race creates nothing new.
	if found, _ := e.c.FindTasks(bg, "77"); len(found) != len(e.emu.Tasks(e.company)) {
		t.Fatalf("FindTasks %d, emulator %d", len(found), len(e.emu.Tasks(e.company)))
	}
}

func TestProjectMatching(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{DeletedInLists: "flagged"}, nil)
	web := e.emu.AddProject(e.company, "Website")
	e.emu.AddProject(e.company, "website ") // case-insensitive twin, exact wins
	e.emu.AddProject(e.company, "Mobile")
	e.emu.AddProject(e.company, "MOBILE")
	old := e.emu.AddProject(e.company, "Old")
	e.emu.DeleteProject(old, true)
	if p, err := e.c.FindProject(bg, " Website "); err != nil || p.ID != web {
		t.Fatalf("exact: %+v %v", p, err)
	}
	if _, err := e.c.FindProject(bg, "mobile"); !errors.Is(err, ErrAmbiguous) || !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("ambiguous: %v", err)
	}
	if _, err := e.c.FindProject(bg, "Old"); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "archived") {
		t.Fatalf("archived: %v", err)
	}
	e.emu.Configure(func(o *timedoctortest.Options) { o.DuplicateProjectName = "409" })
	if p, err := e.c.CreateProject(bg, "Website"); err != nil || p.ID != web {
		t.Fatalf("409 → link existing: %+v %v", p, err)
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	e.emu.AddUser(timedoctortest.User{Company: e.company, Name: "Ann AU", Email: "ann@example.com.au", Zone: "Costa Rica"})
	e.emu.AddUser(timedoctortest.User{Company: e.company, Name: "Gone", Email: "gone@example.com", Archived: true})
	users, err := e.c.Users(bg)
	if err != nil || len(users) != 2 {
		t.Fatalf("Users = %+v, %v; want Ann and Ann AU", users, err)
	}
	for _, u := range users {
		if u.Email == "ann@example.com" && u.TimeZone != "Europe/Berlin" || u.Email == "ann@example.com.au" && u.TimeZone != "" {
			t.Fatalf("zones: %+v", users)
		}
	}
	for _, mode := range []string{"prefix", "exact", "ignored"} {
		e.emu.Configure(func(o *timedoctortest.Options) { o.EmailFilter = mode })
		if u, err := e.c.UserByEmail(bg, "ANN@example.com"); err != nil || u.ID != e.user {
			t.Fatalf("%s: %+v %v", mode, u, err)
		}
		if _, err := e.c.UserByEmail(bg, "gone@example.com"); !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("%s archived: %v", mode, err)
		}
	}
	e.emu.Configure(func(o *timedoctortest.Options) { o.UsersListForbidden = "everyone" })
	users, err = e.c.Users(bg)
	if err != nil || len(users) != 1 || users[0].ID != e.user {
		t.Fatalf("forbidden list: %+v %v; want self only", users, err)
	}
}

func TestMoveIgnoredIsUnsupported(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{MoveTask: "ignored"}, nil)
	a, b := e.emu.AddProject(e.company, "A"), e.emu.AddProject(e.company, "B")
	task, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: a, Name: connector.TaskName("M", "9", 0)})
	if err != nil {
		t.Fatal(err)
	}
	task.ProjectID = b
	if err := e.c.UpdateTask(bg, task); !errors.Is(err, connector.ErrUnsupported) {
		t.Fatalf("ignored move: %v, want ErrUnsupported", err)
	}
}

func TestDeactivationModes(t *testing.T) {
	for _, mode := range []string{"both", "deleteToggle", "status"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, timedoctortest.Options{TaskArchive: mode}, nil)
			p := e.emu.AddProject(e.company, "A")
			task, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("D", "9", 0)})
			if err != nil {
				t.Fatal(err)
			}
			task.Active = false
			for range 2 {
				if err := e.c.UpdateTask(bg, task); err != nil {
					t.Fatal(err)
				}
			}
			st := e.emu.Tasks(e.company)[0]
			if !st.Deleted && st.Status != "closed" {
				t.Fatalf("task still active: %+v", st)
			}
			if n := e.emu.Count("DELETE", "/api/1.0/tasks"); n > 1 {
				t.Fatalf("%d DELETEs, want at most one (it toggles)", n)
			}
			task.Active = true
			if err := e.c.UpdateTask(bg, task); err != nil {
				t.Fatal(err)
			}
			if st := e.emu.Tasks(e.company)[0]; st.Deleted || st.Status != "open" {
				t.Fatalf("task not reactivated: %+v", st)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	e.emu.AddProject(e.company, "P")
	find := func() error { _, err := e.c.FindProject(bg, "P"); return err }

	e.emu.FailNext(2, 503)
	if err := find(); err != nil {
		t.Fatalf("503 twice then 200: %v", err)
	}
	e.emu.ResetRequests()
	e.emu.FailNext(5, 502)
	if err := find(); !errors.Is(err, connector.ErrTransient) || len(e.emu.Requests()) != 3 {
		t.Fatalf("persistent 502: %v after %d attempts; want transient after 3", err, len(e.emu.Requests()))
	}

	for _, ra := range []string{"2", "absent", "date"} {
		e = newEnv(t, timedoctortest.Options{RetryAfter: ra}, nil)
		e.emu.AddProject(e.company, "P")
		e.emu.FailNext(1, 429)
		if _, err := e.c.FindProject(bg, "P"); err != nil {
			t.Fatalf("Retry-After %s: %v", ra, err)
		}
		if len(*e.sleeps) != 1 || (*e.sleeps)[0] < time.Second || (*e.sleeps)[0] > 6*time.Second {
			t.Fatalf("Retry-After %s: slept %v", ra, *e.sleeps)
		}
	}
	e = newEnv(t, timedoctortest.Options{RetryAfter: "120"}, nil)
	e.emu.FailNext(1, 429)
	if _, err := e.c.FindProject(bg, "P"); !errors.Is(err, connector.ErrRateLimited) || len(*e.sleeps) != 0 {
		t.Fatalf("Retry-After 120: %v, slept %v; want ErrRateLimited at once", err, *e.sleeps)
	}
}

func TestBrokenReplies(t *testing.T) {
	for _, kind := range []string{"invalid", "truncated", "html", "empty", "error200"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, timedoctortest.Options{}, nil)
			e.emu.AddProject(e.company, "P")
			rule := timedoctortest.Rule{Path: "/api/1.0/projects"}
			if kind == "error200" {
				e.emu.Error200(rule, 3, "internalError")
			} else {
				e.emu.Malformed(rule, 3, kind)
			}
			_, err := e.c.FindProject(bg, "P")
			if !errors.Is(err, connector.ErrTransient) || !strings.Contains(err.Error(), "timedoctor") {
				t.Fatalf("error %v, want a transient error naming timedoctor", err)
			}
			if _, err := e.c.FindProject(bg, "P"); err != nil {
				t.Fatalf("next call: %v", err)
			}
		})
	}
}

func TestLatencyPastTimeout(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, func(c *Config) { c.Timeout = 20 * time.Millisecond; c.Pacer.MaxRetries = -1 })
	p := e.emu.AddProject(e.company, "P")
	e.emu.SetLatency(200*time.Millisecond, timedoctortest.Rule{})
	_, err := e.c.CreateTask(bg, connector.TrackerTask{ProjectID: p, Name: connector.TaskName("Slow", "3", 0)})
	if err == nil {
		t.Fatal("no error past the timeout")
	}
	e.emu.SetLatency(0, timedoctortest.Rule{})
	if tasks := e.emu.Tasks(e.company); len(tasks) != 0 {
		t.Fatalf("a timed-out create was applied: %+v", tasks)
	}
}

func TestNoAPIAccess(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{NoAPIAccess: true}, nil)
	_, err := e.c.Me(bg)
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "Premium") {
		t.Fatalf("error %v, want TD's message", err)
	}
	if n := len(e.emu.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}
