package timelog

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

func reg(t *testing.T, tk timelogtest.Task, elapsedID, d string, sec int64) connector.Registration {
	return connector.Registration{GUID: connector.RegistrationGUID("acme.bitrix24.com", elapsedID), TaskID: itoa(tk.TaskID),
		Day: day(t, d), Seconds: sec, Comment: "Fix login"}
}

func rowsOf(srv *timelogtest.Server, guid string) int {
	n := 0
	for _, r := range srv.Registrations() {
		if r.GUID == guid {
			n++
		}
	}
	return n
}

func TestUpsertCreateAndUpdate(t *testing.T) {
	for _, reply := range []string{timelogtest.CreateReplyEmpty, timelogtest.CreateReplyTAF} {
		t.Run(reply, func(t *testing.T) {
			e := newEnv(t, timelogtest.Options{CreateReply: reply})
			tk := e.task("Fix login", "8812")
			r := reg(t, tk, "1", "2026-06-03", 5400)
			got, err := e.c.UpsertRegistration(e.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			row, ok := e.srv.Registration(r.GUID)
			if !ok || itoa(row.TimeRegistrationID) != got.ID || got.GUID != r.GUID || got.Seconds != 5400 ||
				row.Hours != 1.5 || row.Date != "2026-06-03" || row.UserID != 29 || !row.Billable || row.BillableHours != 1.5 {
				t.Fatalf("stored %+v, returned %+v", row, got)
			}
			// Update: by integer id via update-time; LastModified advances.
			e.srv.Clock.Advance(time.Minute)
			r.Seconds, r.Comment = 7200, "Fix login, part 2"
			up, err := e.c.UpsertRegistration(e.ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			row2, _ := e.srv.Registration(r.GUID)
			if up.ID != got.ID || row2.Hours != 2 || row2.Comment != "Fix login, part 2" || !up.LastModified.After(got.LastModified) ||
				row2.Billable != row.Billable || row2.Created != row.Created {
				t.Fatalf("after update: stored %+v, returned %+v (baseline %+v)", row2, up, got)
			}
			if n := e.srv.CountRequests("POST", "/v1/time-registration/update-time"); n != 1 {
				t.Fatalf("%d update-time calls, want 1", n)
			}
			if rowsOf(e.srv, r.GUID) != 1 {
				t.Fatal("duplicate rows")
			}
		})
	}
}

// §8.18: a lost create reply leaves exactly one row, whatever the server does
// with a repeated GUID.
func TestLostReplyNoDuplicate(t *testing.T) {
	for _, dup := range []string{timelogtest.DuplicateReject422, timelogtest.DuplicateReject500, timelogtest.DuplicateNoop200} {
		for _, drop := range []bool{false, true} {
			name := dup + map[bool]string{true: "/drop", false: "/500"}[drop]
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, timelogtest.Options{DuplicateGUID: dup})
				tk := e.task("Fix login", "8812")
				r := reg(t, tk, "2", "2026-06-03", 3600)
				if drop {
					e.srv.DropReplyAfterWrite(1)
				} else {
					e.srv.LoseReplyAfterWrite(1)
				}
				got, err := e.c.UpsertRegistration(e.ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				if n := rowsOf(e.srv, r.GUID); n != 1 || got.GUID != r.GUID || got.ID == "" {
					t.Fatalf("%d rows with the GUID, returned %+v", n, got)
				}
				if n := e.srv.CountRequests("POST", "/v1/time-registration"); n != 1 {
					t.Fatalf("%d creates sent, want 1: the GUID must be resolved before a re-send", n)
				}
				// A second client (after a crash, no cache) resolves the GUID as well.
				c2, _ := New(Config{BaseURL: e.srv.URL, Token: e.srv.Token, HTTPClient: e.srv.Client()})
				if _, err := c2.UpsertRegistration(e.ctx, r); err != nil || rowsOf(e.srv, r.GUID) != 1 {
					t.Fatalf("replay by a fresh client: %v, %d rows", err, rowsOf(e.srv, r.GUID))
				}
				if n := e.srv.CountRequests("POST", "/v1/time-registration"); n != 1 {
					t.Fatalf("%d creates sent, want still 1", n)
				}
			})
		}
	}
}

