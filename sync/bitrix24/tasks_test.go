package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
)

func ids(ts []connector.Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// C20: every kind of change shows up, the cursor is the server clock, a quiet
// cycle costs one call; C21: a deleted task is ErrNotFound.
func TestChangeDetection(t *testing.T) {
	for _, sub := range []string{"accept", "reject", "ignore"} {
		t.Run(sub, func(t *testing.T) {
			e := newEnv(t, bitrix24test.Options{RoleSubfilter: sub})
			ctx := context.Background()
			c := e.client(t, e.me)
			g1 := e.srv.AddGroup(bitrix24test.Group{Name: "Alpha", Members: []int{e.me}})
			g2 := e.srv.AddGroup(bitrix24test.Group{Name: "Beta", Members: []int{e.me}})
			t1 := e.srv.AddTask(bitrix24test.Task{Title: "Mine", ResponsibleID: e.me, GroupID: g1, CreatedBy: e.other})
			t2 := e.srv.AddTask(bitrix24test.Task{Title: "Shared", ResponsibleID: e.other, Accomplices: []int{e.me}, Auditors: []int{e.me}, TaskControl: true, CreatedBy: e.other})
			e.srv.AddTask(bitrix24test.Task{Title: "Foreign", ResponsibleID: e.other, Accomplices: []int{e.admin}})
			e.srv.Clock.Advance(10 * time.Minute)
			ch, err := c.ChangedTasks(ctx, sid(e.me), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(ch.Tasks); !slices.Equal(got, []string{sid(t1), sid(t2)}) {
				t.Fatalf("full: %v", got)
			}
			if ch.Tasks[0].GroupID != sid(g1) || ch.Tasks[1].Accomplices[0] != sid(e.me) || !ch.Cursor.Equal(e.srv.Clock.Now()) {
				t.Fatalf("full: %+v cursor %v", ch.Tasks, ch.Cursor)
			}
			if _, off := ch.Cursor.Zone(); off != 3*3600 {
				t.Fatalf("cursor not in server offset: %v", ch.Cursor)
			}
			poll := func(name string, want ...int) []connector.Task {
				t.Helper()
				e.srv.Clock.Advance(15 * time.Minute)
				e.srv.ResetCalls()
				ch, err = c.ChangedTasks(ctx, sid(e.me), ch.Cursor)
				if err != nil {
					t.Fatal(err)
				}
				var w []string
				for _, id := range want {
					w = append(w, sid(id))
				}
				if got := ids(ch.Tasks); !slices.Equal(got, w) {
					t.Fatalf("%s: got %v, want %v", name, got, w)
				}
				return ch.Tasks
			}
			poll("quiet")
			if n, want := e.srv.CallCount("tasks.task.list"), map[bool]int{true: 2, false: 1}[sub == "reject"]; n != want {
				t.Fatalf("quiet cycle: %d calls, want %d", n, want)
			}
			e.srv.Clock.Advance(time.Minute)
			t3 := e.srv.AddTask(bitrix24test.Task{Title: "New", ResponsibleID: e.me})
			poll("new", t3)
			e.srv.RenameTask(t1, "Mine renamed")
			if got := poll("edited", t1); got[0].Title != "Mine renamed" {
				t.Fatal(got)
			}
			e.srv.CompleteTask(e.me, t2) // under control, not the creator → 4
			if got := poll("supposedly completed", t2); got[0].Status != 4 || !got[0].Completed {
				t.Fatal(got)
			}
			e.srv.CompleteTask(e.me, t1)
			if got := poll("completed", t1); got[0].Status != 5 || !got[0].Completed {
				t.Fatal(got)
			}
			e.srv.RenewTask(e.me, t1)
			if got := poll("renewed", t1); got[0].Completed {
				t.Fatal(got)
			}
			e.srv.MoveTask(t1, g2)
			if got := poll("moved", t1); got[0].GroupID != sid(g2) {
				t.Fatal(got)
			}
			groups, err := c.Groups(ctx, []string{sid(g1), sid(g2), "999"})
			if err != nil || len(groups) != 2 || groups[1].Name != "Beta" {
				t.Fatalf("groups %v %v", groups, err)
			}
			// Accomplice removed: gone from the poll, present in TasksByID without the user.
			e.srv.RemoveMember(t2, e.me)
			poll("accomplice removed")
			byID, err := c.TasksByID(ctx, []string{sid(t1), sid(t2), sid(t3)})
			if err != nil || len(byID) != 3 || byID[1].HasMember(sid(e.me)) {
				t.Fatalf("by id: %+v %v", byID, err)
			}
			e.srv.DeleteTask(t3)
			poll("deleted")
			byID, _ = c.TasksByID(ctx, []string{sid(t1), sid(t3)})
			if got := ids(byID); !slices.Equal(got, []string{sid(t1)}) {
				t.Fatalf("deleted still listed: %v", got)
			}
			if _, _, err := c.Task(ctx, sid(t3)); !errors.Is(err, connector.ErrNotFound) {
				t.Fatalf("C21: %v", err)
			}
			e.srv.RestoreTask(t3)
			poll("restored", t3)
			if _, canLog, err := c.Task(ctx, sid(t3)); err != nil || !canLog {
				t.Fatalf("restored task: %v %v", canLog, err)
			}
		})
	}
}

// C26-ish: the cursor overlap and offsets: a change 4 minutes before the cursor
// in another offset is still found.
func TestCursorOverlapAcrossOffsets(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	ch, err := c.ChangedTasks(context.Background(), sid(e.me), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.AddTask(bitrix24test.Task{Title: "late commit", ResponsibleID: e.me, Created: e.srv.Clock.Now().Add(-4 * time.Minute)})
	ch, err = c.ChangedTasks(context.Background(), sid(e.me), ch.Cursor.In(time.FixedZone("", -5*3600)))
	if err != nil || len(ch.Tasks) != 1 {
		t.Fatalf("%v %v", ch.Tasks, err)
	}
}

// C15: 1,570 tasks while rows move between offset pages: the cursor sees each once.
func TestPagingWithShiftingRows(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{BucketBurst: 1000})
	for i := 0; i < 1570; i++ {
		e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me})
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.ShiftBetweenPages = true })
	ch, err := e.client(t, e.me).ChangedTasks(context.Background(), sid(e.me), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tk := range ch.Tasks {
		if seen[tk.ID] {
			t.Fatalf("duplicate %s", tk.ID)
		}
		seen[tk.ID] = true
	}
	if len(seen) != 1570 {
		t.Fatalf("%d tasks", len(seen))
	}
	for _, call := range e.srv.Calls() {
		if strings.Contains(call.Body, `"start":0`) || strings.Contains(call.Body, `"start":50`) {
			t.Fatalf("offset paging: %s", call.Body)
		}
	}
}

