package timedoctortest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Time Doctor Classic (webapi.timedoctor.com): OAuth 2 at /oauth/v2 with GET
// token requests and rotating refresh tokens, REST at /v1.1 with integer ids
// sent as strings, per-user projects and tasks, and worklogs with naive times in
// the company's zone.

type cCompany struct {
	id              int
	name, zone, sub string
}

type cUser struct {
	id, company      int
	name, email, lvl string
	active           bool
}

type cProject struct {
	id, company int
	name        string
	archived    bool
	users       []int
}

type cTask struct {
	id, company, user, project int
	name, link                 string
	active                     bool
	assignedBy                 int
}

type cLog struct {
	id, company, user, task, project int
	start                            time.Time
	length                           int
	edited                           bool
	mode                             string
}

type cGrant struct {
	user     int
	redirect string
	expires  time.Time
	used     bool
}

type classicState struct {
	seq       int
	companies map[int]*cCompany
	users     map[int]*cUser
	projects  map[int]*cProject
	tasks     map[int]*cTask
	logs      []*cLog
	codes     map[string]*cGrant
	access    map[string]*cGrant
	refresh   map[string]*cGrant
	browser   int // who is signed in to the browser for /oauth/v2/auth
}

func (c *classicState) init() {
	c.seq = 1000
	c.companies, c.users, c.projects, c.tasks = map[int]*cCompany{}, map[int]*cUser{}, map[int]*cProject{}, map[int]*cTask{}
	c.codes, c.access, c.refresh = map[string]*cGrant{}, map[string]*cGrant{}, map[string]*cGrant{}
}

func (c *classicState) next() int {
	c.seq += 7
	return c.seq
}

// AddClassicCompany creates a Classic company with an IANA zone; it returns its id.
func (s *Server) AddClassicCompany(name, zone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.classic.next()
	s.st.classic.companies[id] = &cCompany{id: id, name: name, zone: zone, sub: strings.ToLower(name)}
	return id
}

// AddClassicUser creates a Classic user with level admin, manager or user. The
// first user becomes the one signed in to the browser.
func (s *Server) AddClassicUser(company int, level, name, email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.classic.next()
	s.st.classic.users[id] = &cUser{id: id, company: company, name: name, email: email, lvl: level, active: true}
	if s.st.classic.browser == 0 {
		s.st.classic.browser = id
	}
	return id
}

// SetClassicLevel changes a Classic user's level (admin, manager, user).
func (s *Server) SetClassicLevel(user int, level string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.st.classic.users[user]; u != nil {
		u.lvl = level
	}
}

// SetClassicBrowserUser chooses who approves /oauth/v2/auth.
func (s *Server) SetClassicBrowserUser(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.classic.browser = id
}

// AddClassicProject creates a project assigned to users.
func (s *Server) AddClassicProject(company int, name string, users ...int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.classic.next()
	s.st.classic.projects[id] = &cProject{id: id, company: company, name: name, users: users}
	return id
}

// AddClassicTask creates a task of one user.
func (s *Server) AddClassicTask(user, project int, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.classic.users[user]
	if u == nil {
		return 0
	}
	id := s.st.classic.next()
	s.st.classic.tasks[id] = &cTask{id: id, company: u.company, user: user, project: project, name: name, active: true, assignedBy: user}
	return id
}

// AddClassicWorklog records a Classic worklog row (start is an instant; the API
// shows it naive in the company zone).
func (s *Server) AddClassicWorklog(user, task int, start time.Time, seconds int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.classic.users[user]
	if u == nil {
		return 0
	}
	l := &cLog{id: s.st.classic.next(), company: u.company, user: user, task: task, start: start.UTC(), length: seconds, mode: "0"}
	if t := s.st.classic.tasks[task]; t != nil {
		l.project = t.project
	}
	s.st.classic.logs = append(s.st.classic.logs, l)
	return l.id
}

// ClassicTaskState is a Classic task for assertions.
type ClassicTaskState struct {
	ID, User, Project int
	Name, Link        string
	Active            bool
}

