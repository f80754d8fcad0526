package connector

import (
	"context"
	"time"
)

// User is a person in Bitrix24 or a tracker. People are matched by Email (design §2).
type User struct {
	ID       string
	Name     string
	Email    string
	TimeZone string // IANA name when the service knows it, else ""
}

// Group is a Bitrix24 workgroup or project.
type Group struct {
	ID   string
	Name string
}

// Task is a Bitrix24 task as the engine needs it.
type Task struct {
	ID            string
	Title         string
	GroupID       string // "" or "0": no group → default project
	ResponsibleID string
	Accomplices   []string
	Status        int // Bitrix24 status; see Completed
	Completed     bool
	Created       time.Time
	Changed       time.Time
	Deadline      time.Time // zero when none
}

// Members are the responsible and the co-performers, without duplicates.
func (t Task) Members() []string {
	out := []string{t.ResponsibleID}
	for _, a := range t.Accomplices {
		if a != "" && a != t.ResponsibleID {
			out = append(out, a)
		}
	}
	return out
}

// HasMember reports whether userID is responsible or a co-performer.
func (t Task) HasMember(userID string) bool {
	for _, m := range t.Members() {
		if m == userID {
			return true
		}
	}
	return false
}

// Elapsed is a Bitrix24 elapsed-time record (task.elapseditem).
type Elapsed struct {
	ID      string
	TaskID  string
	UserID  string
	Seconds int64
	Comment string
	Created time.Time // CREATED_DATE, an instant
	Day     Day       // the record's day in the sync zone (from Created), filled by the connector caller
}

// Changes is the answer to a changed-since poll.
type Changes struct {
	Tasks []Task
	// Cursor is the server's clock at the first reply; pass it to the next poll.
	Cursor time.Time
}

// TaskSource is Bitrix24: tasks, groups and people come from it; time goes to it.
// Every method may return errors wrapping the sentinels in errors.go.
type TaskSource interface {
	// Portal is a stable id of the portal (its host, e.g. "acme.bitrix24.com"); it
	// goes into keys and GUIDs.
	Portal() string
	// Me is the signed-in user.
	Me(ctx context.Context) (User, error)
	// Users returns the users with the given ids; unknown ids are left out.
	Users(ctx context.Context, ids []string) ([]User, error)
	// Groups returns the groups with the given ids; unknown ids are left out.
	Groups(ctx context.Context, ids []string) ([]Group, error)
	// ChangedTasks lists the tasks of userID (responsible or accomplice) changed at or
	// after since (zero: all of them).
	ChangedTasks(ctx context.Context, userID string, since time.Time) (Changes, error)
	// TasksByID returns the tasks among ids the user can still see; a missing id is
	// deleted or out of reach.
	TasksByID(ctx context.Context, ids []string) ([]Task, error)
	// Elapsed lists the elapsed records of the given tasks (all users).
	Elapsed(ctx context.Context, taskIDs []string) ([]Elapsed, error)
	// AddElapsed creates a record for the signed-in user and returns its id.
	AddElapsed(ctx context.Context, e Elapsed) (string, error)
	// UpdateElapsed changes seconds and comment of a record.
	UpdateElapsed(ctx context.Context, e Elapsed) error
	// DeleteElapsed removes a record.
	DeleteElapsed(ctx context.Context, taskID, elapsedID string) error
}

// Features says what a tracker can do; the engine never calls what is false.
// The zero value promises nothing.
type Features struct {
	CreateProject  bool // EnsureProject may create
	CreateTask     bool
	RenameTask     bool
	MoveTask       bool // UpdateTask may change ProjectID
	DeactivateTask bool
	ReactivateTask bool
	AssignPeople   bool // tasks carry members (by tracker user id)
}

// Project is a tracker project.
type Project struct {
	ID     string
	Name   string
	Active bool
}

// TrackerTask is a task in a tracker.
type TrackerTask struct {
	ID        string
	ProjectID string
	Name      string // includes the marker, see TaskName
	Active    bool
	Created   time.Time
	Members   []string // tracker user ids, when Features.AssignPeople
}

// SourceID returns the Bitrix24 task id in the task's marker.
func (t TrackerTask) SourceID() (string, bool) { return ParseTaskMarker(t.Name) }

// DayTotal is the time one user tracked on one tracker task on one day.
type DayTotal struct {
	TaskID  string // tracker task id
	Day     Day
	Seconds int64
}

// DayTotals is a complete read of the user's time over a span. Unassigned counts
// seconds on rows without a task: they are reported, never dropped silently.
type DayTotals struct {
	Totals     []DayTotal
	Unassigned int64
}

// Tracker is a time tracker: the engine mirrors tasks into it and reads time from it.
type Tracker interface {
	// Name is "timedoctor" or "timelog"; it goes into markers.
	Name() string
	Features() Features
	// Me is the signed-in user of the tracker.
	Me(ctx context.Context) (User, error)
	// Users lists the people the user can see, for matching by email.
	Users(ctx context.Context) ([]User, error)
	// FindProject returns the project with exactly this name, or ErrNotFound.
	FindProject(ctx context.Context, name string) (Project, error)
	// CreateProject creates a project; ErrForbidden or ErrUnsupported when it may not.
	CreateProject(ctx context.Context, name string) (Project, error)
	// FindTasks lists every task whose name carries the marker of Bitrix24 task
	// sourceID, oldest first (several after a race between two employees).
	FindTasks(ctx context.Context, sourceID string) ([]TrackerTask, error)
	// CreateTask creates a task; the name must carry the marker.
	CreateTask(ctx context.Context, t TrackerTask) (TrackerTask, error)
	// UpdateTask sets name, project, active and members, as Features allow.
	UpdateTask(ctx context.Context, t TrackerTask) error
	// DayTotals reads the signed-in user's time over span, split at local midnights
	// of span.Zone. It fails as a whole rather than return a partial read.
	DayTotals(ctx context.Context, span DaySpan) (DayTotals, error)
}

// Registration is a TimeLog time registration.
type Registration struct {
	GUID         string // our UUIDv5 for rows we created, else the service's
	ID           string // the service's integer id
	TaskID       string // tracker task id
	Day          Day
	Seconds      int64
	Comment      string
	LastModified time.Time
	Locked       bool // approved, invoiced or in a closed period
}

// TimeWriter is implemented by trackers that also receive time from Bitrix24
// (TimeLog, design §2 row 7).
type TimeWriter interface {
	// Registrations lists the user's registrations over span.
	Registrations(ctx context.Context, span DaySpan) ([]Registration, error)
	// UpsertRegistration creates r (by r.GUID) or updates it; it returns the stored row.
	UpsertRegistration(ctx context.Context, r Registration) (Registration, error)
	// DeleteRegistration removes the registration with this GUID; a missing one is no error.
	DeleteRegistration(ctx context.Context, guid string) error
}

// RegistrationFilter is implemented by TimeWriters whose DayTotals must leave out
// the registrations timebridge copied there from Bitrix24, so that time never
// echoes back (design §2 row 7). The engine tells it which rows are ours, by the
// service's integer id and by GUID; either function may be nil.
type RegistrationFilter interface {
	SetOwnRegistrations(isOurID, isOurGUID func(string) bool)
}

// TaskLister is implemented by trackers that can list every task carrying a
// marker in one read. The engine then builds one index per cycle instead of
// calling FindTasks once per task (the first mirror, the hourly convergence).
type TaskLister interface {
	// ListTasks returns every task whose name carries a marker, oldest first.
	ListTasks(ctx context.Context) ([]TrackerTask, error)
}