// A create that failed before it was applied is sent again with the same GUID.
func TestUnappliedCreateIsResent(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Fix login", "8812")
	r := reg(t, tk, "3", "2026-06-03", 3600)
	e.srv.FailOn("POST", "/v1/time-registration", 1, 503, 0)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	var guids []string
	for _, q := range e.srv.Requests() {
		if q.Method == "POST" && strings.HasSuffix(q.Path, "/v1/time-registration") {
			var m struct{ ID string }
			_ = json.Unmarshal([]byte(q.Body), &m)
			guids = append(guids, m.ID)
		}
	}
	if len(guids) != 2 || guids[0] != r.GUID || guids[1] != r.GUID || rowsOf(e.srv, r.GUID) != 1 {
		t.Fatalf("creates %v, %d rows; want the same GUID twice, one row", guids, rowsOf(e.srv, r.GUID))
	}
}

// §8.22: closed week → ErrClosedPeriod, nothing written, other weeks land.
func TestClosedWeek(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Fix login", "8812")
	e.srv.CloseWeek(29, "2026-06-03") // week of Mon 2026-06-01
	closed := reg(t, tk, "4", "2026-06-03", 3600)
	_, err := e.c.UpsertRegistration(e.ctx, closed)
	if !errors.Is(err, connector.ErrClosedPeriod) || connector.Retryable(err) {
		t.Fatalf("err = %v, want ErrClosedPeriod", err)
	}
	if rowsOf(e.srv, closed.GUID) != 0 || e.srv.CountRequests("POST", "/v1/time-registration") != 1 {
		t.Fatal("a write landed in a closed week, or was re-sent")
	}
	open := reg(t, tk, "5", "2026-06-08", 3600)
	if _, err := e.c.UpsertRegistration(e.ctx, open); err != nil {
		t.Fatal(err)
	}
	weeks, err := e.c.ClosedWeeks(e.ctx, span(t, "2026-05-25", "2026-06-14"))
	if err != nil || len(weeks) != 1 || weeks[0].String() != "2026-06-01" {
		t.Fatalf("ClosedWeeks = %v, %v", weeks, err)
	}
	// An existing row in a week closed later: update and delete refused too.
	e.srv.CloseWeek(29, "2026-06-08")
	open.Seconds = 60
	if _, err := e.c.UpsertRegistration(e.ctx, open); !errors.Is(err, connector.ErrClosedPeriod) {
		t.Fatalf("update in a closed week: %v", err)
	}
	if err := e.c.DeleteRegistration(e.ctx, open.GUID); !errors.Is(err, connector.ErrClosedPeriod) {
		t.Fatalf("delete in a closed week: %v", err)
	}
	rs, err := e.c.Registrations(e.ctx, span(t, "2026-06-08", "2026-06-14"))
	if err != nil || len(rs) != 1 || !rs[0].Locked || rs[0].Seconds != 3600 {
		t.Fatalf("Registrations = %+v, %v; want the row locked and unchanged", rs, err)
	}
}

// §8.24: a person's edit shows in the next read (values and LastModified differ
// from the baseline); approval ≥ 6 reads as locked.
func TestPersonEditDetected(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Fix login", "8812")
	base, err := e.c.UpsertRegistration(e.ctx, reg(t, tk, "6", "2026-06-03", 3600))
	if err != nil {
		t.Fatal(err)
	}
	sp := span(t, "2026-06-01", "2026-06-07")
	rs, _ := e.c.Registrations(e.ctx, sp)
	if len(rs) != 1 || rs[0] != base {
		t.Fatalf("quiet read %+v differs from the baseline %+v", rs, base)
	}
	e.srv.Clock.Advance(10 * time.Minute)
	id := 0
	_, _ = fmtSscan(base.ID, &id)
	e.srv.EditRegistration(id, 0, func(r *timelogtest.Registration) { r.Hours = 1.25 })
	rs, _ = e.c.Registrations(e.ctx, sp)
	if len(rs) != 1 || rs[0].Seconds != 4500 || !rs[0].LastModified.After(base.LastModified) || rs[0].GUID != base.GUID {
		t.Fatalf("after the edit %+v, baseline %+v", rs, base)
	}
	e.srv.SetApproval(id, 6)
	rs, _ = e.c.Registrations(e.ctx, sp)
	if !rs[0].Locked {
		t.Fatal("approval 6 not locked")
	}
}

