package connectortest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// MemorySource is an in-memory Bitrix24 (connector.TaskSource) for engine tests:
// tasks, groups, users and elapsed records, with the same kind of fault knobs as
// the emulator. Safe for concurrent use. Several engines (employees) may share one.
type MemorySource struct {
	portal string

	mu      sync.Mutex
	now     func() time.Time
	users   map[string]connector.User
	groups  map[string]connector.Group
	tasks   map[string]*connector.Task
	deleted map[string]bool
	elapsed []connector.Elapsed
	nextID  int
	faults  faults
	calls   map[string]int
}

// NewMemorySource returns an empty portal.
func NewMemorySource(portal string, now func() time.Time) *MemorySource {
	if now == nil {
		now = time.Now
	}
	return &MemorySource{portal: portal, now: now, users: map[string]connector.User{}, groups: map[string]connector.Group{},
		tasks: map[string]*connector.Task{}, deleted: map[string]bool{}, calls: map[string]int{}, nextID: 100,
		faults: faults{service: "bitrix24"}}
}

// As returns a view of the same portal signed in as userID: another employee.
func (s *MemorySource) As(userID string) connector.TaskSource { return &sourceAs{s, userID} }

// AddUser adds a person.
func (s *MemorySource) AddUser(u connector.User) {
	s.mu.Lock()
	s.users[u.ID] = u
	s.mu.Unlock()
}

// AddGroup adds a workgroup.
func (s *MemorySource) AddGroup(g connector.Group) {
	s.mu.Lock()
	s.groups[g.ID] = g
	s.mu.Unlock()
}

// PutTask creates or replaces a task and bumps its changed date.
func (s *MemorySource) PutTask(t connector.Task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Changed = s.now()
	if t.Created.IsZero() {
		t.Created = t.Changed
	}
	t.Accomplices = slices.Clone(t.Accomplices)
	s.tasks[t.ID] = &t
	delete(s.deleted, t.ID)
}

// EditTask changes a task as a person would, bumping its changed date.
func (s *MemorySource) EditTask(id string, fn func(*connector.Task)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tasks[id]; ok {
		fn(t)
		t.Changed = s.now()
	}
}

// DeleteTask deletes a task (its changed date does not move: polling cannot see it).
func (s *MemorySource) DeleteTask(id string) {
	s.mu.Lock()
	s.deleted[id] = true
	s.mu.Unlock()
}

// Elapsed returns a copy of every elapsed record.
func (s *MemorySource) Records() []connector.Elapsed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.elapsed)
}

// AddElapsedAs adds a record as a person (userID) would in the Bitrix24 UI.
func (s *MemorySource) AddElapsedAs(userID, taskID string, seconds int64, comment string, at time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := strconv.Itoa(s.nextID)
	s.elapsed = append(s.elapsed, connector.Elapsed{ID: id, TaskID: taskID, UserID: userID, Seconds: seconds, Comment: comment, Created: at})
	return id
}

// EditElapsedAs changes a record's seconds as a person would.
func (s *MemorySource) EditElapsedAs(id string, seconds int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.elapsed {
		if s.elapsed[i].ID == id {
			s.elapsed[i].Seconds = seconds
		}
	}
}

// RemoveElapsedAs deletes a record as a person would.
func (s *MemorySource) RemoveElapsedAs(id string) {
	s.mu.Lock()
	s.elapsed = slices.DeleteFunc(s.elapsed, func(e connector.Elapsed) bool { return e.ID == id })
	s.mu.Unlock()
}

// FailNext makes the next n calls fail as the given HTTP status would.
func (s *MemorySource) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.addFailures(n, status)
}

// FailNextOn makes the next call of method (e.g. "task.elapseditem.getlist")
// fail as the given HTTP status would.
func (s *MemorySource) FailNextOn(method string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.failOn == nil {
		s.faults.failOn = map[string][]int{}
	}
	s.faults.failOn[method] = append(s.faults.failOn[method], status)
}

// LoseReplyAfterWrite applies the next n writes, then reports a lost reply.
func (s *MemorySource) LoseReplyAfterWrite(n int) {
	s.mu.Lock()
	s.faults.loseReplies += n
	s.mu.Unlock()
}

// ExpireAuth makes every later call answer ErrUnauthorized.
func (s *MemorySource) ExpireAuth(expired bool) {
	s.mu.Lock()
	s.faults.authExpired = expired
	s.mu.Unlock()
}

// Calls returns how many calls each method received.
func (s *MemorySource) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// TotalCalls is the sum of Calls.
func (s *MemorySource) TotalCalls() int {
	n := 0
	for _, v := range s.Calls() {
		n += v
	}
	return n
}

func (s *MemorySource) begin(op string) error {
	s.calls[op]++
	return s.faults.begin(op)
}

func (s *MemorySource) lostReply(op string) error { return s.faults.lostReply(op) }

func (s *MemorySource) visible(t *connector.Task) bool { return t != nil && !s.deleted[t.ID] }

func cloneTask(t *connector.Task) connector.Task {
	c := *t
	c.Accomplices = slices.Clone(t.Accomplices)
	return c
}

