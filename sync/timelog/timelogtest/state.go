package timelogtest

import (
	"crypto/rand"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// User is a TimeLog employee.
type User struct {
	UserID    int
	ID        string // uuid; made when empty
	FirstName string
	LastName  string
	Initials  string
	Email     string
	Inactive  bool
	UserType  string // default "Employee"
	// CannotManageTasks: the user lacks project-management rights (POST /task → 403).
	CannotManageTasks bool
}

// Project is a TimeLog project. Projects cannot be created through REST.
type Project struct {
	ProjectID  int
	ID         string
	Name       string
	No         string
	CustomerID int
	Inactive   bool
	// NoTimeTracking: AllowTimeTracking false; registrations are refused (422).
	NoTimeTracking bool
}

// Task is a TimeLog task. The REST read model has no status; IsActive shows in
// task/filter and on registrations (TaskIsActive).
type Task struct {
	TaskID                   int
	ID                       string
	Name                     string
	No                       string
	ProjectID                int
	Inactive                 bool
	IsDefaultBillable        bool
	AdditionalTextIsRequired bool
	StartDate, EndDate       string // naive date-times as posted
	BudgetHours              float64
}

// Registration is a time registration. Date is "YYYY-MM-DD".
type Registration struct {
	TimeRegistrationID int
	GUID               string
	UserID             int
	TaskID             int // 0 on absence and support rows
	Date               string
	Hours              float64
	Billable           bool
	BillableHours      float64
	Comment            string
	AdditionalComment  string
	GroupType          int // 1 project, 3 absence …
	AbsenceCodeID      int
	ApprovalStatus     int // TimeRegistrationApprovalStatus 0–9; ≥ 6 locked
	IsInvoiced         bool
	Created            time.Time
	CreatedBy          int
	LastModified       time.Time
	LastModifiedBy     int
}

// ExternalSystem is an entry of /v1/external-systems.
type ExternalSystem struct {
	ExternalSystemID int
	Name             string
	Description      string
}

type token struct {
	userID  int
	expires time.Time
	revoked bool
}

type state struct {
	users    []*User
	projects []*Project
	tasks    []*Task
	regs     []*Registration
	alloc    map[[2]int]bool
	closed   map[int]map[string]bool // user → Monday "YYYY-MM-DD" → closed
	tokens   map[string]*token
	systems  []ExternalSystem
	extKeys  map[string][]extKey // "task/123" → keys
	nextUser int
	nextProj int
	nextTask int
	nextReg  int
	nextSys  int
}

type extKey struct {
	ExternalID       string
	ExternalSystemID int
}

func newState() state {
	return state{alloc: map[[2]int]bool{}, closed: map[int]map[string]bool{}, tokens: map[string]*token{},
		extKeys: map[string][]extKey{}, nextUser: 100, nextProj: 800, nextTask: 4960, nextReg: 123456, nextSys: 7}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// AddUser adds an employee; UserID and ID are assigned when zero.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.UserID == 0 {
		s.st.nextUser++
		u.UserID = s.st.nextUser
	}
	if u.ID == "" {
		u.ID = newUUID()
	}
	if u.UserType == "" {
		u.UserType = "Employee"
	}
	if u.Initials == "" && u.FirstName != "" && u.LastName != "" {
		u.Initials = strings.ToUpper(u.FirstName[:1] + u.LastName[:1])
	}
	cp := u
	s.st.users = append(s.st.users, &cp)
	return u
}

// IssueToken makes a personal access token for userID that expires at expires
// (emulator clock).
func (s *Server) IssueToken(userID int, expires time.Time) string {
	tok := "tlpat_" + strings.ReplaceAll(newUUID(), "-", "")
	s.mu.Lock()
	s.st.tokens[tok] = &token{userID: userID, expires: expires}
	s.mu.Unlock()
	return tok
}

// RevokeToken revokes a token (as on the personal-token page).
func (s *Server) RevokeToken(tok string) {
	s.mu.Lock()
	if t := s.st.tokens[tok]; t != nil {
		t.revoked = true
	}
	s.mu.Unlock()
}

// ExpireToken makes tok expire now (emulator clock).
func (s *Server) ExpireToken(tok string) {
	now := s.Clock.Now()
	s.mu.Lock()
	if t := s.st.tokens[tok]; t != nil {
		t.expires = now
	}
	s.mu.Unlock()
}

// AddProject adds a project (active, AllowTimeTracking unless set otherwise).
func (s *Server) AddProject(p Project) Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ProjectID == 0 {
		s.st.nextProj++
		p.ProjectID = s.st.nextProj
	}
	if p.ID == "" {
		p.ID = newUUID()
	}
	if p.No == "" {
		p.No = fmt.Sprintf("P%04d", p.ProjectID)
	}
	cp := p
	s.st.projects = append(s.st.projects, &cp)
	return p
}