// batchSizes returns the number of commands in each recorded batch request.
func batchSizes(srv *bitrix24test.Server) []int {
	var out []int
	for _, c := range srv.Calls() {
		if c.Method != "batch" {
			continue
		}
		var b struct {
			Cmd map[string]string `json:"cmd"`
		}
		_ = json.Unmarshal([]byte(c.Body), &b)
		out = append(out, len(b.Cmd))
	}
	return out
}

// C16: 120 commands go as 50/50/20; per-key errors; empty maps.
func TestBatchChunks(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	var uids []string
	for i := 0; i < 117; i++ {
		uids = append(uids, sid(e.srv.AddUser(bitrix24test.User{Name: "u"})))
	}
	uids = append(uids, sid(e.me), sid(e.other), "9999")
	users, err := c.Users(context.Background(), uids)
	if err != nil || len(users) != 119 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if got := batchSizes(e.srv); !slices.Equal(got, []int{50, 50, 20}) {
		t.Fatalf("batch sizes %v", got)
	}
	// Elapsed over 120 tasks, one deleted: the others' records, a per-task error.
	e.srv.ResetCalls()
	var tids []string
	for i := 0; i < 120; i++ {
		id := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me})
		if i%10 == 0 {
			e.srv.AddElapsedAs(e.other, id, 60, "typed", time.Time{})
		}
		tids = append(tids, sid(id))
	}
	e.srv.DeleteTask(120 + 0) // some task id that exists
	recs, err := c.Elapsed(context.Background(), tids)
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, connector.ErrNotFound) || len(be.Errs) != 1 || len(recs) != 12 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if got := batchSizes(e.srv); !slices.Equal(got, []int{50, 50, 20}) {
		t.Fatalf("elapsed batch sizes %v", got)
	}
	if n := e.srv.CallCount("batch"); n != 3 {
		t.Fatalf("%d batches: a batch was retried", n)
	}
}

