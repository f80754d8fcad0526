package bitrix24test

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Clock is the emulator's settable clock. Frozen clocks only move with Advance or
// Set; a running clock (Options.RealTime, for the demo) follows the wall clock.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	running bool
	base    time.Time
}

// Now returns the current emulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.t.Add(time.Since(c.base))
	}
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.base = time.Now()
	c.mu.Unlock()
}

// User is a portal user.
type User struct {
	ID       int
	Name     string
	LastName string
	Email    string
	TimeZone string // IANA name, "" = portal default
	Admin    bool
	Inactive bool
}

// Group is a workgroup or project.
type Group struct {
	ID      int
	Name    string
	Members []int
	Project bool
	Opened  bool
	Created time.Time
}

// Task is a task as the emulator stores it.
type Task struct {
	ID            int
	Title         string
	Description   string
	CreatedBy     int
	ResponsibleID int
	Accomplices   []int
	Auditors      []int
	GroupID       int
	Status        int // REAL_STATUS 1..7; 0 → 2
	TaskControl   bool
	Created       time.Time
	Changed       time.Time
	ChangedBy     int
	Closed        time.Time
	ClosedBy      int
	Deadline      time.Time
	Deleted       bool
}

func (t *Task) isMember(uid int) bool {
	return t.ResponsibleID == uid || slices.Contains(t.Accomplices, uid)
}

func (t *Task) canSee(uid int) bool {
	return t.isMember(uid) || t.CreatedBy == uid || slices.Contains(t.Auditors, uid)
}

// Elapsed is an elapsed-time record.
type Elapsed struct {
	ID        int
	TaskID    int
	UserID    int
	Seconds   int
	Comment   string
	Source    int // 2 manual, 3 timer
	Created   time.Time
	DateStart time.Time
	DateStop  time.Time
}

// state is the portal's data; guarded by Server.mu.
type state struct {
	users    map[int]*User
	groups   map[int]*Group
	tasks    map[int]*Task
	elapsed  map[int]*Elapsed
	nextUser int
	nextGrp  int
	nextTask int
	nextEl   int
}

func newState() *state {
	return &state{users: map[int]*User{}, groups: map[int]*Group{}, tasks: map[int]*Task{},
		elapsed: map[int]*Elapsed{}, nextUser: 1, nextGrp: 1, nextTask: 1, nextEl: 1}
}

// AddUser stores u (ID 0: next free id) and returns its id.
func (s *Server) AddUser(u User) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.st.nextUser
	}
	s.st.nextUser = max(s.st.nextUser, u.ID+1)
	if u.Email == "" {
		u.Email = fmt.Sprintf("user%d@example.com", u.ID)
	}
	s.st.users[u.ID] = &u
	return u.ID
}

// AddGroup stores g and returns its id.
func (s *Server) AddGroup(g Group) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == 0 {
		g.ID = s.st.nextGrp
	}
	s.st.nextGrp = max(s.st.nextGrp, g.ID+1)
	if g.Created.IsZero() {
		g.Created = s.now()
	}
	g.Members = slices.Clone(g.Members)
	s.st.groups[g.ID] = &g
	return g.ID
}

// AddTask stores t and returns its id. Zero dates become now, status 0 becomes 2.
func (s *Server) AddTask(t Task) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == 0 {
		t.ID = s.st.nextTask
	}
	s.st.nextTask = max(s.st.nextTask, t.ID+1)
	now := s.now()
	if t.Created.IsZero() {
		t.Created = now
	}
	if t.Changed.IsZero() {
		t.Changed = t.Created
	}
	if t.Status == 0 {
		t.Status = 2
	}
	if t.CreatedBy == 0 {
		t.CreatedBy = t.ResponsibleID
	}
	if t.ChangedBy == 0 {
		t.ChangedBy = t.CreatedBy
	}
	t.Accomplices = slices.Clone(t.Accomplices)
	t.Auditors = slices.Clone(t.Auditors)
	s.st.tasks[t.ID] = &t
	return t.ID
}

