package timelog

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
	"strconv"
)

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://app5.timelog.com/acme", "https://app5.timelog.com/acme/api", true},
		{"https://app5.timelog.com/acme/", "https://app5.timelog.com/acme/api", true},
		{"https://app5.timelog.com/acme/api", "https://app5.timelog.com/acme/api", true},
		{"https://app5.timelog.com/acme/api/", "https://app5.timelog.com/acme/api", true},
		{"https://app5.timelog.com/acme/api/v1", "https://app5.timelog.com/acme/api", true},
		{" https://app5.timelog.com/acme/api/v1/ ", "https://app5.timelog.com/acme/api", true},
		{"http://127.0.0.1:8080/acme/api", "http://127.0.0.1:8080/acme/api", true},
		{"http://localhost/acme", "http://localhost/acme/api", true},
		{"http://[::1]:9/acme", "http://[::1]:9/acme/api", true},
		{"http://app5.timelog.com/acme", "", false}, // https only
		{"https://app.timelog.com", "", false},      // no account
		{"https://app.timelog.com/api", "", false},  // no account
		{"ftp://app5.timelog.com/acme", "", false},
		{"app5.timelog.com/acme", "", false},
		{"https://app5.timelog.com/acme?x=1", "", false},
	} {
		got, err := NormalizeURL(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if !tc.ok && (err == nil || !errors.Is(err, connector.ErrInvalid)) {
			t.Errorf("NormalizeURL(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
		}
	}
}

func TestMeAndTokenHygiene(t *testing.T) {
	for _, form := range []string{"%s", " %s ", `"%s"`, "'%s'\n"} {
		e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.Token = strings.Replace(form, "%s", c.Token, 1) })
		me, err := e.c.Me(e.ctx)
		if err != nil {
			t.Fatalf("form %q: %v", form, err)
		}
		if me.ID != "29" || me.Email != "ann@example.com" || me.Name != "Ann Berg" {
			t.Fatalf("Me = %+v", me)
		}
		for _, r := range e.srv.Requests() {
			if r.Auth != "Bearer valid" {
				t.Fatalf("Authorization %q is not the clean bearer token", r.Auth)
			}
		}
	}
}

func TestUnauthorizedNoRetryNoLeak(t *testing.T) {
	for _, body := range []string{timelogtest.Body401JSON, timelogtest.Body401Empty, timelogtest.Body401HTML} {
		for _, how := range []string{"revoke", "expire"} {
			e := newEnv(t, timelogtest.Options{Unauthorized401Body: body})
			switch how {
			case "revoke":
				e.srv.ExpireAuth()
			case "expire":
				e.srv.Clock.Advance(3 * 365 * 24 * time.Hour)
			}
			_, err := e.c.Me(e.ctx)
			if !errors.Is(err, connector.ErrUnauthorized) || connector.Retryable(err) {
				t.Fatalf("%s/%s: err = %v, want ErrUnauthorized", body, how, err)
			}
			if n := len(e.srv.Requests()); n != 1 {
				t.Fatalf("%s/%s: %d requests, want 1 (no retry on 401)", body, how, n)
			}
			if strings.Contains(err.Error(), e.srv.Token) || strings.Contains(e.log.String(), e.srv.Token) {
				t.Fatal("the token leaked into an error or the log")
			}
		}
	}
}

func TestWrongAccountIsNotFound(t *testing.T) {
	e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.BaseURL = strings.Replace(c.BaseURL, "/acme/", "/other/", 1) })
	_, err := e.c.Me(e.ctx)
	if !errors.Is(err, connector.ErrNotFound) || errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("wrong account: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "/other/") {
		t.Fatalf("error %q does not name the URL", err)
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rule      timelogtest.FailRule
		wantErr   error
		wantSleep time.Duration // at least
	}{
		{"500 then ok", timelogtest.FailRule{Status: 500}, nil, 0},
		{"502 twice then ok", timelogtest.FailRule{Status: 502, N: 2}, nil, 0},
		{"429 with Retry-After", timelogtest.FailRule{Status: 429, RetryAfter: 5 * time.Second}, nil, 5 * time.Second},
		{"persistent 503", timelogtest.FailRule{Status: 503, N: 100}, connector.ErrTransient, 0},
		{"persistent 429", timelogtest.FailRule{Status: 429, N: 100}, connector.ErrRateLimited, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var slept time.Duration
			e := newEnv(t, timelogtest.Options{}, func(c *Config) {
				c.Pacer.Sleep = func(ctx context.Context, d time.Duration) error { slept += d; return nil }
			})
			e.srv.Fail(tc.rule)
			_, err := e.c.Me(e.ctx)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if slept < tc.wantSleep {
				t.Fatalf("slept %v, want at least %v", slept, tc.wantSleep)
			}
		})
	}
}

