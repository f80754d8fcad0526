package timedoctortest

import (
	"crypto/rand"
	"sort"
	"strings"
	"time"
)

// Roles a company member may have.
const (
	RoleOwner   = "owner"
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleUser    = "user"
)

type company struct {
	id, name, zone string
	created        time.Time
}

type member struct {
	role           string
	onlyProjectIDs []string
	hired          time.Time
}

type user struct {
	id, name, email, password, totp, zone string
	archived                              bool
	created                               time.Time
	members                               map[string]*member // by company id
	denied                                map[string]bool    // project ids whose access was revoked
}

type token struct {
	value, userID, perm string
	created, expiresAt  time.Time
	revoked             bool
}

type project struct {
	id, company, name, description, creator string
	deleted                                 bool
	deletedAt                               time.Time
}

type task struct {
	id, company, project, name, description, status, reporter string
	deleted                                                   bool
	deletedAt                                                 time.Time
}

type segment struct {
	user, company, task, project, mode, device string
	start                                      time.Time
	seconds                                    int
}

type editEntry struct {
	id, company, user, task, project, operation, reason string
	start                                               time.Time
	seconds                                             int
	approved                                            bool
}

type state struct {
	classic   classicState
	edits     []*editEntry
	rnd       [5]byte
	counter   uint32
	companies map[string]*company
	users     map[string]*user
	tokens    map[string]*token
	projects  map[string]*project
	tasks     map[string]*task
	segments  []*segment
}

func (st *state) init() {
	_, _ = rand.Read(st.rnd[:])
	st.companies = map[string]*company{}
	st.users = map[string]*user{}
	st.tokens = map[string]*token{}
	st.projects = map[string]*project{}
	st.tasks = map[string]*task{}
	st.classic.init()
}

// newID makes an object id: creation second, a per-server random part, a counter.
func (st *state) newID(now time.Time) string {
	st.counter++
	var b [12]byte
	sec := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec)
	copy(b[4:9], st.rnd[:])
	b[9], b[10], b[11] = byte(st.counter>>16), byte(st.counter>>8), byte(st.counter)
	return encodeID(b)
}

// AddCompany creates a company with an IANA zone and returns its id.
func (s *Server) AddCompany(name, zone string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	c := &company{id: s.st.newID(now), name: name, zone: zone, created: now}
	s.st.companies[c.id] = c
	return c.id
}

// User describes a person for AddUser.
type User struct {
	Company        string // company id (required)
	Role           string // RoleOwner, RoleAdmin, RoleManager, RoleUser
	Name, Email    string
	Password       string   // default "secret"
	TOTP           string   // when set, 2FA is on and this is the only valid code
	Zone           string   // profile timezone, free text allowed
	OnlyProjectIDs []string // projects the user may track on; empty = all
	Archived       bool
}

// AddUser creates a user (or adds an existing email to another company) and
// returns the user's id.
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	if u.Password == "" {
		u.Password = "secret"
	}
	if u.Role == "" {
		u.Role = RoleUser
	}
	var x *user
	for _, have := range s.st.users {
		if strings.EqualFold(have.email, u.Email) {
			x = have
		}
	}
	if x == nil {
		x = &user{id: s.st.newID(now), name: u.Name, email: u.Email, password: u.Password, totp: u.TOTP,
			zone: u.Zone, archived: u.Archived, created: now, members: map[string]*member{}, denied: map[string]bool{}}
		s.st.users[x.id] = x
	}
	x.members[u.Company] = &member{role: u.Role, onlyProjectIDs: append([]string(nil), u.OnlyProjectIDs...), hired: now}
	return x.id
}

// SetRole changes a user's role in a company.
func (s *Server) SetRole(userID, companyID, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.st.users[userID]; u != nil && u.members[companyID] != nil {
		u.members[companyID].role = role
	}
}

// ArchiveUser archives or restores a user.
func (s *Server) ArchiveUser(userID string, archived bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.st.users[userID]; u != nil {
		u.archived = archived
	}
}

// IssueToken signs userID in (write permission) and returns the token, as a login would.
func (s *Server) IssueToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(userID, "write").value
}