// ClassicTasks lists all Classic tasks by id.
func (s *Server) ClassicTasks() []ClassicTaskState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ClassicTaskState
	for _, t := range s.st.classic.tasks {
		out = append(out, ClassicTaskState{t.id, t.user, t.project, t.name, t.link, t.active})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IssueClassicToken returns a valid access and refresh token for user.
func (s *Server) IssueClassicToken(user int) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.classicPair(user)
}

// ExpireClassicAccess makes every Classic access token expired.
func (s *Server) ExpireClassicAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.st.classic.access {
		g.expires = s.Clock.Now().Add(-time.Second)
	}
}

// RevokeClassicRefresh invalidates every Classic refresh token.
func (s *Server) RevokeClassicRefresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.st.classic.refresh {
		g.used = true
	}
}

func (s *Server) classicPair(user int) (string, string) {
	now := s.Clock.Now()
	a := strconv.Itoa(user) + "_" + newToken()
	r := strconv.Itoa(user) + "_" + newToken()
	s.st.classic.access[a] = &cGrant{user: user, expires: now.Add(s.opt.AccessTTL)}
	s.st.classic.refresh[r] = &cGrant{user: user, expires: now.Add(s.opt.RefreshTTL)}
	return a, r
}

func oauthErr(status int, code, desc string) reply {
	return reply{status: status, body: map[string]any{"error": code, "error_description": desc}}
}

