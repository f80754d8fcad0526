package bitrix24

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
)

// C14 with latency: the client times out, the portal still commits; no blind
// retry; reconcile adopts the record.
func TestAddPastTimeoutIsNotRetried(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} })
	ctx := context.Background()
	task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me})
	m := connector.ElapsedMarker{Tracker: "timelog", Day: connector.Day{Year: 2026, Month: 1, Day: 15}}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.Latency = 300 * time.Millisecond })
	if _, err := c.AddElapsed(ctx, connector.Elapsed{TaskID: sid(task), Seconds: 60, Comment: m.Comment("x"), Day: m.Day}); !errors.Is(err, connector.ErrTransient) {
		t.Fatalf("timeout: %v", err)
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.Latency = 0 })
	e.srv.Quiesce()
	if n := e.srv.CallCount("task.elapseditem.add"); n != 1 {
		t.Fatalf("add sent %d times", n)
	}
	recs, err := c.Elapsed(ctx, []string{sid(task)})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
	if pm, ok := connector.ParseElapsedMarker(recs[0].Comment); !ok || pm != m {
		t.Fatal("marker lost")
	}
}

type snapshot struct {
	me     connector.User
	tasks  []connector.Task
	byID   []connector.Task
	recs   []connector.Elapsed
	mine   []connector.Elapsed
	addID  string
	groups []connector.Group
}

func readAll(t *testing.T, opts bitrix24test.Options) snapshot {
	t.Helper()
	e := newEnv(t, opts)
	ctx := context.Background()
	g := e.srv.AddGroup(bitrix24test.Group{Name: "G", Members: []int{e.me}})
	var tids []string
	for i := 0; i < 7; i++ {
		id := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me, GroupID: g * (i % 2), Accomplices: []int{e.other},
			Deadline: e.srv.Clock.Now().Add(time.Duration(i) * time.Hour)})
		e.srv.AddElapsedAs(e.other, id, 60*i, "c", time.Time{})
		tids = append(tids, sid(id))
	}
	e.srv.CompleteTask(e.me, 3)
	c := e.client(t, e.me)
	var s snapshot
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s.me, err = c.Me(ctx)
	must(err)
	ch, err := c.ChangedTasks(ctx, sid(e.me), time.Time{})
	must(err)
	s.tasks = ch.Tasks
	s.byID, err = c.TasksByID(ctx, append(tids, "999"))
	must(err)
	s.recs, err = c.Elapsed(ctx, tids)
	must(err)
	s.addID, err = c.AddElapsed(ctx, connector.Elapsed{TaskID: tids[0], Seconds: 60, Comment: "m"})
	must(err)
	s.mine, err = c.UserElapsed(ctx, sid(e.me), time.Time{})
	must(err)
	s.groups, err = c.Groups(ctx, []string{sid(g)})
	must(err)
	if _, _, err := c.Task(ctx, "999"); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("missing task: %v", err)
	}
	return s
}

// C17: replies whose types flip (strings ↔ numbers, [] ↔ {}, null ↔ "") decode
// exactly like the real shapes.
func TestMixedShapesDecodeAlike(t *testing.T) {
	want := readAll(t, bitrix24test.Options{})
	for seed := uint64(1); seed <= 5; seed++ {
		got := readAll(t, bitrix24test.Options{Shapes: "mixed", Seed: seed})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d:\n got %+v\nwant %+v", seed, got, want)
		}
	}
}

// C26: server +03:00, user +01:00, DST quirk and clock skew: instants match and
// the server-clock cursor misses nothing.
func TestOffsetsDSTAndSkew(t *testing.T) {
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, bitrix24test.Options{DSTQuirk: true, Start: time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)})
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.ClockSkew = 7 * time.Minute })
	ctx := context.Background()
	c := e.client(t, e.me)
	task := e.srv.AddTask(bitrix24test.Task{Title: "t", ResponsibleID: e.me, Deadline: summer})
	created := time.Date(2026, 1, 14, 12, 0, 0, 0, time.FixedZone("", 3600))
	if _, err := c.AddElapsed(ctx, connector.Elapsed{TaskID: sid(task), Seconds: 60, Comment: "x", Created: created}); err != nil {
		t.Fatal(err)
	}
	recs, err := c.Elapsed(ctx, []string{sid(task)})
	if err != nil || !recs[0].Created.Equal(created) {
		t.Fatalf("elapsed created %v (server offset) vs %v: %v", recs[0].Created, created, err)
	}
	if _, off := recs[0].Created.Zone(); off != 3*3600 {
		t.Fatalf("elapsed dates not in server offset: %v", recs[0].Created)
	}
	ch, err := c.ChangedTasks(ctx, sid(e.me), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if d := ch.Tasks[0].Deadline.Sub(summer); d != time.Hour && d != -time.Hour {
		t.Fatalf("DST quirk not visible: %v", d)
	}
	if want := e.srv.Clock.Now().Add(7 * time.Minute); !ch.Cursor.Equal(want) {
		t.Fatalf("cursor %v, want the skewed server clock %v", ch.Cursor, want)
	}
	e.srv.Clock.Advance(time.Minute)
	e.srv.RenameTask(task, "renamed")
	ch, err = c.ChangedTasks(ctx, sid(e.me), ch.Cursor)
	if err != nil || len(ch.Tasks) != 1 || ch.Tasks[0].Title != "renamed" {
		t.Fatalf("%+v %v", ch.Tasks, err)
	}
}

// L2 with real accounting: the method hits its operating limit, the client
// pauses it until operating_reset_at, other methods go on.
func TestOperatingAccounting(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{Operating: bitrix24test.Operating{Limit: 100 * time.Millisecond, CostPerCall: 50 * time.Millisecond}})
	c := e.client(t, e.me)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := c.Me(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Me(ctx); !errors.Is(err, connector.ErrRateLimited) {
		t.Fatalf("third call: %v", err)
	}
	sent := e.srv.CallCount("user.current")
	e.srv.Clock.Advance(5 * time.Minute)
	if _, err := c.Me(ctx); !errors.Is(err, connector.ErrRateLimited) || e.srv.CallCount("user.current") != sent {
		t.Fatalf("paused method was sent: %v", err)
	}
	if _, err := c.ServerTime(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.Clock.Advance(6 * time.Minute)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