// sourceAs is the TaskSource of one signed-in user.
type sourceAs struct {
	s    *MemorySource
	user string
}

func (v *sourceAs) Portal() string { return v.s.portal }

func (v *sourceAs) Me(ctx context.Context) (connector.User, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("user.current"); err != nil {
		return connector.User{}, err
	}
	u, ok := s.users[v.user]
	if !ok {
		return connector.User{}, fmt.Errorf("user %s: %w", v.user, connector.ErrUnauthorized)
	}
	return u, nil
}

func (v *sourceAs) Users(ctx context.Context, ids []string) ([]connector.User, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("user.get"); err != nil {
		return nil, err
	}
	var out []connector.User
	for _, id := range ids {
		if u, ok := s.users[id]; ok {
			out = append(out, u)
		}
	}
	return out, nil
}

func (v *sourceAs) Groups(ctx context.Context, ids []string) ([]connector.Group, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("sonet_group.get"); err != nil {
		return nil, err
	}
	var out []connector.Group
	for _, id := range ids {
		if g, ok := s.groups[id]; ok {
			out = append(out, g)
		}
	}
	return out, nil
}

func (v *sourceAs) ChangedTasks(ctx context.Context, userID string, since time.Time) (connector.Changes, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("tasks.task.list"); err != nil {
		return connector.Changes{}, err
	}
	ch := connector.Changes{Cursor: s.now()}
	for _, t := range s.tasks {
		if s.visible(t) && t.HasMember(userID) && !t.Changed.Before(since) {
			ch.Tasks = append(ch.Tasks, cloneTask(t))
		}
	}
	slices.SortFunc(ch.Tasks, func(a, b connector.Task) int { return cmpID(a.ID, b.ID) })
	return ch, nil
}

func cmpID(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}

func (v *sourceAs) TasksByID(ctx context.Context, ids []string) ([]connector.Task, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("tasks.task.list"); err != nil {
		return nil, err
	}
	var out []connector.Task
	for _, id := range ids {
		if t := s.tasks[id]; s.visible(t) && t.HasMember(v.user) {
			out = append(out, cloneTask(t))
		}
	}
	return out, nil
}

func (v *sourceAs) Elapsed(ctx context.Context, taskIDs []string) ([]connector.Elapsed, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("task.elapseditem.getlist"); err != nil {
		return nil, err
	}
	var out []connector.Elapsed
	for _, e := range s.elapsed {
		if slices.Contains(taskIDs, e.TaskID) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (v *sourceAs) AddElapsed(ctx context.Context, e connector.Elapsed) (string, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("task.elapseditem.add"); err != nil {
		return "", err
	}
	t := s.tasks[e.TaskID]
	if !s.visible(t) {
		return "", &connector.APIError{Service: "bitrix24", Op: "task.elapseditem.add", Status: 400,
			Code: "ERROR_CORE", Message: "TASKS_ERROR_EXCEPTION_#4; Action not allowed", Kind: connector.ErrNotFound}
	}
	if !t.HasMember(v.user) {
		return "", &connector.APIError{Service: "bitrix24", Op: "task.elapseditem.add", Status: 400,
			Code: "ERROR_CORE", Message: "TASKS_ERROR_EXCEPTION_#4; ACTION_NOT_ALLOWED", Kind: connector.ErrForbidden}
	}
	s.nextID++
	id := strconv.Itoa(s.nextID)
	s.elapsed = append(s.elapsed, connector.Elapsed{ID: id, TaskID: e.TaskID, UserID: v.user, Seconds: e.Seconds, Comment: e.Comment, Created: s.now()})
	return id, s.lostReply("task.elapseditem.add")
}

func (v *sourceAs) UpdateElapsed(ctx context.Context, e connector.Elapsed) error {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("task.elapseditem.update"); err != nil {
		return err
	}
	for i := range s.elapsed {
		if s.elapsed[i].ID == e.ID {
			if s.elapsed[i].UserID != v.user {
				return &connector.APIError{Service: "bitrix24", Op: "task.elapseditem.update", Status: 400, Code: "ERROR_CORE",
					Message: "ACTION_NOT_ALLOWED", Kind: connector.ErrForbidden}
			}
			s.elapsed[i].Seconds, s.elapsed[i].Comment = e.Seconds, e.Comment
			return s.lostReply("task.elapseditem.update")
		}
	}
	return fmt.Errorf("elapsed %s: %w", e.ID, connector.ErrNotFound)
}

func (v *sourceAs) DeleteElapsed(ctx context.Context, taskID, id string) error {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("task.elapseditem.delete"); err != nil {
		return err
	}
	n := len(s.elapsed)
	s.elapsed = slices.DeleteFunc(s.elapsed, func(e connector.Elapsed) bool { return e.ID == id && e.UserID == v.user })
	if len(s.elapsed) == n {
		return fmt.Errorf("elapsed %s: %w", id, connector.ErrNotFound)
	}
	return s.lostReply("task.elapseditem.delete")
}

var _ connector.TaskSource = (*sourceAs)(nil)
