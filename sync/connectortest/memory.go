package connectortest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// Memory is the reference in-memory Tracker. It passes Run, backs the engine's
// tests, and offers the same fault knobs as the emulators. Safe for concurrent use.
type Memory struct {
	name     string
	features connector.Features

	mu           sync.Mutex
	now          func() time.Time
	me           connector.User
	users        []connector.User
	projects     []connector.Project
	tasks        []connector.TrackerTask
	rows         []memRow
	nextID       int
	faults       faults
	forbidCreate bool
	forbidProj   bool
	calls        int
	regs         map[string]connector.Registration // TimeWriter, by GUID
	closedDays   map[connector.Day]bool
}

type memRow struct {
	taskID string
	start  time.Time
	dur    time.Duration
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithFeatures overrides the capability flags (default: everything).
func WithFeatures(f connector.Features) MemoryOption { return func(m *Memory) { m.features = f } }

// WithName sets Name() (default "timedoctor").
func WithName(name string) MemoryOption { return func(m *Memory) { m.name = name } }

// WithClock sets the clock used for creation times.
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// NewMemory returns an empty tracker signed in as me.
func NewMemory(me connector.User, opts ...MemoryOption) *Memory {
	m := &Memory{
		name: connector.TrackerTimeDoctor,
		features: connector.Features{CreateProject: true, CreateTask: true, RenameTask: true, MoveTask: true,
			DeactivateTask: true, ReactivateTask: true, AssignPeople: true},
		now:        time.Now,
		faults:     faults{service: connector.TrackerTimeDoctor},
		me:         me,
		users:      []connector.User{me},
		regs:       map[string]connector.Registration{},
		closedDays: map[connector.Day]bool{},
	}
	for _, o := range opts {
		o(m)
	}
	m.faults.service = m.name
	return m
}

// --- fault knobs and fixtures (Fixture) ---

// FailNext makes the next n calls fail as the given HTTP status would.
func (m *Memory) FailNext(n, status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults.addFailures(n, status)
}

// LoseReplyAfterWrite applies the next n writes, then reports a lost reply.
func (m *Memory) LoseReplyAfterWrite(n int) {
	m.mu.Lock()
	m.faults.loseReplies += n
	m.mu.Unlock()
}

// ForbidCreate makes project and task creation answer ErrForbidden.
func (m *Memory) ForbidCreate(forbid bool) {
	m.mu.Lock()
	m.forbidCreate = forbid
	m.mu.Unlock()
}

// ForbidProjects makes only project creation answer ErrForbidden.
func (m *Memory) ForbidProjects(forbid bool) {
	m.mu.Lock()
	m.forbidProj = forbid
	m.mu.Unlock()
}

// ExpireAuth makes every later call answer ErrUnauthorized.
func (m *Memory) ExpireAuth() {
	m.mu.Lock()
	m.faults.authExpired = true
	m.mu.Unlock()
}

// SeedProject creates a project directly (as an administrator would) and returns its id.
func (m *Memory) SeedProject(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addProject(name).ID
}

// AddUser adds a person the signed-in user can see.
func (m *Memory) AddUser(u connector.User) {
	m.mu.Lock()
	m.users = append(m.users, u)
	m.mu.Unlock()
}

// TrackTime records that the signed-in user tracked d on taskID from start
// ("" taskID: time without a task).
func (m *Memory) TrackTime(taskID string, start time.Time, d time.Duration) {
	m.mu.Lock()
	m.rows = append(m.rows, memRow{taskID, start, d})
	m.mu.Unlock()
}

// ClearTime removes every tracked row of taskID (a person deleting time).
func (m *Memory) ClearTime(taskID string) {
	m.mu.Lock()
	m.rows = slices.DeleteFunc(m.rows, func(r memRow) bool { return r.taskID == taskID })
	m.mu.Unlock()
}

// CloseDay makes registration writes on day fail with ErrClosedPeriod.
func (m *Memory) CloseDay(d connector.Day) {
	m.mu.Lock()
	m.closedDays[d] = true
	m.mu.Unlock()
}

// Calls is the number of calls made so far (every method counts one).
func (m *Memory) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Projects returns a copy of all projects.
func (m *Memory) Projects() []connector.Project {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.projects)
}

// Tasks returns a copy of all tasks, oldest first.
func (m *Memory) Tasks() []connector.TrackerTask {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]connector.TrackerTask, len(m.tasks))
	for i, t := range m.tasks {
		t.Members = slices.Clone(t.Members)
		out[i] = t
	}
	return out
}