// §5.1: a failed page fails the whole read, so no delete is ever inferred from it.
func TestPartialReadFails(t *testing.T) {
	e := newEnv(t, timelogtest.Options{MaxPageSize: 5}, func(c *Config) { c.Pacer.MaxRetries = -1 })
	tk := e.task("Busy", "9")
	for range 12 {
		e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-02", Hours: 1})
	}
	e.srv.Fail(timelogtest.FailRule{Path: "get-by-date", Query: "$page=2", Status: 500})
	if rs, err := e.c.Registrations(e.ctx, span(t, "2026-06-01", "2026-06-07")); err == nil || rs != nil {
		t.Fatalf("Registrations after a failed page = %d rows, %v; want an error and nothing", len(rs), err)
	}
	e.srv.Fail(timelogtest.FailRule{Path: "get-by-date", Query: "$page=3", Status: 502})
	if tot, err := e.c.DayTotals(e.ctx, span(t, "2026-06-01", "2026-06-07")); err == nil {
		t.Fatalf("DayTotals after a failed page = %+v; want an error", tot)
	}
	if rs, err := e.c.Registrations(e.ctx, span(t, "2026-06-01", "2026-06-07")); err != nil || len(rs) != 12 {
		t.Fatalf("complete read: %d rows, %v", len(rs), err)
	}
}