// C24: many records on one task are paged with NAV_PARAMS, never start.
func TestElapsedPaging(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me, Accomplices: []int{e.other}})
	for i := 0; i < 120; i++ {
		e.srv.AddElapsedAs(e.other, task, 60, "", time.Time{})
	}
	recs, err := c.Elapsed(context.Background(), []string{sid(task)})
	if err != nil || len(recs) != 120 {
		t.Fatalf("%d %v", len(recs), err)
	}
	for _, call := range e.srv.Calls() {
		if !strings.Contains(call.Body, "iNumPage") || strings.Contains(call.Body, "start%3D") {
			t.Fatalf("paging: %s", call.Body)
		}
	}
}

// C22: add body is positional, no query, numeric offset, no USER_ID; int id stored.
func TestAddElapsedBody(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me})
	m := connector.ElapsedMarker{Tracker: "timelog", Day: connector.Day{Year: 2026, Month: 1, Day: 14}}
	created := time.Date(2026, 1, 14, 12, 0, 0, 0, time.FixedZone("", 3600))
	id, err := c.AddElapsed(context.Background(), connector.Elapsed{TaskID: sid(task), Seconds: 900, Comment: m.Comment("work"), Created: created})
	if err != nil {
		t.Fatal(err)
	}
	var add bitrix24test.Call
	for _, call := range e.srv.Calls() {
		if call.Method == "task.elapseditem.add" {
			add = call
		}
	}
	if add.Query != "" || !strings.HasPrefix(add.Body, `{"TASKID":`+sid(task)+`,"ARFIELDS":{"SECONDS":900,`) ||
		strings.Contains(add.Body, "USER_ID") || !strings.Contains(add.Body, `"CREATED_DATE":"2026-01-14T12:00:00+01:00"`) ||
		!strings.Contains(add.Body, `},"auth":"`) {
		t.Fatalf("body %s query %q", add.Body, add.Query)
	}
	recs := e.srv.ElapsedOf(task)
	if len(recs) != 1 || sid(recs[0].ID) != id || recs[0].UserID != e.me || !recs[0].Created.Equal(created) {
		t.Fatalf("%+v", recs)
	}
	got, err := c.Elapsed(context.Background(), []string{sid(task)})
	if err != nil || len(got) != 1 || !got[0].Created.Equal(created) || got[0].UserID != sid(e.me) {
		t.Fatalf("%+v %v", got, err)
	}
	if pm, ok := connector.ParseElapsedMarker(got[0].Comment); !ok || pm != m {
		t.Fatalf("marker %q", got[0].Comment)
	}
}

// C14: the add committed but the reply was lost: no blind retry; reconcile finds
// the marker; exactly one record.
func TestLostReplyOnAdd(t *testing.T) {
	for _, mode := range []string{"500", "html", "drop"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, bitrix24test.Options{})
			c := e.client(t, e.me)
			ctx := context.Background()
			task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me})
			m := connector.ElapsedMarker{Tracker: "timedoctor", Day: connector.Day{Year: 2026, Month: 1, Day: 15}}
			rec := connector.Elapsed{TaskID: sid(task), Seconds: 1800, Comment: m.Comment(""), Day: m.Day}
			e.srv.SetFaults(func(f *bitrix24test.Faults) {
				f.CommitThenFail = bitrix24test.CommitThenFail{Method: "task.elapseditem.add", N: 1, Mode: mode}
			})
			if _, err := c.AddElapsed(ctx, rec); !errors.Is(err, connector.ErrTransient) {
				t.Fatalf("lost reply: %v", err)
			}
			if n := e.srv.CallCount("task.elapseditem.add"); n != 1 {
				t.Fatalf("add sent %d times", n)
			}
			// Reconcile as the engine does (spec §3.8 step 4).
			day := m.Day.Start(time.UTC)
			found, err := c.ElapsedOfUser(ctx, sid(task), sid(e.me), day.AddDate(0, 0, -1), day.AddDate(0, 0, 2))
			if err != nil {
				t.Fatal(err)
			}
			adopted := ""
			for _, f := range found {
				if pm, ok := connector.ParseElapsedMarker(f.Comment); ok && pm == m {
					adopted = f.ID
				}
			}
			if adopted == "" {
				if _, err := c.AddElapsed(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(e.srv.ElapsedOf(task)); n != 1 {
				t.Fatalf("%d records", n)
			}
		})
	}
}