// EditRegistration changes a registration as a person in the tracker would.
func (m *Memory) EditRegistration(guid string, seconds int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.regs[guid]
	if !ok {
		return
	}
	r.Seconds = seconds
	r.LastModified = m.now()
	m.regs[guid] = r
}

// --- the Tracker ---

// begin counts a call and applies the fault knobs; m.mu held.
func (m *Memory) begin(op string) error {
	m.calls++
	return m.faults.begin(op)
}

// lostReply reports whether this write's reply is to be lost; m.mu held.
func (m *Memory) lostReply(op string) error { return m.faults.lostReply(op) }

func (m *Memory) newID() string {
	m.nextID++
	return strconv.Itoa(m.nextID)
}

func (m *Memory) addProject(name string) connector.Project {
	p := connector.Project{ID: m.newID(), Name: name, Active: true}
	m.projects = append(m.projects, p)
	return p
}

// Name implements connector.Tracker.
func (m *Memory) Name() string { return m.name }

// Features implements connector.Tracker.
func (m *Memory) Features() connector.Features { return m.features }

// Me implements connector.Tracker.
func (m *Memory) Me(ctx context.Context) (connector.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("me"); err != nil {
		return connector.User{}, err
	}
	return m.me, nil
}

// Users implements connector.Tracker.
func (m *Memory) Users(ctx context.Context) ([]connector.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("users"); err != nil {
		return nil, err
	}
	return slices.Clone(m.users), nil
}

// FindProject implements connector.Tracker.
func (m *Memory) FindProject(ctx context.Context, name string) (connector.Project, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("find project"); err != nil {
		return connector.Project{}, err
	}
	for _, p := range m.projects {
		if p.Name == name {
			return p, nil
		}
	}
	return connector.Project{}, fmt.Errorf("project %q: %w", name, connector.ErrNotFound)
}

// CreateProject implements connector.Tracker.
func (m *Memory) CreateProject(ctx context.Context, name string) (connector.Project, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("create project"); err != nil {
		return connector.Project{}, err
	}
	if !m.features.CreateProject {
		return connector.Project{}, fmt.Errorf("create project %q: %w", name, connector.ErrUnsupported)
	}
	if m.forbidCreate || m.forbidProj {
		return connector.Project{}, &connector.APIError{Service: m.name, Op: "create project", Status: 403, Kind: connector.ErrForbidden,
			Message: fmt.Sprintf("you may not create projects — ask an admin to allow it or create %q", name)}
	}
	p := m.addProject(name)
	return p, m.lostReply("create project")
}