func TestDayTotalsFiltering(t *testing.T) {
	ours := map[string]bool{}
	e := newEnv(t, timelogtest.Options{}, func(c *Config) { c.IsOurGUID = func(g string) bool { return ours[g] } })
	tk := e.task("Fix login", "8812")
	ben := e.srv.AddUser(timelogtest.User{FirstName: "Ben", LastName: "Holm", Email: "ben@example.com"})
	// A row we wrote from Bitrix24 in an earlier run (another process): the store knows the GUID.
	mine := connector.RegistrationGUID("acme.bitrix24.com", "77")
	ours[mine] = true
	e.srv.AddRegistration(timelogtest.Registration{GUID: mine, TaskID: tk.TaskID, Date: "2026-06-02", Hours: 3})
	e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-01", Hours: 1.5})                   // first day
	e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-07", Hours: 0.3428})                // last day, rounding
	e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-08", Hours: 9})                     // outside
	e.srv.AddRegistration(timelogtest.Registration{Date: "2026-06-02", Hours: 4, AbsenceCodeID: 1})                      // absence
	e.srv.AddRegistration(timelogtest.Registration{UserID: ben.UserID, TaskID: tk.TaskID, Date: "2026-06-02", Hours: 5}) // not the owner's
	e.srv.AddRegistration(timelogtest.Registration{GroupType: 2, Date: "2026-06-03", Hours: 0.5})                        // no task
	// A row this client writes now is excluded as well, without IsOurGUID.
	if _, err := e.c.UpsertRegistration(e.ctx, reg(t, tk, "78", "2026-06-04", 600)); err != nil {
		t.Fatal(err)
	}
	tot, err := e.c.DayTotals(e.ctx, span(t, "2026-06-01", "2026-06-07"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, d := range tot.Totals {
		got[d.TaskID+"@"+d.Day.String()] += d.Seconds
	}
	want := map[string]int64{itoa(tk.TaskID) + "@2026-06-01": 5400, itoa(tk.TaskID) + "@2026-06-07": 1234}
	if len(got) != len(want) || got[itoa(tk.TaskID)+"@2026-06-01"] != 5400 || got[itoa(tk.TaskID)+"@2026-06-07"] != 1234 {
		t.Fatalf("totals %v, want %v", got, want)
	}
	if tot.Unassigned != 1800 {
		t.Fatalf("Unassigned = %d, want 1800", tot.Unassigned)
	}
}

func TestHoursRounding(t *testing.T) {
	for _, tc := range []struct {
		sec      int64
		rounding string
		wantH    float64
		wantBack int64
	}{
		{5400, timelogtest.RoundNone, 1.5, 5400},
		{1234, timelogtest.RoundNone, 0.3428, 1234},
		{1, timelogtest.RoundNone, 0.0003, 1},
		{3599, timelogtest.RoundNone, 0.9997, 3599},
		{1234, timelogtest.Round2DP, 0.34, 1224},
		{1000, timelogtest.RoundQuarter, 0.25, 900},
	} {
		e := newEnv(t, timelogtest.Options{Rounding: tc.rounding})
		tk := e.task("R", "1")
		r := reg(t, tk, "r", "2026-06-03", tc.sec)
		got, err := e.c.UpsertRegistration(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		row, _ := e.srv.Registration(r.GUID)
		if row.Hours != tc.wantH || got.Seconds != tc.wantBack {
			t.Errorf("%d s, %s: stored %v h, baseline %d s; want %v h, %d s", tc.sec, tc.rounding, row.Hours, got.Seconds, tc.wantH, tc.wantBack)
		}
		// The next read equals the baseline: server rounding is no edit.
		rs, _ := e.c.Registrations(e.ctx, span(t, "2026-06-03", "2026-06-03"))
		if len(rs) != 1 || rs[0] != got {
			t.Errorf("%s: read %+v differs from baseline %+v", tc.rounding, rs, got)
		}
	}
}

// §8.26: Date is YYYY-MM-DDT00:00:00 on the wire (never Z or an offset), whatever
// the process's zone; get-by-date ranges are naive and inclusive. The test re-runs
// itself with TZ set, since time.Local cannot change safely in-process.
func TestDateOnTheWire(t *testing.T) {
	if os.Getenv("TIMELOG_TZ_CHILD") != "" {
		dateOnTheWire(t, time.Local)
		return
	}
	for _, zone := range []string{"Pacific/Kiritimati", "Pacific/Honolulu"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDateOnTheWire$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TZ="+zone, "TIMELOG_TZ_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("TZ=%s: %v\n%s", zone, err, out)
		}
	}
	dateOnTheWire(t, time.UTC)
}

func dateOnTheWire(t *testing.T, loc *time.Location) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("D", "1")
	r := reg(t, tk, "d", "2026-06-10", 3600)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Seconds = 1800
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	naiveRe := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T00:00:00$`)
	for _, q := range e.srv.Requests() {
		if q.Method == http.MethodPost && strings.Contains(q.Path, "time-registration") {
			var m struct{ Date string }
			_ = json.Unmarshal([]byte(q.Body), &m)
			if !naiveRe.MatchString(m.Date) {
				t.Errorf("%s sent Date %q", q.Path, m.Date)
			}
		}
		if strings.Contains(q.Path, "get-by-date") && (strings.Contains(q.Query, "Z") || strings.Contains(q.Query, "%2B")) {
			t.Errorf("get-by-date query %q carries a zone", q.Query)
		}
	}
	row, _ := e.srv.Registration(r.GUID)
	rs, _ := e.c.Registrations(e.ctx, connector.DaySpan{From: day(t, "2026-06-10"), To: day(t, "2026-06-10"), Zone: loc})
	if row.Date != "2026-06-10" || len(rs) != 1 || rs[0].Day.String() != "2026-06-10" || rs[0].Seconds != 1800 {
		t.Fatalf("zone %s: stored date %q, read %+v", loc, row.Date, rs)
	}
}

func TestDelete(t *testing.T) {
	for _, form := range []string{timelogtest.DeleteByBoth, timelogtest.DeleteByGUID, timelogtest.DeleteByInt} {
		t.Run(form, func(t *testing.T) {
			e := newEnv(t, timelogtest.Options{DeleteIDForm: form})
			tk := e.task("Del", "1")
			r := reg(t, tk, "del", "2026-06-03", 3600)
			if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := e.c.DeleteRegistration(e.ctx, r.GUID); err != nil {
				t.Fatal(err)
			}
			if rowsOf(e.srv, r.GUID) != 0 {
				t.Fatal("row still there")
			}
			if err := e.c.DeleteRegistration(e.ctx, r.GUID); err != nil {
				t.Fatalf("deleting a missing row: %v, want done", err)
			}
		})
	}
	// A lost delete reply: the retry's 404 means done.
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Del", "1")
	r := reg(t, tk, "del2", "2026-06-03", 3600)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	e.srv.LoseReplyAfterWrite(1)
	if err := e.c.DeleteRegistration(e.ctx, r.GUID); err != nil || rowsOf(e.srv, r.GUID) != 0 {
		t.Fatalf("lost delete reply: %v", err)
	}
}

// §8.27: an unallocated user is allocated once, then the registration lands.
func TestAllocationOnRejection(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	p := e.srv.AddProject(timelogtest.Project{Name: "P"})
	tk := e.srv.AddTask(timelogtest.Task{Name: "Unallocated [B24-3]", ProjectID: p.ProjectID})
	r := reg(t, tk, "a", "2026-06-03", 3600)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	if !e.srv.Allocated(29, tk.TaskID) || rowsOf(e.srv, r.GUID) != 1 || e.srv.CountRequests("POST", "/v1/allocation") != 1 {
		t.Fatal("want one allocation and the row")
	}
	// Refused for good (inactive task): one allocation try, then the rejection.
	tk2 := e.srv.AddTask(timelogtest.Task{Name: "Closed [B24-4]", ProjectID: p.ProjectID, Inactive: true})
	if _, err := e.c.UpsertRegistration(e.ctx, reg(t, tk2, "b", "2026-06-03", 60)); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("err = %v, want the rejection", err)
	}
}

func TestAdditionalComment(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	p := e.srv.AddProject(timelogtest.Project{Name: "P"})
	tk := e.srv.AddTask(timelogtest.Task{Name: "Needs text [B24-31]", ProjectID: p.ProjectID, AdditionalTextIsRequired: true})
	e.srv.Allocate(29, tk.TaskID)
	r := reg(t, tk, "ac", "2026-06-03", 3600)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	if row, _ := e.srv.Registration(r.GUID); row.AdditionalComment != "B24-31" {
		t.Fatalf("AdditionalComment %q", row.AdditionalComment)
	}
}

func TestUpsertAfterPersonDeleted(t *testing.T) {
	e := newEnv(t, timelogtest.Options{})
	tk := e.task("Gone", "1")
	r := reg(t, tk, "gone", "2026-06-03", 3600)
	got, err := e.c.UpsertRegistration(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	id := 0
	_, _ = fmtSscan(got.ID, &id)
	e.srv.DeleteRegistrationUI(id)
	if _, err := e.c.UpsertRegistration(e.ctx, r); err != nil || rowsOf(e.srv, r.GUID) != 1 {
		t.Fatalf("re-create after a UI delete: %v", err)
	}
}

// §8.19 without the GUID read model: rows are matched by values; two identical
// rows are reported ambiguous, never guessed.
func TestResolveWithoutGUIDRead(t *testing.T) {
	e := newEnv(t, timelogtest.Options{NoGUIDRead: true})
	tk := e.task("Fix login", "8812")
	r := reg(t, tk, "v", "2026-06-03", 3600)
	e.srv.LoseReplyAfterWrite(1)
	got, err := e.c.UpsertRegistration(e.ctx, r)
	if err != nil || rowsOf(e.srv, r.GUID) != 1 || got.ID == "" {
		t.Fatalf("lost reply without GUID read: %+v, %v", got, err)
	}
	if n := e.srv.CountRequests("POST", "/v1/time-registration"); n != 1 {
		t.Fatalf("%d creates", n)
	}
	// A fresh client facing two identical rows: ambiguous, nothing written.
	e.srv.AddRegistration(timelogtest.Registration{TaskID: tk.TaskID, Date: "2026-06-03", Hours: 1, Comment: "Fix login"})
	c2, _ := New(Config{BaseURL: e.srv.URL, Token: e.srv.Token, HTTPClient: e.srv.Client()})
	before := len(e.srv.Requests())
	if _, err := c2.UpsertRegistration(e.ctx, r); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "identical") {
		t.Fatalf("err = %v, want ambiguity", err)
	}
	for _, q := range e.srv.Requests()[before:] {
		if q.Method != http.MethodGet {
			t.Fatalf("wrote %s %s while ambiguous", q.Method, q.Path)
		}
	}
	// DayTotals still works; the store's ids keep our row out.
	c3, _ := New(Config{BaseURL: e.srv.URL, Token: e.srv.Token, HTTPClient: e.srv.Client(),
		IsOurID: func(id string) bool { return id == got.ID }, IsOurGUID: func(string) bool { return false }})
	tot, err := c3.DayTotals(e.ctx, span(t, "2026-06-01", "2026-06-07"))
	if err != nil || len(tot.Totals) != 1 || tot.Totals[0].Seconds != 3600 {
		t.Fatalf("totals %+v, %v: want only the person's hour", tot, err)
	}
}

func TestCreateReplaysBounded(t *testing.T) {
	var slept int
	e := newEnv(t, timelogtest.Options{}, func(c *Config) {
		c.Pacer.Sleep = func(ctx context.Context, d time.Duration) error { slept++; return nil }
	})
	tk := e.task("Down", "1")
	e.srv.Fail(timelogtest.FailRule{Method: "POST", Path: "/v1/time-registration", N: 100, Status: 503})
	_, err := e.c.UpsertRegistration(e.ctx, reg(t, tk, "down", "2026-06-03", 60))
	if !errors.Is(err, connector.ErrTransient) {
		t.Fatalf("err = %v, want transient", err)
	}
	if n := e.srv.CountRequests("POST", "/v1/time-registration"); n != 4 || slept != 3 || len(e.srv.Registrations()) != 0 {
		t.Fatalf("%d creates, %d pauses; want 1 + 3 replays, each after a pause and a resolve", n, slept)
	}
}