// IssueReadToken is IssueToken with read permission: writes answer 403.
func (s *Server) IssueReadToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(userID, "read").value
}

func (s *Server) issue(userID, perm string) *token {
	now := s.Clock.Now()
	t := &token{value: newToken(), userID: userID, perm: perm, created: now, expiresAt: now.Add(s.opt.TokenTTL)}
	s.st.tokens[t.value] = t
	return t
}

// AddProject creates a project as an administrator would and returns its id.
func (s *Server) AddProject(companyID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Clock.Now()
	p := &project{id: s.st.newID(now), company: companyID, name: name}
	s.st.projects[p.id] = p
	return p.id
}

// DeleteProject archives (or restores) a project.
func (s *Server) DeleteProject(projectID string, deleted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.st.projects[projectID]; p != nil {
		p.deleted = deleted
		p.deletedAt = s.Clock.Now()
	}
}

// AddTask creates a task in a project as an administrator would and returns its id.
func (s *Server) AddTask(projectID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.projects[projectID]
	if p == nil {
		return ""
	}
	now := s.Clock.Now()
	t := &task{id: s.st.newID(now), company: p.company, project: p.id, name: name, status: "open"}
	s.st.tasks[t.id] = t
	return t.id
}

// TaskState is a task as the emulator holds it, for assertions.
type TaskState struct {
	ID, ProjectID, Name, Description, Status, ReporterID string
	Deleted                                              bool
}

