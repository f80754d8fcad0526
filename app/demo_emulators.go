package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
	"github.com/timebridge/timebridge/sync/timedoctor"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// emulatorDemo runs the demo on the built-in emulators of Bitrix24, Time Doctor 2
// and TimeLog, talking real HTTP on loopback through the real clients.
type emulatorDemo struct {
	zone  *time.Location
	b24   *bitrix24test.Server
	td    *timedoctortest.Server
	tl    *timelogtest.Server
	users map[string]int // Bitrix24 ids by first name
	tasks map[string]int // Bitrix24 task ids by short name
	tdCo  string
	tdAnn string
	src   *bitrix24.Client
	tdc   *timedoctor.Client
	tlc   *timelog.Client
}

func newEmulatorDemo(zone *time.Location) (*emulatorDemo, error) {
	now := time.Now()
	d := &emulatorDemo{zone: zone, users: map[string]int{}, tasks: map[string]int{}}
	// The demo portal is an Enterprise one (5 requests/s, burst 250) and the trackers
	// are paced at 20/s, so that three cycles take seconds; real accounts keep the
	// clients' defaults.
	d.b24 = bitrix24test.New(bitrix24test.Options{RealTime: true, Start: now, BucketBurst: 250, BucketRate: 5})
	d.td = timedoctortest.New(timedoctortest.Options{RealTime: true, Start: now})
	d.tl = timelogtest.New(timelogtest.Options{Start: now, Zone: zone,
		Owner: timelogtest.User{UserID: 29, FirstName: "Ann", LastName: "Example", Email: "ann@example.com"}})
	d.seed()
	var err error
	tok := d.b24.IssueToken(d.users["Ann"])
	d.src, err = bitrix24.New(bitrix24.Config{BaseURL: d.b24.URL + "/rest/", HTTPClient: d.b24.Client(), Rate: 5, Burst: 250,
		Token:   bitrix24.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: tok.Expires, UserID: strconv.Itoa(d.users["Ann"])},
		OAuth:   &bitrix24.OAuthConfig{ClientID: d.b24.ClientID(), ClientSecret: d.b24.ClientSecret(), TokenURL: d.b24.AuthURL + "/oauth/token/"},
		OnToken: func(context.Context, bitrix24.Token) error { return nil }})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: Bitrix24 client: %w", err)
	}
	d.tdc, err = timedoctor.New(timedoctor.Config{BaseURL: d.td.URL, Token: d.td.IssueToken(d.tdAnn), Company: d.tdCo,
		HTTP: d.td.Client(), Pacer: demoPace})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: Time Doctor client: %w", err)
	}
	d.tlc, err = timelog.New(timelog.Config{BaseURL: d.tl.URL, Token: d.tl.Token, HTTPClient: d.tl.Client(), Pacer: demoPace,
		Portal: d.src.Portal()})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: TimeLog client: %w", err)
	}
	return d, nil
}

// demoPace paces the demo's tracker clients.
var demoPace = rest.PacerConfig{Rate: 20, Burst: 40}

// seed fills the portal and the trackers with a small company.
func (d *emulatorDemo) seed() {
	for _, p := range []struct{ first, last string }{{"Ann", "Example"}, {"Ben", "Example"}, {"Cara", "Example"}} {
		d.users[p.first] = d.b24.AddUser(bitrix24test.User{Name: p.first, LastName: p.last,
			Email: strings.ToLower(p.first) + "@example.com"})
	}
	ann, ben, cara := d.users["Ann"], d.users["Ben"], d.users["Cara"]
	web := d.b24.AddGroup(bitrix24test.Group{Name: "Website relaunch", Members: []int{ann, ben, cara}, Project: true})
	app := d.b24.AddGroup(bitrix24test.Group{Name: "Mobile app", Members: []int{ann, ben, cara}, Project: true})
	for _, t := range []struct {
		key, title  string
		group, resp int
		acc         []int
	}{
		{"landing", "Design the new landing page", web, ann, []int{ben}},
		{"blog", "Migrate blog posts", web, ann, nil},
		{"seo", "SEO audit", web, ben, []int{ann}},
		{"cookies", "Cookie banner", web, ann, []int{cara}},
		{"passkeys", "Login with passkeys", app, ann, nil},
		{"push", "Push notifications", app, ann, []int{ben, cara}},
		{"crash", "Crash on Android 15", app, cara, []int{ann}},
		{"screens", "App store screenshots", app, ann, nil},
		{"planning", "Quarterly planning", 0, ann, nil},
		{"onboard", "Onboard Cara", 0, ann, []int{cara}},
		{"expenses", "Expense reports", 0, ann, nil},
		{"offsite", "Team offsite", 0, ben, nil}, // not Ann's: never mirrored
	} {
		d.tasks[t.key] = d.b24.AddTask(bitrix24test.Task{Title: t.title, GroupID: t.group, ResponsibleID: t.resp,
			Accomplices: t.acc, CreatedBy: ben})
	}
	d.tdCo = d.td.AddCompany("Example Inc", d.zone.String())
	d.tdAnn = d.td.AddUser(timedoctortest.User{Company: d.tdCo, Role: "admin", Name: "Ann Example", Email: "ann@example.com"})
	d.td.AddUser(timedoctortest.User{Company: d.tdCo, Role: "user", Name: "Ben Example", Email: "ben@example.com"})
	// TimeLog cannot create projects over its API: an administrator made them.
	for _, name := range []string{"Website relaunch", "Mobile app", "Internal"} {
		d.tl.AddProject(timelogtest.Project{Name: name})
	}
}