// FindTasks implements connector.Tracker.
func (m *Memory) FindTasks(ctx context.Context, sourceID string) ([]connector.TrackerTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("find tasks"); err != nil {
		return nil, err
	}
	var out []connector.TrackerTask
	for _, t := range m.tasks {
		if id, ok := t.SourceID(); ok && id == sourceID {
			t.Members = slices.Clone(t.Members)
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b connector.TrackerTask) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// ListTasks implements connector.TaskLister.
func (m *Memory) ListTasks(ctx context.Context) ([]connector.TrackerTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("list tasks"); err != nil {
		return nil, err
	}
	var out []connector.TrackerTask
	for _, t := range m.tasks {
		if _, ok := t.SourceID(); ok {
			t.Members = slices.Clone(t.Members)
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b connector.TrackerTask) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// CreateTask implements connector.Tracker.
func (m *Memory) CreateTask(ctx context.Context, t connector.TrackerTask) (connector.TrackerTask, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("create task"); err != nil {
		return connector.TrackerTask{}, err
	}
	if !m.features.CreateTask {
		return connector.TrackerTask{}, fmt.Errorf("create task: %w", connector.ErrUnsupported)
	}
	if m.forbidCreate {
		return connector.TrackerTask{}, &connector.APIError{Service: m.name, Op: "create task", Status: 403, Kind: connector.ErrForbidden,
			Message: "you may not create tasks — ask an admin to allow it"}
	}
	if !m.hasProject(t.ProjectID) {
		return connector.TrackerTask{}, fmt.Errorf("create task in project %s: %w", t.ProjectID, connector.ErrNotFound)
	}
	t.ID = m.newID()
	t.Active = true
	t.Created = m.now().Add(time.Duration(m.nextID)) // strictly increasing, for "oldest first"
	t.Members = slices.Clone(t.Members)
	m.tasks = append(m.tasks, t)
	return t, m.lostReply("create task")
}

func (m *Memory) hasProject(id string) bool {
	return slices.ContainsFunc(m.projects, func(p connector.Project) bool { return p.ID == id })
}

// UpdateTask implements connector.Tracker.
func (m *Memory) UpdateTask(ctx context.Context, t connector.TrackerTask) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("update task"); err != nil {
		return err
	}
	i := slices.IndexFunc(m.tasks, func(x connector.TrackerTask) bool { return x.ID == t.ID })
	if i < 0 {
		return fmt.Errorf("update task %s: %w", t.ID, connector.ErrNotFound)
	}
	cur := &m.tasks[i]
	switch {
	case cur.Name != t.Name && !m.features.RenameTask,
		cur.ProjectID != t.ProjectID && !m.features.MoveTask,
		cur.Active && !t.Active && !m.features.DeactivateTask,
		!cur.Active && t.Active && !m.features.ReactivateTask:
		return fmt.Errorf("update task %s: %w", t.ID, connector.ErrUnsupported)
	}
	if !m.hasProject(t.ProjectID) {
		return fmt.Errorf("move task %s to project %s: %w", t.ID, t.ProjectID, connector.ErrNotFound)
	}
	cur.Name, cur.ProjectID, cur.Active = t.Name, t.ProjectID, t.Active
	if m.features.AssignPeople {
		cur.Members = slices.Clone(t.Members)
	}
	return m.lostReply("update task")
}

// DayTotals implements connector.Tracker.
func (m *Memory) DayTotals(ctx context.Context, span connector.DaySpan) (connector.DayTotals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("day totals"); err != nil {
		return connector.DayTotals{}, err
	}
	from, to := span.Instants()
	sums := map[connector.DayTotal]int64{}
	var out connector.DayTotals
	for _, r := range m.rows {
		start, end := r.start, r.start.Add(r.dur)
		start, end = maxTime(start, from), minTime(end, to)
		if !start.Before(end) {
			continue
		}
		for _, ds := range connector.SplitAtMidnights(start, end.Sub(start), span.Zone) {
			if r.taskID == "" {
				out.Unassigned += ds.Seconds
				continue
			}
			sums[connector.DayTotal{TaskID: r.taskID, Day: ds.Day}] += ds.Seconds
		}
	}
	for k, s := range sums {
		k.Seconds = s
		out.Totals = append(out.Totals, k)
	}
	slices.SortFunc(out.Totals, func(a, b connector.DayTotal) int {
		return cmp.Or(a.Day.Compare(b.Day), strings.Compare(a.TaskID, b.TaskID))
	})
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// MemoryWriter is a Memory tracker that also receives time (like TimeLog).
type MemoryWriter struct{ *Memory }

// Registrations implements connector.TimeWriter.
func (w MemoryWriter) Registrations(ctx context.Context, span connector.DaySpan) ([]connector.Registration, error) {
	m := w.Memory
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("registrations"); err != nil {
		return nil, err
	}
	var out []connector.Registration
	for _, r := range m.regs {
		if span.Contains(r.Day) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b connector.Registration) int { return strings.Compare(a.GUID, b.GUID) })
	return out, nil
}

// UpsertRegistration implements connector.TimeWriter.
func (w MemoryWriter) UpsertRegistration(ctx context.Context, r connector.Registration) (connector.Registration, error) {
	m := w.Memory
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("upsert registration"); err != nil {
		return connector.Registration{}, err
	}
	if m.closedDays[r.Day] {
		return connector.Registration{}, &connector.APIError{Service: m.name, Op: "upsert registration", Status: 422,
			Code: "30012", Kind: connector.ErrClosedPeriod, Message: "the week of " + r.Day.String() + " is closed"}
	}
	if old, ok := m.regs[r.GUID]; ok {
		r.ID = old.ID
	} else {
		r.ID = m.newID()
	}
	r.LastModified = m.now()
	m.regs[r.GUID] = r
	return r, m.lostReply("upsert registration")
}

// DeleteRegistration implements connector.TimeWriter.
func (w MemoryWriter) DeleteRegistration(ctx context.Context, guid string) error {
	m := w.Memory
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin("delete registration"); err != nil {
		return err
	}
	delete(m.regs, guid)
	return m.lostReply("delete registration")
}

var (
	_ connector.Tracker    = (*Memory)(nil)
	_ connector.TaskLister = (*Memory)(nil)
	_ connector.TimeWriter = MemoryWriter{}
)