// SeedProject adds an active project named name and returns its ProjectID as text
// (connectortest's Fixture).
func (s *Server) SeedProject(name string) string {
	return fmt.Sprint(s.AddProject(Project{Name: name}).ProjectID)
}

// AddTask adds a task as an administrator would (no rights checked, nobody allocated).
func (s *Server) AddTask(t Task) Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTaskLocked(t)
}

func (s *Server) addTaskLocked(t Task) Task {
	if t.TaskID == 0 {
		s.st.nextTask++
		t.TaskID = s.st.nextTask
	}
	if t.ID == "" {
		t.ID = newUUID()
	}
	cp := t
	s.st.tasks = append(s.st.tasks, &cp)
	return t
}

// Allocate adds userID to taskID (0 hours).
func (s *Server) Allocate(userID, taskID int) {
	s.mu.Lock()
	s.st.alloc[[2]int{userID, taskID}] = true
	s.mu.Unlock()
}

// Allocated reports whether userID is allocated to taskID.
func (s *Server) Allocated(userID, taskID int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.alloc[[2]int{userID, taskID}]
}

// AddRegistration stores a registration as the web UI would, without any rule
// checks. Missing ids, UserID (owner), GroupType (1, or 3 with an AbsenceCodeID)
// and timestamps are filled in.
func (s *Server) AddRegistration(r Registration) Registration {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addRegLocked(r, now)
}

func (s *Server) addRegLocked(r Registration, now time.Time) Registration {
	if r.TimeRegistrationID == 0 {
		s.st.nextReg++
		r.TimeRegistrationID = s.st.nextReg
	}
	if r.GUID == "" {
		r.GUID = newUUID()
	}
	if r.UserID == 0 {
		r.UserID = s.Owner.UserID
	}
	if r.GroupType == 0 {
		r.GroupType = 1
		if r.AbsenceCodeID != 0 {
			r.GroupType = 3
		}
	}
	if r.Created.IsZero() {
		r.Created = now
	}
	if r.CreatedBy == 0 {
		r.CreatedBy = r.UserID
	}
	if r.LastModified.IsZero() {
		r.LastModified = r.Created
	}
	if r.LastModifiedBy == 0 {
		r.LastModifiedBy = r.CreatedBy
	}
	cp := r
	s.st.regs = append(s.st.regs, &cp)
	return r
}

// TrackTime registers the owner's time on taskID (decimal text; "" = a row without
// a task, like a support-ticket row) as the web UI would, split at the midnights of
// the tenant zone (Options.Zone): one row per day (connectortest's Fixture).
func (s *Server) TrackTime(taskID string, start time.Time, d time.Duration) {
	id := 0
	if taskID != "" {
		_, _ = fmt.Sscan(taskID, &id)
	}
	for _, part := range splitDays(start, d, s.opts.Zone) {
		s.AddRegistration(Registration{TaskID: id, Date: part.day, Hours: part.seconds / 3600,
			GroupType: map[bool]int{true: 1, false: 2}[id != 0], Comment: "Tracked in TimeLog"})
	}
}

type daySeconds struct {
	day     string
	seconds float64
}

func splitDays(start time.Time, d time.Duration, loc *time.Location) []daySeconds {
	var out []daySeconds
	end := start.Add(d)
	for cur := start; cur.Before(end); {
		l := cur.In(loc)
		next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
		if next.After(end) {
			next = end
		}
		out = append(out, daySeconds{day: l.Format(time.DateOnly), seconds: next.Sub(cur).Seconds()})
		cur = next
	}
	return out
}

// EditRegistration changes a registration as its owner would in the web UI: edit
// runs on the stored row, then LastModified becomes now and LastModifiedBy the
// owner of the row (or by, when by ≠ 0). It reports whether the row exists.
func (s *Server) EditRegistration(id int, by int, edit func(r *Registration)) bool {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.regByIDLocked(id)
	if r == nil {
		return false
	}
	edit(r)
	r.LastModified = now
	r.LastModifiedBy = r.UserID
	if by != 0 {
		r.LastModifiedBy = by
	}
	return true
}

// DeleteRegistrationUI deletes a registration as a person would in the web UI.
func (s *Server) DeleteRegistrationUI(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.st.regs {
		if r.TimeRegistrationID == id {
			s.st.regs = append(s.st.regs[:i], s.st.regs[i+1:]...)
			return true
		}
	}
	return false
}