// Tasks returns every task of the company (all of them when companyID is ""),
// deleted ones included, ordered by id.
func (s *Server) Tasks(companyID string) []TaskState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TaskState
	for _, t := range s.st.tasks {
		if companyID == "" || t.company == companyID {
			out = append(out, TaskState{t.id, t.project, t.name, t.description, t.status, t.reporter, t.deleted})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ProjectState is a project as the emulator holds it.
type ProjectState struct {
	ID, Name string
	Deleted  bool
}

// Projects returns every project of the company, ordered by id.
func (s *Server) Projects(companyID string) []ProjectState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ProjectState
	for _, p := range s.st.projects {
		if companyID == "" || p.company == companyID {
			out = append(out, ProjectState{p.id, p.name, p.deleted})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RevokeProjectAccess takes (or gives back) a user's access to a project: it
// disappears from the user's lists, gets answer 403 and its tasks cannot be written.
func (s *Server) RevokeProjectAccess(userID, projectID string, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.st.users[userID]; u != nil {
		if revoked {
			u.denied[projectID] = true
		} else {
			delete(u.denied, projectID)
		}
	}
}

// Worklog modes.
const (
	ModeComputer = "computer"
	ModeMobile   = "mobile"
	ModeManual   = "manual"
)

// AddWorklog records a segment userID tracked on taskID ("" = no task) from
// start for seconds. mode "" means ModeComputer. A start in the past is a late
// upload (offline tracking) and shows up on the next read like any other row.
func (s *Server) AddWorklog(userID, taskID string, start time.Time, seconds int, mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mode == "" {
		mode = ModeComputer
	}
	seg := &segment{user: userID, task: taskID, mode: mode, start: start.UTC(), seconds: seconds, device: "dev-1"}
	if t := s.st.tasks[taskID]; t != nil {
		seg.company, seg.project = t.company, t.project
	} else if u := s.st.users[userID]; u != nil {
		for c := range u.members {
			seg.company = c
			break
		}
	}
	s.st.segments = append(s.st.segments, seg)
}

// LateUpload is AddWorklog for a segment tracked offline and uploaded now.
func (s *Server) LateUpload(userID, taskID string, start time.Time, seconds int) {
	s.AddWorklog(userID, taskID, start, seconds, ModeComputer)
}

// EditWorklog changes the length of the user's segment that starts at start (a
// past edit); it reports whether one was found.
func (s *Server) EditWorklog(userID string, start time.Time, seconds int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.st.segments {
		if seg.user == userID && seg.start.Equal(start) {
			seg.seconds = seconds
			return true
		}
	}
	return false
}

// DeleteWorklog removes the user's segment that starts at start.
func (s *Server) DeleteWorklog(userID string, start time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, seg := range s.st.segments {
		if seg.user == userID && seg.start.Equal(start) {
			s.st.segments = append(s.st.segments[:i], s.st.segments[i+1:]...)
			return true
		}
	}
	return false
}

// Demo is what SeedDemo created.
type Demo struct {
	CompanyID string
	Password  string            // every demo user's password
	Users     map[string]string // email → user id
	Roles     map[string]string // email → role
	Tokens    map[string]string // email → a valid token
	Projects  map[string]string // name → project id
	Tasks     map[string]string // name → task id
}

// SeedDemo fills a realistic account for `timebridge demo`: company "Acme"
// (Europe/Berlin); ann@example.com (admin, Europe/Berlin), ben@example.com
// (manager, Europe/Berlin), cara@example.com (user, Europe/Moscow), password
// "demo", no 2FA; projects "Website relaunch", "Mobile app", "Internal"; twelve
// tasks (no Bitrix24 markers: the engine creates its own); fourteen days of
// segments before the clock's day for each user (weekdays, 2–3 per day), one
// over local midnight and one manual entry for Ann.
func (s *Server) SeedDemo() Demo {
	now := s.Clock.Now()
	d := Demo{Password: "demo", Users: map[string]string{}, Roles: map[string]string{}, Tokens: map[string]string{},
		Projects: map[string]string{}, Tasks: map[string]string{}}
	d.CompanyID = s.AddCompany("Acme", "Europe/Berlin")
	people := []struct{ name, email, role, zone string }{
		{"Ann Adams", "ann@example.com", RoleAdmin, "Europe/Berlin"},
		{"Ben Brown", "ben@example.com", RoleManager, "Europe/Berlin"},
		{"Cara Cole", "cara@example.com", RoleUser, "Europe/Moscow"},
	}
	var ids []string
	for _, p := range people {
		id := s.AddUser(User{Company: d.CompanyID, Role: p.role, Name: p.name, Email: p.email, Password: d.Password, Zone: p.zone})
		ids = append(ids, id)
		d.Users[p.email], d.Roles[p.email] = id, p.role
		d.Tokens[p.email] = s.IssueToken(id)
	}
	plan := map[string][]string{
		"Website relaunch": {"Landing page design", "Pricing copy", "Analytics setup", "SEO audit"},
		"Mobile app":       {"Login screen", "Push notifications", "App store listing", "Crash fixes"},
		"Internal":         {"Planning", "Onboarding docs", "Team meeting", "Expense reports"},
	}
	var taskIDs []string
	for _, pname := range []string{"Website relaunch", "Mobile app", "Internal"} {
		pid := s.AddProject(d.CompanyID, pname)
		d.Projects[pname] = pid
		for _, tname := range plan[pname] {
			tid := s.AddTask(pid, tname)
			d.Tasks[tname] = tid
			taskIDs = append(taskIDs, tid)
		}
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.UTC
	}
	today := time.Date(now.In(berlin).Year(), now.In(berlin).Month(), now.In(berlin).Day(), 0, 0, 0, 0, berlin)
	for back := 14; back >= 1; back-- {
		day := time.Date(today.Year(), today.Month(), today.Day()-back, 0, 0, 0, 0, berlin)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for ui, uid := range ids {
			t1 := taskIDs[(back+ui)%len(taskIDs)]
			t2 := taskIDs[(back*3+ui+5)%len(taskIDs)]
			s.AddWorklog(uid, t1, day.Add(9*time.Hour+time.Duration(ui)*15*time.Minute), 2*3600+ui*600, ModeComputer)
			s.AddWorklog(uid, t2, day.Add(13*time.Hour), 3*3600-ui*900, ModeComputer)
			if back%3 == 0 {
				s.AddWorklog(uid, "", day.Add(17*time.Hour), 1200, ModeComputer)
			}
		}
	}
	// Late evening work over midnight and a manual entry.
	s.AddWorklog(ids[0], taskIDs[0], time.Date(today.Year(), today.Month(), today.Day()-2, 23, 30, 0, 0, berlin), 3600, ModeComputer)
	s.AddWorklog(ids[0], taskIDs[9], time.Date(today.Year(), today.Month(), today.Day()-3, 15, 0, 0, 0, berlin), 1800, ModeManual)
	return d
}