func (d *emulatorDemo) Source() connector.TaskSource { return d.src }
func (d *emulatorDemo) Trackers() []connector.Tracker {
	return []connector.Tracker{d.tdc, d.tlc}
}

func (d *emulatorDemo) Close() {
	d.b24.Close()
	d.td.Close()
	d.tl.Close()
}

// at is hour:00 local time n days ago.
func (d *emulatorDemo) at(daysAgo, hour int) time.Time {
	now := time.Now().In(d.zone)
	return time.Date(now.Year(), now.Month(), now.Day()-daysAgo, hour, 0, 0, 0, d.zone)
}

// tdTask is the Time Doctor task of a Bitrix24 task.
func (d *emulatorDemo) tdTask(key string) (string, bool) {
	want := connector.TaskMarker(strconv.Itoa(d.tasks[key]))
	for _, t := range d.td.Tasks(d.tdCo) {
		if strings.HasSuffix(t.Name, want) && !t.Deleted {
			return t.ID, true
		}
	}
	return "", false
}

// tlTask is the TimeLog task of a Bitrix24 task.
func (d *emulatorDemo) tlTask(key string) (string, bool) {
	want := connector.TaskMarker(strconv.Itoa(d.tasks[key]))
	for _, t := range d.tl.Tasks() {
		if strings.HasSuffix(t.Name, want) && !t.Inactive {
			return strconv.Itoa(t.TaskID), true
		}
	}
	return "", false
}

func (d *emulatorDemo) Step(n int) []string {
	ann := d.users["Ann"]
	switch n {
	case 2:
		for i, key := range []string{"landing", "blog", "passkeys", "push", "planning"} {
			if id, ok := d.tdTask(key); ok {
				for back := 0; back < 3; back++ {
					d.td.AddWorklog(d.tdAnn, id, d.at(back, 9+i), (30+15*i)*60, "computer")
				}
			}
		}
		d.td.AddWorklog(d.tdAnn, "", d.at(0, 7), 20*60, "computer")
		if id, ok := d.tlTask("crash"); ok {
			d.tl.TrackTime(id, d.at(1, 14), 2*time.Hour)
		}
		d.b24.AddElapsedAs(ann, d.tasks["onboard"], 45*60, "Call with Cara", d.at(1, 16))
		d.b24.CompleteTask(ann, d.tasks["cookies"])
		d.b24.DeleteTask(d.tasks["expenses"])
		return []string{
			"Ann tracked time on 5 tasks in Time Doctor over the last 3 days, and 20 m without a task",
			"Ann logged 2 h in TimeLog on 'Crash on Android 15'",
			"Ann logged 45 m directly on 'Onboard Cara' in Bitrix24 (it goes to TimeLog too)",
			"'Cookie banner' was completed in Bitrix24",
			"'Expense reports' was deleted in Bitrix24",
		}
	case 3:
		d.b24.RenewTask(ann, d.tasks["cookies"])
		d.b24.MoveTask(d.tasks["screens"], groupOf(d.b24, d.tasks["landing"]))
		if id, ok := d.tdTask("landing"); ok {
			d.td.AddWorklog(d.tdAnn, id, d.at(2, 17), 25*60, "manual")
		}
		if id, ok := d.tdTask("push"); ok {
			d.td.AddWorklog(d.tdAnn, id, d.at(0, 15), 3600, "computer")
		}
		out := []string{
			"'Cookie banner' was renewed",
			"'App store screenshots' moved to the Website relaunch group",
			"Ann added 25 m two days ago on 'Design the new landing page' (an edit in the past)",
			"Ann tracked another hour on 'Push notifications' today",
		}
		for _, e := range d.b24.ElapsedOf(d.tasks["blog"]) {
			if mk, ok := connector.ParseElapsedMarker(e.Comment); ok && e.UserID == ann && mk.Tracker == connector.TrackerTimeDoctor {
				if err := d.b24.EditElapsedAs(ann, e.ID, e.Seconds+600, e.Comment); err == nil {
					out = append(out, fmt.Sprintf("Ann changed her record on 'Migrate blog posts' for %s by hand in Bitrix24", mk.Day))
				}
				break
			}
		}
		return out
	}
	return nil
}

func groupOf(s *bitrix24test.Server, task int) int {
	t, _ := s.Task(task)
	return t.GroupID
}