// Task returns a copy of a stored task (deleted ones too).
func (s *Server) Task(id int) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.tasks[id]
	if !ok {
		return Task{}, false
	}
	c := *t
	c.Accomplices = slices.Clone(t.Accomplices)
	return c, true
}

// UpdateTask applies fn to a task, bumps its changedDate and reports whether it exists.
func (s *Server) UpdateTask(id int, fn func(t *Task)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.tasks[id]
	if !ok {
		return false
	}
	fn(t)
	t.Changed = s.now()
	return true
}

// CompleteTask completes a task as actor: status 4 when the task is under the
// creator's control and actor is not the creator, else 5 (spec §3.5).
func (s *Server) CompleteTask(actor, id int) bool {
	return s.UpdateTask(id, func(t *Task) {
		if t.TaskControl && actor != t.CreatedBy {
			t.Status = 4
		} else {
			t.Status = 5
			t.Closed = s.now()
			t.ClosedBy = actor
		}
		t.ChangedBy = actor
	})
}

// RenewTask reopens a task (status 2).
func (s *Server) RenewTask(actor, id int) bool {
	return s.UpdateTask(id, func(t *Task) {
		t.Status, t.Closed, t.ClosedBy, t.ChangedBy = 2, time.Time{}, 0, actor
	})
}

// MoveTask puts a task into another group (0: none).
func (s *Server) MoveTask(id, groupID int) bool {
	return s.UpdateTask(id, func(t *Task) { t.GroupID = groupID })
}

// RenameTask changes the title.
func (s *Server) RenameTask(id int, title string) bool {
	return s.UpdateTask(id, func(t *Task) { t.Title = title })
}

// SetMembers replaces responsible and accomplices.
func (s *Server) SetMembers(id, responsible int, accomplices ...int) bool {
	return s.UpdateTask(id, func(t *Task) { t.ResponsibleID, t.Accomplices = responsible, slices.Clone(accomplices) })
}

// RemoveMember takes a user out of the task's accomplices (or the responsible role,
// which passes to the creator).
func (s *Server) RemoveMember(id, userID int) bool {
	return s.UpdateTask(id, func(t *Task) {
		t.Accomplices = slices.DeleteFunc(t.Accomplices, func(u int) bool { return u == userID })
		if t.ResponsibleID == userID {
			t.ResponsibleID = t.CreatedBy
		}
	})
}

// DeleteTask moves a task to the recycle bin: it vanishes from every reply.
func (s *Server) DeleteTask(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.tasks[id]
	if ok {
		t.Deleted = true
	}
	return ok
}

// RestoreTask brings a deleted task back with the same id (spec §7 Q17 default).
func (s *Server) RestoreTask(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.tasks[id]
	if ok {
		t.Deleted = false
		t.Changed = s.now()
	}
	return ok
}

// AddElapsedAs creates a record as user (as if typed into Bitrix24) and returns its id.
func (s *Server) AddElapsedAs(user, taskID, seconds int, comment string, created time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if created.IsZero() {
		created = now
	}
	id := s.st.nextEl
	s.st.nextEl++
	s.st.elapsed[id] = &Elapsed{ID: id, TaskID: taskID, UserID: user, Seconds: seconds, Comment: comment,
		Source: 2, Created: created, DateStart: now, DateStop: now}
	return id
}

// EditElapsedAs changes a record as another person would in the Bitrix24 UI.
func (s *Server) EditElapsedAs(user, id, seconds int, comment string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.elapsed[id]
	if !ok {
		return fmt.Errorf("elapsed %d not found", id)
	}
	if u := s.st.users[user]; u == nil || (!u.Admin && e.UserID != user) {
		return fmt.Errorf("user %d may not edit elapsed %d", user, id)
	}
	e.Seconds, e.Comment = seconds, comment
	return nil
}

// DeleteElapsedAs removes a record as a person would.
func (s *Server) DeleteElapsedAs(user, id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.elapsed[id]
	if !ok {
		return fmt.Errorf("elapsed %d not found", id)
	}
	if u := s.st.users[user]; u == nil || (!u.Admin && e.UserID != user) {
		return fmt.Errorf("user %d may not delete elapsed %d", user, id)
	}
	delete(s.st.elapsed, id)
	return nil
}