// C23, C25: own update/delete; foreign records and tasks are refused and typed.
func TestElapsedRights(t *testing.T) {
	for _, missing := range []string{"ACTION_NOT_ALLOWED", "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE"} {
		e := newEnv(t, bitrix24test.Options{MissingTaskOnAdd: missing})
		ctx := context.Background()
		c := e.client(t, e.me)
		task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me, Accomplices: []int{e.other}})
		foreignTask := e.srv.AddTask(bitrix24test.Task{Title: "f", ResponsibleID: e.other, Auditors: []int{e.me}})
		id, err := c.AddElapsed(ctx, connector.Elapsed{TaskID: sid(task), Seconds: 600, Comment: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.UpdateElapsed(ctx, connector.Elapsed{TaskID: sid(task), ID: id, Seconds: 1200, Comment: "b"}); err != nil {
			t.Fatal(err)
		}
		if r := e.srv.ElapsedOf(task); r[0].Seconds != 1200 || r[0].Comment != "b" {
			t.Fatalf("%+v", r)
		}
		theirs := e.srv.AddElapsedAs(e.other, task, 60, "theirs", time.Time{})
		if err := c.UpdateElapsed(ctx, connector.Elapsed{TaskID: sid(task), ID: sid(theirs), Seconds: 1}); !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("non-owner update: %v", err)
		}
		if err := c.DeleteElapsed(ctx, sid(task), sid(theirs)); !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("non-owner delete: %v", err)
		}
		if _, err := c.AddElapsed(ctx, connector.Elapsed{TaskID: sid(foreignTask), Seconds: 60}); !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("add without rights: %v", err)
		}
		e.srv.DeleteTask(foreignTask)
		want := map[string]error{"ACTION_NOT_ALLOWED": connector.ErrForbidden, "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE": connector.ErrNotFound}[missing]
		if _, err := c.AddElapsed(ctx, connector.Elapsed{TaskID: sid(foreignTask), Seconds: 60}); !errors.Is(err, want) {
			t.Fatalf("add on a deleted task (%s): %v", missing, err)
		}
		// C25: a person edits our record; the next read shows it, so the engine sees the conflict.
		if err := e.srv.EditElapsedAs(e.admin, mustInt(id), 300, "fixed by admin"); err != nil {
			t.Fatal(err)
		}
		recs, err := c.Elapsed(ctx, []string{sid(task)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.ID == id && (r.Seconds != 300 || r.Comment != "fixed by admin") {
				t.Fatalf("edit not visible: %+v", r)
			}
		}
		if err := c.DeleteElapsed(ctx, sid(task), id); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteElapsed(ctx, sid(task), id); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if len(e.srv.ElapsedOf(task)) != 1 {
			t.Fatal("delete did not delete")
		}
	}
}

func mustInt(s string) int {
	n, _ := idNum(s)
	return int(n)
}

// BenchmarkListTasksAndElapsed lists 1,000 tasks of the user and all their
// elapsed records against the emulator and reports the requests used. The
// minimum with batch is 41: 21 tasks.task.list pages (>ID cursor, 50 per page,
// the last one short) + 20 batches of 50 task.elapseditem.getlist commands
// (every task here has fewer than 50 records, so one page each).
func BenchmarkListTasksAndElapsed(b *testing.B) {
	srv := bitrix24test.New(bitrix24test.Options{BucketBurst: 1 << 30})
	defer srv.Close()
	me := srv.AddUser(bitrix24test.User{Name: "Me", Email: "me@example.com"})
	for i := 0; i < 1000; i++ {
		id := srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: me})
		if i%3 == 0 {
			srv.AddElapsedAs(me, id, 600, "x", time.Time{})
		}
	}
	p := srv.IssueToken(me)
	c, err := New(Config{BaseURL: srv.URL, Token: Token{AccessToken: p.Access, RefreshToken: p.Refresh}, HTTPClient: srv.Client(), Rate: -1, Now: srv.Clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var requests int
	for b.Loop() {
		srv.ResetCalls()
		ch, err := c.ChangedTasks(ctx, sid(me), time.Time{})
		if err != nil || len(ch.Tasks) != 1000 {
			b.Fatalf("%d %v", len(ch.Tasks), err)
		}
		recs, err := c.Elapsed(ctx, ids(ch.Tasks))
		if err != nil || len(recs) != 334 {
			b.Fatalf("%d %v", len(recs), err)
		}
		requests = srv.CallCount("")
	}
	b.ReportMetric(float64(requests), "requests/op")
}