// SetApproval sets TimeRegistrationApprovalStatus (≥ 6 locks the row).
func (s *Server) SetApproval(id, status int) bool {
	return s.EditRegistration(id, 0, func(r *Registration) { r.ApprovalStatus = status })
}

// DeactivateTask and friends act as an administrator in the web UI.
func (s *Server) DeactivateTask(taskID int) { s.editTask(taskID, func(t *Task) { t.Inactive = true }) }

// ReactivateTask makes a task active again.
func (s *Server) ReactivateTask(taskID int) { s.editTask(taskID, func(t *Task) { t.Inactive = false }) }

// RenameTask renames a task as an administrator would.
func (s *Server) RenameTask(taskID int, name string) {
	s.editTask(taskID, func(t *Task) { t.Name = name })
}

func (s *Server) editTask(id int, f func(*Task)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.taskLocked(id); t != nil {
		f(t)
	}
}

// weekStart is the Monday of the ISO week of day ("YYYY-MM-DD").
func weekStart(day string) (string, bool) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", false
	}
	off := (int(t.Weekday()) + 6) % 7
	return t.AddDate(0, 0, -off).Format(time.DateOnly), true
}

// CloseWeek closes the week containing day ("YYYY-MM-DD") for userID: every write
// into it answers 422 ErrorCode 30012 and timesheet-status/weekly says "Closed".
func (s *Server) CloseWeek(userID int, day string) { s.setWeek(userID, day, true) }

// OpenWeek reopens the week containing day.
func (s *Server) OpenWeek(userID int, day string) { s.setWeek(userID, day, false) }

func (s *Server) setWeek(userID int, day string, closed bool) {
	ws, ok := weekStart(day)
	if !ok {
		panic("timelogtest: bad day " + day)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.closed[userID] == nil {
		s.st.closed[userID] = map[string]bool{}
	}
	s.st.closed[userID][ws] = closed
}

func (s *Server) weekClosedLocked(userID int, day string) bool {
	ws, _ := weekStart(day)
	return s.st.closed[userID][ws]
}

// AddExternalSystem adds an entry to /v1/external-systems (e.g. "Bitrix24").
func (s *Server) AddExternalSystem(name string) ExternalSystem {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.nextSys++
	e := ExternalSystem{ExternalSystemID: s.st.nextSys, Name: name}
	s.st.systems = append(s.st.systems, e)
	return e
}

// Registrations returns copies of all registrations (every user), by id.
func (s *Server) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Registration, 0, len(s.st.regs))
	for _, r := range s.st.regs {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TimeRegistrationID < out[j].TimeRegistrationID })
	return out
}

// Registration returns the registration with this GUID.
func (s *Server) Registration(guid string) (Registration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.regByGUIDLocked(guid); r != nil {
		return *r, true
	}
	return Registration{}, false
}

// Tasks returns copies of all tasks, by TaskID.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, 0, len(s.st.tasks))
	for _, t := range s.st.tasks {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TaskID < out[j].TaskID })
	return out
}

// Projects returns copies of all projects.
func (s *Server) Projects() []Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Project, 0, len(s.st.projects))
	for _, p := range s.st.projects {
		out = append(out, *p)
	}
	return out
}

func (s *Server) userLocked(id int) *User {
	for _, u := range s.st.users {
		if u.UserID == id {
			return u
		}
	}
	return nil
}

func (s *Server) projectLocked(id int) *Project {
	for _, p := range s.st.projects {
		if p.ProjectID == id {
			return p
		}
	}
	return nil
}

func (s *Server) taskLocked(id int) *Task {
	for _, t := range s.st.tasks {
		if t.TaskID == id {
			return t
		}
	}
	return nil
}

func (s *Server) regByIDLocked(id int) *Registration {
	for _, r := range s.st.regs {
		if r.TimeRegistrationID == id {
			return r
		}
	}
	return nil
}

func (s *Server) regByGUIDLocked(guid string) *Registration {
	for _, r := range s.st.regs {
		if strings.EqualFold(r.GUID, guid) {
			return r
		}
	}
	return nil
}

// round applies Options.Rounding to decimal hours.
func (s *Server) round(h float64) float64 {
	switch s.opts.Rounding {
	case Round2DP:
		return math.Round(h*100) / 100
	case RoundQuarter:
		return math.Round(h*4) / 4
	}
	return h
}

// ExternalKeys returns the external keys of a domain object, e.g. ("task", 4961),
// as "systemID:externalID".
func (s *Server) ExternalKeys(domain string, id int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.st.extKeys[fmt.Sprintf("%s/%d", domain, id)] {
		out = append(out, fmt.Sprintf("%d:%s", e.ExternalSystemID, e.ExternalID))
	}
	return out
}