// ElapsedOf returns copies of a task's records, by id.
func (s *Server) ElapsedOf(taskID int) []Elapsed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Elapsed
	for _, e := range s.st.elapsed {
		if e.TaskID == taskID {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Elapsed) int { return a.ID - b.ID })
	return out
}

// SeedDemo fills a small portal for `timebridge demo`: three users (1 is the admin
// Anna, 2 Boris, 3 Chen), three groups and a dozen tasks of user 1 spread over them,
// one with a co-performer, one completed, plus a few elapsed records. It returns
// the ids of the users.
func (s *Server) SeedDemo() []int {
	now := s.Clock.Now()
	u1 := s.AddUser(User{Name: "Anna", LastName: "Ivanova", Email: "anna@example.com", TimeZone: "Europe/Moscow", Admin: true})
	u2 := s.AddUser(User{Name: "Boris", LastName: "Petrov", Email: "boris@example.com", TimeZone: "Europe/Berlin"})
	u3 := s.AddUser(User{Name: "Chen", LastName: "Li", Email: "chen@example.com", TimeZone: ""})
	g1 := s.AddGroup(Group{Name: "Website relaunch", Members: []int{u1, u2}, Project: true})
	g2 := s.AddGroup(Group{Name: "Mobile app", Members: []int{u1, u3}, Project: true})
	g3 := s.AddGroup(Group{Name: "Internal", Members: []int{u1, u2, u3}, Opened: true})
	titles := []struct {
		title string
		group int
		acc   []int
	}{
		{"Design the landing page", g1, nil}, {"Write copy for pricing", g1, []int{u2}},
		{"Set up analytics", g1, nil}, {"Login screen", g2, []int{u3}}, {"Push notifications", g2, nil},
		{"App store listing", g2, nil}, {"Quarterly planning", g3, nil}, {"Onboarding docs", g3, []int{u2, u3}},
		{"Expense reports", 0, nil}, {"Customer call prep", 0, nil}, {"Fix invoice template", g3, nil},
		{"Team offsite agenda", g3, []int{u2}},
	}
	for i, t := range titles {
		created := now.Add(-time.Duration(len(titles)-i) * 24 * time.Hour)
		id := s.AddTask(Task{Title: t.title, GroupID: t.group, ResponsibleID: u1, CreatedBy: u2,
			Accomplices: t.acc, Created: created, Deadline: now.Add(time.Duration(i+1) * 48 * time.Hour)})
		if i == 2 {
			s.CompleteTask(u2, id)
		}
		if i%4 == 0 {
			s.AddElapsedAs(u1, id, 1800*(i+1), "review", created.Add(3*time.Hour))
		}
	}
	return []int{u1, u2, u3}
}

// Act performs a status action on a task as user (spec §3.5 transitions):
// start, pause, complete, approve, disapprove, defer, renew. It reports false
// when the task is missing or the action is not allowed from its status.
func (s *Server) Act(user int, action string, id int) bool {
	t, ok := s.Task(id)
	if !ok || t.Deleted {
		return false
	}
	switch action {
	case "complete":
		return s.CompleteTask(user, id)
	case "renew":
		if t.Status != 4 && t.Status != 5 && t.Status != 6 {
			return false
		}
		return s.RenewTask(user, id)
	}
	from := map[string][]int{"start": {1, 2}, "pause": {3}, "approve": {4}, "disapprove": {4}, "defer": {1, 2, 3}}
	to := map[string]int{"start": 3, "pause": 2, "approve": 5, "disapprove": 2, "defer": 6}
	if !slices.Contains(from[action], t.Status) {
		return false
	}
	return s.UpdateTask(id, func(t *Task) {
		t.Status, t.ChangedBy = to[action], user
		if t.Status == 5 {
			t.Closed, t.ClosedBy = s.now(), user
		}
	})
}