func TestMalformedIsTransient(t *testing.T) {
	for _, kind := range []string{timelogtest.MalformedInvalid, timelogtest.MalformedTruncated, timelogtest.MalformedHTML, timelogtest.MalformedEmpty} {
		e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.Pacer.MaxRetries = -1 })
		e.srv.Malformed(1, kind)
		_, err := e.c.Me(e.ctx)
		if !errors.Is(err, connector.ErrTransient) || !strings.Contains(err.Error(), "timelog") {
			t.Fatalf("%s: err = %v, want a transient error naming timelog", kind, err)
		}
		// With retries on, the next try succeeds.
		e2 := newEnv(t, timelogtest.Options{})
		e2.srv.Malformed(1, kind)
		if _, err := e2.c.Users(e2.ctx); err != nil {
			t.Fatalf("%s with retries: %v", kind, err)
		}
	}
}

func TestLatencyPastDeadline(t *testing.T) {
	e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.Pacer.MaxRetries = -1 })
	e.srv.SetLatency(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := e.c.Me(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Mapped", "5")
	ctx := e.ctx
	// 500 with a not-found text.
	if _, err := e.c.guid(ctx, 999999); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("unknown registration: %v, want ErrNotFound", err)
	}
	// 405 → ErrUnsupported (a bug).
	if _, err := e.c.call(ctx, request{method: http.MethodGet, path: "/v1/allocation"}); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("GET allocation: %v, want ErrUnsupported", err)
	}
	// 400 → ErrInvalid with the details.
	_, err := e.c.call(ctx, request{method: http.MethodPost, path: "/v1/allocation", body: map[string]int{}})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "must not be empty") {
		t.Errorf("empty allocation: %v, want ErrInvalid with details", err)
	}
	// Other 422 → ErrInvalid carrying the ErrorCode, not ErrClosedPeriod.
	e.srv.DeactivateTask(tk.TaskID)
	_, err = e.c.UpsertRegistration(ctx, connector.Registration{GUID: connector.RegistrationGUID("p", "1"),
		TaskID: itoa(tk.TaskID), Day: day(t, "2026-06-02"), Seconds: 3600})
	var ae *connector.APIError
	if !errors.As(err, &ae) || !errors.Is(err, connector.ErrInvalid) || ae.Code != "30030" || errors.Is(err, connector.ErrClosedPeriod) {
		t.Errorf("inactive task: %v, want ErrInvalid code 30030", err)
	}
	// 500 Code 102 with an ErrorCode → rejected, not transient.
	_, err = e.c.call(ctx, request{method: http.MethodPost, path: "/v1/allocation", body: map[string]int{"UserId": 4242, "TaskId": tk.TaskID}})
	if !errors.Is(err, connector.ErrInvalid) || connector.Retryable(err) {
		t.Errorf("unknown user allocation: %v, want ErrInvalid", err)
	}
}

func TestListsAlwaysPageLarge(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	e.task("One", "1")
	sp := span(t, "2026-06-01", "2026-06-07")
	_, _ = e.c.Users(e.ctx)
	_, _ = e.c.FindProject(e.ctx, "P 1")
	_, _ = e.c.FindTasks(e.ctx, "1")
	_, _ = e.c.DayTotals(e.ctx, sp)
	_, _ = e.c.Registrations(e.ctx, sp)
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet || strings.HasSuffix(r.Path, "/user/me") || regexp.MustCompile(`/\d+$`).MatchString(r.Path) {
			continue
		}
		n++
		if !strings.Contains(r.Query, "$pagesize=500") || !strings.Contains(r.Query, "$page=") {
			t.Errorf("list request %s?%s lacks a literal $pagesize=500", r.Path, r.Query)
		}
	}
	if n < 5 {
		t.Fatalf("only %d list requests seen", n)
	}
}