func (s *Server) redirectAllowed(uri string) bool {
	if len(s.opt.RedirectURIs) > 0 {
		for _, u := range s.opt.RedirectURIs {
			if u == uri {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(uri)
	return err == nil && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1")
}

// num writes an integer as a string (NumbersAsStrings, the default) or a number.
func (s *Server) num(n int) any {
	if s.opt.NumbersAsNumbers {
		return n
	}
	return strconv.Itoa(n)
}

func (s *Server) classicRoute(r *http.Request, path string, body []byte) reply {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if form, err := url.ParseQuery(string(body)); err == nil && strings.Contains(r.Header.Get("Content-Type"), "form") {
			for k, v := range form {
				q[k] = v
			}
		}
	}
	switch path {
	case "/oauth/v2/auth":
		return s.classicAuthorize(q)
	case "/oauth/v2/token":
		return s.classicToken(q)
	}
	tok := q.Get("access_token")
	if scheme, v, _ := strings.Cut(r.Header.Get("Authorization"), " "); tok == "" && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(v)
	}
	g := s.st.classic.access[tok]
	if g == nil {
		return oauthErr(http.StatusUnauthorized, "invalid_grant", "The access token provided is invalid.")
	}
	if !s.Clock.Now().Before(g.expires) {
		return oauthErr(http.StatusUnauthorized, "invalid_grant", "The access token provided has expired.")
	}
	me := s.st.classic.users[g.user]
	if me == nil || !me.active {
		return oauthErr(http.StatusUnauthorized, "invalid_grant", "The access token provided is invalid.")
	}
	seg := strings.Split(strings.TrimPrefix(path, "/v1.1/"), "/")
	if seg[0] != "companies" {
		return errNotFound
	}
	if len(seg) == 1 && r.Method == http.MethodGet {
		return s.classicCompanies(me)
	}
	cid, err := strconv.Atoi(seg[1])
	if err != nil || cid != me.company {
		return errReply(http.StatusForbidden, "forbidden", "You don't have access to this company.")
	}
	rest := seg[2:]
	switch {
	case len(rest) == 1 && rest[0] == "users" && r.Method == http.MethodGet:
		return s.classicUsers(me, q)
	case len(rest) == 1 && rest[0] == "worklogs" && r.Method == http.MethodGet:
		return s.classicWorklogs(me, q)
	case len(rest) >= 2 && rest[0] == "users":
		uid, err := strconv.Atoi(rest[1])
		u := s.st.classic.users[uid]
		if err != nil || u == nil || u.company != cid {
			return errNotFound
		}
		if u != me && me.lvl == "user" {
			return errForbidden
		}
		sub := rest[2:]
		switch {
		case len(sub) == 0 && r.Method == http.MethodGet:
			return reply{status: 200, body: s.classicUserJSON(u)}
		case len(sub) >= 1 && sub[0] == "projects":
			return s.classicProjects(me, u, sub[1:], r.Method, q, body)
		case len(sub) >= 1 && sub[0] == "tasks":
			return s.classicTasks(me, u, sub[1:], r.Method, q, body)
		}
	}
	return errNotFound
}

func (s *Server) classicAuthorize(q url.Values) reply {
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.opt.ClassicClientID || !s.redirectAllowed(redirect) {
		return oauthErr(http.StatusBadRequest, "invalid_request", "Invalid client or redirect URI.")
	}
	if s.opt.NoAutoApprove || s.st.classic.browser == 0 {
		return reply{status: http.StatusOK, body: map[string]any{"page": "login"}}
	}
	u, _ := url.Parse(redirect)
	switch q.Get("response_type") {
	case "code":
		code := newToken()
		s.st.classic.codes[code] = &cGrant{user: s.st.classic.browser, redirect: redirect, expires: s.Clock.Now().Add(time.Minute)}
		v := u.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
	case "token":
		a, _ := s.classicPair(s.st.classic.browser)
		u.Fragment = "access_token=" + a + "&expires_in=" + strconv.Itoa(int(s.opt.AccessTTL/time.Second)) + "&token_type=bearer&state=" + url.QueryEscape(q.Get("state"))
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_response_type", "Invalid response type.")
	}
	return reply{status: http.StatusFound, header: http.Header{"Location": {u.String()}}}
}

func (s *Server) classicToken(q url.Values) reply {
	if q.Get("client_id") != s.opt.ClassicClientID || q.Get("client_secret") != s.opt.ClassicClientSecret {
		return oauthErr(http.StatusBadRequest, "invalid_client", "The client credentials are invalid")
	}
	now := s.Clock.Now()
	var user int
	switch q.Get("grant_type") {
	case "authorization_code":
		g := s.st.classic.codes[q.Get("code")]
		if g == nil || g.used || !now.Before(g.expires) || g.redirect != q.Get("redirect_uri") {
			return oauthErr(http.StatusBadRequest, "invalid_grant", "Code doesn't exist or is invalid for the client")
		}
		g.used, user = true, g.user
	case "refresh_token":
		g := s.st.classic.refresh[q.Get("refresh_token")]
		if g == nil || g.used || !now.Before(g.expires) {
			return oauthErr(http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
		}
		if !s.opt.NoRefreshRotation {
			g.used = true
		}
		user = g.user
	default:
		return oauthErr(http.StatusBadRequest, "invalid_request", "Invalid grant_type parameter or parameter missing")
	}
	a, r := s.classicPair(user)
	return reply{status: http.StatusOK, body: map[string]any{"access_token": a, "expires_in": int(s.opt.AccessTTL / time.Second),
		"token_type": "bearer", "scope": nil, "refresh_token": r}}
}

func (s *Server) classicUserJSON(u *cUser) map[string]any {
	first, last, _ := strings.Cut(u.name, " ")
	status := "active"
	if !u.active {
		status = "deactivated"
	}
	return map[string]any{"id": s.num(u.id), "user_id": s.num(u.id), "full_name": u.name, "first_name": first, "last_name": last,
		"email": u.email, "company_id": s.num(u.company), "level": u.lvl, "is_team_manager": u.lvl != "user", "status": status,
		"permanent_tasks": "0", "manual_time": "1", "managed_users": []any{}}
}

func (s *Server) classicCompanies(me *cUser) reply {
	c := s.st.classic.companies[me.company]
	var accounts []any
	if c != nil {
		accounts = append(accounts, map[string]any{"user_id": s.num(me.id), "company_id": s.num(c.id), "type": me.lvl,
			"company_name": c.name, "company_time_zone_id": 17, "company_time_zone": c.zone, "company_subdomain": c.sub,
			"force_project": "0", "managers_add_edit_projects": "1"})
	}
	return reply{status: 200, body: map[string]any{"user": map[string]any{"full_name": me.name, "email": me.email,
		"user_id": s.num(me.id), "company_id": s.num(me.company), "level": me.lvl, "manual_time": "1", "permanent_tasks": "0",
		"status": "active"}, "accounts": orEmpty(accounts)}}
}

func (s *Server) classicUsers(me *cUser, q url.Values) reply {
	want := map[string]bool{}
	for _, e := range strings.Split(q.Get("emails"), ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			want[e] = true
		}
	}
	var ids []int
	for id, u := range s.st.classic.users {
		if u.company == me.company && (len(want) == 0 || want[strings.ToLower(u.email)]) && (me.lvl != "user" || u == me) {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	var list []any
	for _, id := range ids {
		list = append(list, s.classicUserJSON(s.st.classic.users[id]))
	}
	return reply{status: 200, body: map[string]any{"users": orEmpty(list)}}
}

// classicPage cuts n items by offset (base 1 unless OffsetZero) and limit.
func (s *Server) classicPage(q url.Values, n, defLimit int) (lo, hi, offset, limit int) {
	base := 1
	if s.opt.OffsetZero {
		base = 0
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < base {
		offset = base
	}
	limit, err = strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = defLimit
	}
	if s.opt.MaxLimit > 0 && limit > s.opt.MaxLimit*5 {
		limit = s.opt.MaxLimit * 5
	}
	lo = min(offset-base, n)
	return lo, min(lo+limit, n), offset, limit
}

func (s *Server) classicProjectJSON(p *cProject) map[string]any {
	users := []any{}
	for _, u := range p.users {
		users = append(users, s.num(u))
	}
	return map[string]any{"project_id": s.num(p.id), "project_source": "tdo", "project_name": p.name,
		"archived": p.archived, "url": "", "users": users}
}

func hasInt(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) classicMayWrite(me *cUser) bool { return me.lvl == "admin" || me.lvl == "manager" }

func (s *Server) classicProjects(me, u *cUser, sub []string, method string, q url.Values, body []byte) reply {
	var in struct {
		AssignUsers string `json:"assign_users"`
		Project     struct {
			Name     *string `json:"name"`
			Archived *bool   `json:"archived"`
		} `json:"project"`
	}
	switch {
	case len(sub) == 0 && method == http.MethodGet:
		var ps []*cProject
		for _, p := range s.st.classic.projects {
			if p.company == u.company && (q.Get("all") == "1" || hasInt(p.users, u.id)) {
				ps = append(ps, p)
			}
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
		lo, hi, off, lim := s.classicPage(q, len(ps), 100)
		var list []any
		for _, p := range ps[lo:hi] {
			list = append(list, s.classicProjectJSON(p))
		}
		return reply{status: 200, body: map[string]any{"count": s.num(len(ps)), "offset": off, "limit": s.num(lim), "projects": orEmpty(list)}}
	case len(sub) == 0 && method == http.MethodPost:
		if !s.classicMayWrite(me) {
			return errForbidden
		}
		if json.Unmarshal(body, &in) != nil || in.Project.Name == nil || *in.Project.Name == "" {
			return errMissing
		}
		p := &cProject{id: s.st.classic.next(), company: u.company, name: *in.Project.Name, users: s.assign(u, in.AssignUsers)}
		s.st.classic.projects[p.id] = p
		return reply{status: 200, body: map[string]any{"project_id": s.num(p.id), "project_name": p.name}}
	case len(sub) == 1:
		pid, _ := strconv.Atoi(sub[0])
		p := s.st.classic.projects[pid]
		if p == nil || p.company != u.company {
			return errNotFound
		}
		switch method {
		case http.MethodGet:
			return reply{status: 200, body: s.classicProjectJSON(p)}
		case http.MethodPut:
			if !s.classicMayWrite(me) {
				return errForbidden
			}
			if json.Unmarshal(body, &in) != nil {
				return errMissing
			}
			if in.Project.Name != nil {
				p.name = *in.Project.Name
			}
			if in.Project.Archived != nil {
				p.archived = *in.Project.Archived
			}
			if in.AssignUsers != "" {
				p.users = s.assign(u, in.AssignUsers)
			}
			return reply{status: 200, body: s.classicProjectJSON(p)}
		case http.MethodDelete:
			if !s.classicMayWrite(me) {
				return errForbidden
			}
			delete(s.st.classic.projects, pid)
			return reply{status: 200, body: map[string]any{"success": true}}
		}
	}
	return errNotFound
}

func (s *Server) assign(u *cUser, users string) []int {
	if users == "include_all" {
		var all []int
		for id, x := range s.st.classic.users {
			if x.company == u.company {
				all = append(all, id)
			}
		}
		sort.Ints(all)
		return all
	}
	out := []int{u.id}
	for _, v := range strings.Split(users, ",") {
		if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && id != u.id {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) classicTaskJSON(t *cTask, one bool) map[string]any {
	pname := ""
	if p := s.st.classic.projects[t.project]; p != nil {
		pname = p.name
	}
	m := map[string]any{"task_id": s.num(t.id), "project_id": s.num(t.project), "project_name": pname, "task_name": t.name,
		"active": t.active, "user_id": s.num(t.user), "assigned_by": s.num(t.assignedBy), "url": "", "task_link": t.link}
	if one {
		m["id"] = s.num(t.id)
		m["status"] = "Active"
		if !t.active {
			m["status"] = "Inactive"
		}
	}
	return m
}

type cTaskBody struct {
	TaskName  *string         `json:"task_name"`
	ProjectID json.RawMessage `json:"project_id"`
	TaskLink  *string         `json:"task_link"`
	Active    *bool           `json:"active"`
	Status    *string         `json:"status"`
}

func rawInt(b json.RawMessage) (int, bool) {
	str := strings.Trim(strings.TrimSpace(string(b)), `"`)
	n, err := strconv.Atoi(str)
	return n, err == nil
}

func (s *Server) classicTasks(me, u *cUser, sub []string, method string, q url.Values, body []byte) reply {
	var in struct {
		Task cTaskBody `json:"task"`
	}
	switch {
	case len(sub) == 0 && method == http.MethodGet:
		var ts []*cTask
		status := q.Get("status")
		for _, t := range s.st.classic.tasks {
			if t.user != u.id || (status == "active" && !t.active) || (status == "inactive" && t.active) {
				continue
			}
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
		if q.Get("latest_first") == "1" {
			sort.Slice(ts, func(i, j int) bool { return ts[i].id > ts[j].id })
		}
		lo, hi, off, lim := s.classicPage(q, len(ts), 100)
		var list []any
		for _, t := range ts[lo:hi] {
			list = append(list, s.classicTaskJSON(t, false))
		}
		return reply{status: 200, body: map[string]any{"count": s.num(len(ts)), "offset": off, "limit": s.num(lim), "tasks": orEmpty(list)}}
	case len(sub) == 0 && method == http.MethodPost:
		if !s.classicMayWrite(me) && (u != me || s.opt.ClassicNoOwnTasks) {
			return errForbidden
		}
		if json.Unmarshal(body, &in) != nil || in.Task.TaskName == nil || *in.Task.TaskName == "" {
			return errMissing
		}
		pid, ok := rawInt(in.Task.ProjectID)
		p := s.st.classic.projects[pid]
		if !ok || p == nil || p.company != u.company {
			return errNotFound
		}
		t := &cTask{id: s.st.classic.next(), company: u.company, user: u.id, project: pid, name: *in.Task.TaskName, active: true, assignedBy: me.id}
		if in.Task.TaskLink != nil {
			t.link = *in.Task.TaskLink
		}
		s.st.classic.tasks[t.id] = t
		return reply{status: 200, body: map[string]any{"task_id": s.num(t.id)}}
	case len(sub) == 1:
		tid, _ := strconv.Atoi(sub[0])
		t := s.st.classic.tasks[tid]
		if t == nil || t.user != u.id {
			return errNotFound
		}
		switch method {
		case http.MethodGet:
			return reply{status: 200, body: s.classicTaskJSON(t, true)}
		case http.MethodPut:
			if !s.classicMayWrite(me) && (u != me || s.opt.ClassicNoOwnTasks) {
				return errForbidden
			}
			if json.Unmarshal(body, &in) != nil {
				return errMissing
			}
			if in.Task.TaskName != nil {
				t.name = *in.Task.TaskName
			}
			if pid, ok := rawInt(in.Task.ProjectID); ok {
				if p := s.st.classic.projects[pid]; p == nil || p.company != u.company {
					return errNotFound
				}
				t.project = pid
			}
			if in.Task.TaskLink != nil {
				t.link = *in.Task.TaskLink
			}
			if in.Task.Active != nil {
				t.active = *in.Task.Active
			}
			return reply{status: 200, body: s.classicTaskJSON(t, true)}
		}
	}
	return errNotFound
}

const naive = "2006-01-02 15:04:05"

func (s *Server) classicWorklogs(me *cUser, q url.Values) reply {
	c := s.st.classic.companies[me.company]
	loc, err := time.LoadLocation(c.zone)
	if err != nil {
		loc = time.UTC
	}
	from, err1 := time.ParseInLocation(time.DateOnly, q.Get("start_date"), loc)
	to, err2 := time.ParseInLocation(time.DateOnly, q.Get("end_date"), loc)
	if err1 != nil || err2 != nil || to.Before(from) {
		return errMissing
	}
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc)
	users := map[int]bool{}
	for _, v := range strings.Split(q.Get("user_ids"), ",") {
		if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			users[id] = true
		}
	}
	if me.lvl == "user" {
		if len(users) > 1 || (len(users) == 1 && !users[me.id]) {
			return errForbidden
		}
		users = map[int]bool{me.id: true}
	}
	var logs []*cLog
	total := 0
	for _, l := range s.st.classic.logs {
		if l.company == me.company && (len(users) == 0 || users[l.user]) && !l.start.Before(from) && l.start.Before(end) {
			logs = append(logs, l)
			total += l.length
		}
	}
	sort.Slice(logs, func(i, j int) bool { return logs[i].start.Before(logs[j].start) })
	consolidated := q.Get("consolidated") == "1" || (q.Get("consolidated") == "" && !s.opt.ConsolidatedZero)
	var items []any
	if consolidated {
		sums := map[int]int{}
		var order []*cLog
		for _, l := range logs {
			if _, ok := sums[l.task]; !ok {
				order = append(order, l)
			}
			sums[l.task] += l.length
		}
		for _, l := range order {
			items = append(items, map[string]any{"length": s.num(sums[l.task]), "user_id": s.num(l.user), "task_id": s.num(l.task), "project_id": s.num(l.project)})
		}
	} else {
		for _, l := range logs {
			tname, pname := "", ""
			if t := s.st.classic.tasks[l.task]; t != nil {
				tname = t.name
			}
			if p := s.st.classic.projects[l.project]; p != nil {
				pname = p.name
			}
			edited := "0"
			if l.edited {
				edited = "1"
			}
			items = append(items, map[string]any{"id": strconv.Itoa(l.id), "length": s.num(l.length), "user_id": s.num(l.user),
				"task_id": s.num(l.task), "project_id": s.num(l.project), "start_time": l.start.In(loc).Format(naive),
				"end_time": l.start.Add(time.Duration(l.length) * time.Second).In(loc).Format(naive), "edited": edited,
				"last_modified": "", "work_mode": l.mode, "user_name": "", "task_name": tname, "task_url": "", "project_name": pname})
		}
	}
	lo, hi, off, lim := s.classicPage(q, len(items), 100)
	return reply{status: 200, body: map[string]any{"start_time": from.Format(naive), "end_time": end.Add(-time.Second).Format(naive),
		"total": total, "worklogs": map[string]any{"count": len(items), "offset": off, "limit": lim, "items": orEmpty(items[lo:hi])}}}
}
