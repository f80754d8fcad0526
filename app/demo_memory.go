package app

import (
	"context"
	"fmt"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
)

// memoryDemo is the demo on the in-memory reference services.
type memoryDemo struct {
	now  func() time.Time
	src  *connectortest.MemorySource
	td   *connectortest.Memory
	tl   *connectortest.Memory
	zone *time.Location
}

const demoUser = "1"

func newDemoWorld(now func() time.Time) (demoWorld, error) {
	d := &memoryDemo{now: now, zone: time.Local}
	d.src = connectortest.NewMemorySource("demo.bitrix24.com", now)
	people := []connector.User{
		{ID: "1", Name: "Ann Example", Email: "ann@example.com", TimeZone: time.Local.String()},
		{ID: "2", Name: "Ben Example", Email: "ben@example.com"},
		{ID: "3", Name: "Cara Example", Email: "cara@example.com"},
	}
	for _, p := range people {
		d.src.AddUser(p)
	}
	d.src.AddGroup(connector.Group{ID: "10", Name: "Website relaunch"})
	d.src.AddGroup(connector.Group{ID: "11", Name: "Mobile app"})
	tasks := []connector.Task{
		{ID: "101", Title: "Design the new landing page", GroupID: "10", ResponsibleID: "1", Accomplices: []string{"2"}},
		{ID: "102", Title: "Migrate blog posts", GroupID: "10", ResponsibleID: "1"},
		{ID: "103", Title: "SEO audit", GroupID: "10", ResponsibleID: "2", Accomplices: []string{"1"}},
		{ID: "104", Title: "Cookie banner", GroupID: "10", ResponsibleID: "1", Accomplices: []string{"3"}},
		{ID: "111", Title: "Login with passkeys", GroupID: "11", ResponsibleID: "1"},
		{ID: "112", Title: "Push notifications", GroupID: "11", ResponsibleID: "1", Accomplices: []string{"2", "3"}},
		{ID: "113", Title: "Crash on Android 15", GroupID: "11", ResponsibleID: "3", Accomplices: []string{"1"}},
		{ID: "114", Title: "App store screenshots", GroupID: "11", ResponsibleID: "1"},
		{ID: "121", Title: "Quarterly planning", ResponsibleID: "1"},
		{ID: "122", Title: "Onboard Cara", ResponsibleID: "1", Accomplices: []string{"3"}},
		{ID: "123", Title: "Expense reports", ResponsibleID: "1"},
		{ID: "124", Title: "Team offsite", ResponsibleID: "2"}, // not Ann's: never mirrored
	}
	for _, t := range tasks {
		d.src.PutTask(t)
	}
	d.td = connectortest.NewMemory(connector.User{ID: "td-1", Name: "Ann Example", Email: "ann@example.com"},
		connectortest.WithClock(now))
	d.td.AddUser(connector.User{ID: "td-2", Name: "Ben Example", Email: "ben@example.com"})
	// TimeLog cannot create projects over its API: an admin made them.
	d.tl = connectortest.NewMemory(connector.User{ID: "tl-1", Name: "Ann Example", Email: "ann@example.com"},
		connectortest.WithName(connector.TrackerTimeLog), connectortest.WithClock(now),
		connectortest.WithFeatures(connector.Features{CreateTask: true}))
	for _, p := range []string{"Website relaunch", "Mobile app", "Internal"} {
		d.tl.SeedProject(p)
	}
	return d, nil
}

func (d *memoryDemo) Source() connector.TaskSource { return d.src.As(demoUser) }

func (d *memoryDemo) Trackers() []connector.Tracker {
	return []connector.Tracker{d.td, connectortest.MemoryWriter{Memory: d.tl}}
}

func (d *memoryDemo) Close() {}

// taskOf finds the tracker task of a Bitrix24 task.
func taskOf(m *connectortest.Memory, sourceID string) (connector.TrackerTask, bool) {
	ts, err := m.FindTasks(context.Background(), sourceID)
	if err != nil || len(ts) == 0 {
		return connector.TrackerTask{}, false
	}
	return ts[0], true
}

// day returns 09:00 local time n days ago.
func (d *memoryDemo) day(n int, hour int) time.Time {
	now := d.now().In(d.zone)
	return time.Date(now.Year(), now.Month(), now.Day()-n, hour, 0, 0, 0, d.zone)
}

func (d *memoryDemo) Step(n int) []string {
	switch n {
	case 2:
		var out []string
		// A week of tracked time in both trackers.
		for i, id := range []string{"101", "102", "111", "112", "121"} {
			if t, ok := taskOf(d.td, id); ok {
				for back := 0; back < 3; back++ {
					d.td.TrackTime(t.ID, d.day(back, 9+i), time.Duration(30+15*i)*time.Minute)
				}
			}
		}
		if t, ok := taskOf(d.tl, "113"); ok {
			d.tl.TrackTime(t.ID, d.day(1, 14), 2*time.Hour)
		}
		out = append(out, "Ann tracked time on 5 tasks in Time Doctor over the last 3 days and 2 h in TimeLog")
		d.td.TrackTime("", d.day(0, 8), 20*time.Minute)
		out = append(out, "Ann tracked 20 m in Time Doctor without choosing a task")
		d.src.AddElapsedAs(demoUser, "122", 45*60, "Call with Cara", d.day(1, 16))
		out = append(out, "Ann logged 45 m directly on 'Onboard Cara' in Bitrix24 (copied to TimeLog)")
		return out
	case 3:
		d.src.EditTask("104", func(t *connector.Task) { t.Completed, t.Status = true, 5 })
		d.src.EditTask("114", func(t *connector.Task) { t.GroupID = "10" })
		d.src.DeleteTask("123")
		if t, ok := taskOf(d.td, "101"); ok {
			d.td.TrackTime(t.ID, d.day(2, 17), 25*time.Minute)
		}
		out := []string{
			"'Cookie banner' was completed in Bitrix24",
			"'App store screenshots' moved to the Website relaunch group",
			"'Expense reports' was deleted in Bitrix24",
			"Ann added 25 m two days ago on 'Design the new landing page' (an edit in the past)",
		}
		for _, r := range d.src.Records() {
			if mk, ok := connector.ParseElapsedMarker(r.Comment); ok && r.TaskID == "102" && mk.Tracker == connector.TrackerTimeDoctor {
				d.src.EditElapsedAs(r.ID, r.Seconds+600)
				out = append(out, fmt.Sprintf("a manager changed Ann's record on 'Migrate blog posts' for %s in Bitrix24", mk.Day))
				break
			}
		}
		if t, ok := taskOf(d.td, "112"); ok {
			d.td.TrackTime(t.ID, d.day(0, 15), time.Hour)
		}
		return out
	case 4:
		d.src.EditTask("104", func(t *connector.Task) { t.Completed, t.Status = false, 2 })
		return []string{"'Cookie banner' was renewed"}
	}
	return nil
}