func TestPagingAllRows(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts timelogtest.Options
	}{
		{"capped pages", timelogtest.Options{MaxPageSize: 50}},
		{"bare arrays", timelogtest.Options{PlainArrayRoutes: []string{"/v1/time-tracking-item/get-by-date"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			tk := e.task("Busy", "9")
			const n = 1234
			for i := range n {
				e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: day(t, "2026-06-01").AddDays(i % 7).String(), Hours: 0.25})
			}
			tot, err := e.c.DayTotals(e.ctx, span(t, "2026-06-01", "2026-06-07"))
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, d := range tot.Totals {
				sum += d.Seconds
			}
			if sum != n*900 {
				t.Fatalf("read %d s, want %d (all %d rows)", sum, n*900, n)
			}
		})
	}
}

func TestDecodeListForms(t *testing.T) {
	for _, body := range []string{
		`{"Properties": {"TotalRecord": "2", "TotalPage": "1", "PageNumber": "1"}, "Entities": [{"Properties": {"TaskID": 1}}, {"Properties": {"TaskID": "2"}}]}`,
		`{"Properties": {"TotalRecord": 2, "TotalPage": 1, "PageNumber": 1}, "Entities": [{"Properties": {"TaskID": 1}}, {"Properties": {"TaskID": 2}}], "Links": [], "Actions": [{"Fields": []}]}`,
		`[{"TaskID": 1}, {"TaskID": 2, "Unknown": {"x": 1}}]`,
	} {
		items, _, err := decodeList[taskModel]("test", []byte(body))
		if err != nil || len(items) != 2 || items[1].TaskID != 2 {
			t.Errorf("decodeList(%s) = %+v, %v", body, items, err)
		}
	}
	for _, body := range []string{``, `{`, `<html>`, `{"Properties": {"TotalPage": "x"}}`, `{"Entities": [{"Properties": {"TaskID": "a"}}]}`} {
		if _, _, err := decodeList[taskModel]("test", []byte(body)); !errors.Is(err, connector.ErrTransient) {
			t.Errorf("decodeList(%q) error = %v, want transient", body, err)
		}
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add([]byte(`{"Properties": {"TotalPage": "1"}, "Entities": [{"Properties": {"Hours": 1.5, "Date": "2026-06-01T00:00:00"}}]}`))
	f.Add([]byte(`[{"TimeRegistrationID": "12"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, _, _ := decodeList[itemModel]("fuzz", b)
		for _, it := range items {
			_, _ = it.day()
		}
		_ = single("fuzz", b, &meModel{})
	})
}

func TestFindProject(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	e.srv.AddProject(timelogtest.Project{Name: "Website relaunch"})
	e.srv.AddProject(timelogtest.Project{Name: "Website relaunch 2"})
	mobile := e.srv.AddProject(timelogtest.Project{Name: "  Mobile App "})
	e.srv.AddProject(timelogtest.Project{Name: "Twice"})
	e.srv.AddProject(timelogtest.Project{Name: "twice"})
	e.srv.AddProject(timelogtest.Project{Name: "TWICE"})
	e.srv.AddProject(timelogtest.Project{Name: "Dup"})
	e.srv.AddProject(timelogtest.Project{Name: "Dup"})
	e.srv.AddProject(timelogtest.Project{Name: "Old", Inactive: true})
	e.srv.AddProject(timelogtest.Project{Name: "Quote", NoTimeTracking: true})
	for _, tc := range []struct {
		name, wantID string
		wantErr      error
	}{
		{"mobile app", itoa(mobile.ProjectID), nil}, // unique case-insensitive, trimmed
		{" Mobile App", itoa(mobile.ProjectID), nil},
		{"Twice", "", nil},                     // exact wins over case variants
		{"twice ", "", nil},                    // exact (trimmed)
		{"Twice?", "", connector.ErrNotFound},  // nothing
		{"tWiCe", "", connector.ErrInvalid},    // two case-insensitive matches: ambiguous
		{"Dup", "", connector.ErrInvalid},      // two exact matches
		{"Old", "", connector.ErrNotFound},     // inactive: not offered
		{"Website", "", connector.ErrNotFound}, // no prefix matching
		{"Quote", "", connector.ErrInvalid},    // time tracking not allowed
	} {
		p, err := e.c.FindProject(e.ctx, tc.name)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("FindProject(%q) = %+v, %v; want %v", tc.name, p, err, tc.wantErr)
			}
			continue
		}
		if err != nil || (tc.wantID != "" && p.ID != tc.wantID) {
			t.Errorf("FindProject(%q) = %+v, %v; want id %s", tc.name, p, err, tc.wantID)
		}
	}
}

func TestUnsupportedWithoutRequest(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	f := e.c.Features()
	if f.CreateProject || f.RenameTask || f.MoveTask || f.DeactivateTask || f.ReactivateTask || !f.CreateTask || e.c.Name() != "timelog" {
		t.Fatalf("Features = %+v, Name %q", f, e.c.Name())
	}
	_, err := e.c.CreateProject(e.ctx, "Website relaunch")
	if !errors.Is(err, connector.ErrUnsupported) || !strings.Contains(err.Error(), "'Website relaunch' in TimeLog") {
		t.Fatalf("CreateProject: %v", err)
	}
	if err := e.c.UpdateTask(e.ctx, connector.TrackerTask{ID: "1", Name: "x [B24-1]"}); !errors.Is(err, connector.ErrUnsupported) {
		t.Fatalf("UpdateTask: %v", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests, want none", n)
	}
	off := newEnv(t, timelogtest.Options{}, func(c *Config) { c.NoCreateTask = true })
	if off.c.Features().CreateTask {
		t.Fatal("NoCreateTask ignored")
	}
}

func TestCreateTaskFlow(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	p := e.srv.AddProject(timelogtest.Project{Name: "Mobile app"})
	long := strings.Repeat("é", 150)
	got, err := e.c.CreateTask(e.ctx, connector.TrackerTask{ProjectID: itoa(p.ProjectID), Name: connector.TaskName(long, "8812", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(got.Name)); n > MaxTaskName || !strings.HasSuffix(got.Name, " [B24-8812]") {
		t.Fatalf("name %q (%d runes): want ≤ %d with the marker", got.Name, n, MaxTaskName)
	}
	tasks := e.srv.Tasks()
	if len(tasks) != 1 || itoa(tasks[0].TaskID) != got.ID || !e.srv.Allocated(29, tasks[0].TaskID) {
		t.Fatalf("tasks %+v, created %+v: want one, allocated to the user", tasks, got)
	}
	var order []string
	for _, r := range e.srv.Requests() {
		order = append(order, r.Method+" "+r.Path[strings.Index(r.Path, "/v1/"):])
	}
	want := []string{"GET /v1/task", "POST /v1/task/validate-new-task", "POST /v1/task", "GET /v1/task", "GET /v1/user/me", "POST /v1/allocation"}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("requests %v, want %v", order, want)
	}
}

func TestCreateTaskRequiredFields(t *testing.T) {
	e := newEnv(t, timelogtest.Options{RequiredTaskFields: []string{"TaskName", "ProjectID", "HourlyRateID"}})
	p := e.srv.AddProject(timelogtest.Project{Name: "Mobile app"})
	_, err := e.c.CreateTask(e.ctx, connector.TrackerTask{ProjectID: itoa(p.ProjectID), Name: "x [B24-1]"})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "Hourly Rate ID") {
		t.Fatalf("err = %v, want the dry run's details", err)
	}
	if len(e.srv.Tasks()) != 0 || e.srv.CountRequests("POST", "/v1/task") != 0 {
		t.Fatal("a task was created after a failed dry run")
	}
}

func TestCreateTaskBadProject(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	_, err := e.c.CreateTask(e.ctx, connector.TrackerTask{ProjectID: "4711", Name: "x [B24-1]"})
	if !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound for an unknown project", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtSscan(s string, n *int) (int, error) {
	v, err := strconv.Atoi(s)
	*n = v
	return 1, err
}
