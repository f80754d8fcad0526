package timedoctortest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// call is one authenticated request being served.
type call struct {
	r       *http.Request
	q       url.Values
	body    []byte
	user    *user
	tok     *token
	company *company
	role    string
}

var (
	errNotFound   = errReply(http.StatusNotFound, "notFound", "Not Found")
	errForbidden  = errReply(http.StatusForbidden, "forbidden", "You don't have permission to perform this action")
	errMissing    = errReply(http.StatusUnprocessableEntity, "missingParameter", "Missing value in at least one of required parameters.")
	errBadToken   = errReply(http.StatusUnauthorized, "invalidToken", "Token ID is invalid or access is denied.")
	errConflict   = errReply(http.StatusConflict, "conflict", "The same resource of this type has already been registered.")
	errRangeWide  = "mergeRange: range too wide"
	errNoAPI      = errReply(http.StatusForbidden, "forbidden", "API access is not included in your plan. Please upgrade to Premium.")
	errBadRequest = errReply(http.StatusBadRequest, "badRequest", "Invalid parameter value.")
)

// route serves one request; s.mu is held.
func (s *Server) route(r *http.Request, path string, body []byte) reply {
	if strings.HasPrefix(path, "/oauth/v2/") || strings.HasPrefix(path, "/v1.1/") {
		return s.classicRoute(r, path, body)
	}
	var ver, rest string
	switch {
	case strings.HasPrefix(path, "/api/1.0/"):
		ver, rest = "1.0", strings.TrimPrefix(path, "/api/1.0/")
	case strings.HasPrefix(path, "/api/1.1/"):
		ver, rest = "1.1", strings.TrimPrefix(path, "/api/1.1/")
	default:
		return errNotFound
	}
	seg := strings.Split(rest, "/")
	m := r.Method

	if ver == "1.0" && m == http.MethodPost && (rest == "authorization/login" || rest == "login") {
		if (rest == "login" && s.opt.LoginRoutes == "authorization") || (rest != "login" && s.opt.LoginRoutes == "login") {
			return errNotFound
		}
		return s.login(body, rest != "login")
	}

	c := &call{r: r, q: r.URL.Query(), body: body}
	if rep, ok := s.authenticate(c); !ok {
		return rep
	}
	if s.opt.NoAPIAccess {
		return errNoAPI
	}
	if isWrite(m) && c.tok.perm == "read" {
		return errForbidden
	}

	switch {
	case ver == "1.0" && m == http.MethodGet && rest == "authorization":
		return ok(s.authorizationInfo(c.user, true))
	case ver == "1.0" && m == http.MethodGet && rest == "companies":
		var list []any
		for _, id := range sortedKeys(c.user.members) {
			list = append(list, s.membership(c.user, id))
		}
		return ok(orEmpty(list))
	case ver == "1.0" && m == http.MethodGet && len(seg) == 2 && seg[0] == "companies":
		if c.user.members[seg[1]] == nil {
			return errNotFound
		}
		return ok(s.membership(c.user, seg[1]))
	case ver == "1.0" && m == http.MethodGet && rest == "users/tokens":
		var list []any
		for _, t := range s.st.tokens {
			if t.userID == c.user.id {
				list = append(list, map[string]any{"id": t.value[:16], "userId": t.userID, "token": t.value,
					"createdAt": fmtTime(t.created), "expiresAt": fmtTime(t.expiresAt), "ip": "127.0.0.1", "userAgent": "", "__v": 0})
			}
		}
		return ok(orEmpty(list))
	}

	if rep, ok := s.companyOf(c); !ok {
		return rep
	}
	switch {
	case ver == "1.0" && seg[0] == "users" && len(seg) == 1 && m == http.MethodGet:
		return s.listUsers(c)
	case ver == "1.0" && seg[0] == "users" && len(seg) == 2 && m == http.MethodGet:
		if seg[1] == "me" {
			seg[1] = c.user.id
		}
		u := s.st.users[seg[1]]
		if u == nil || u.members[c.company.id] == nil {
			return errNotFound
		}
		if u != c.user && c.role == RoleUser {
			return errForbidden
		}
		return ok(s.userJSON(u, c.company.id))
	case ver == "1.0" && seg[0] == "users" && len(seg) == 2 && m == http.MethodPut:
		return s.putUser(c, seg[1])
	case ver == "1.0" && seg[0] == "projects" && len(seg) == 1 && m == http.MethodGet:
		return s.listProjects(c)
	case ver == "1.0" && seg[0] == "projects" && len(seg) == 1 && m == http.MethodPost:
		return s.createProject(c)
	case ver == "1.0" && seg[0] == "projects" && len(seg) == 2:
		return s.oneProject(c, seg[1])
	case ver == "1.0" && seg[0] == "tasks" && len(seg) == 1 && m == http.MethodGet:
		return s.listTasks(c)
	case ver == "1.0" && seg[0] == "tasks" && len(seg) == 1 && m == http.MethodPost:
		return s.createTask(c)
	case ver == "1.0" && seg[0] == "tasks" && len(seg) == 2:
		return s.oneTask(c, seg[1])
	case ver == "1.0" && rest == "activity/worklog" && m == http.MethodGet:
		return s.worklog(c)
	case ver == "1.0" && rest == "activity/edit-time" && m == http.MethodGet:
		return s.listEditTime(c)
	case ver == "1.0" && rest == "activity/edit-time" && m == http.MethodPost:
		return s.addEditTime(c)
	case ver == "1.1" && rest == "stats/total" && m == http.MethodGet:
		return s.statsTotal(c)
	}
	return errNotFound
}

func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) login(body []byte, full bool) reply {
	var in struct {
		Email, Password, TotpCode string
	}
	if json.Unmarshal(body, &in) != nil || in.Email == "" || in.Password == "" {
		return errMissing
	}
	var u *user
	for _, x := range s.st.users {
		if strings.EqualFold(x.email, strings.TrimSpace(in.Email)) {
			u = x
		}
	}
	if u == nil || u.password != in.Password || u.archived {
		return errReply(s.opt.BadLoginStatus, "invalidCredentials", "Invalid email or password.")
	}
	if u.totp != "" {
		if in.TotpCode == "" {
			if s.opt.TOTPSignal == "401message" {
				return errReply(http.StatusUnauthorized, "totpNeeded", "Two-factor authentication: totp code required.")
			}
			return ok(map[string]any{"status": "totpNeeded"})
		}
		if in.TotpCode != u.totp {
			return errReply(http.StatusUnauthorized, "invalidCode", "The verification code is not valid.")
		}
	}
	var perm struct {
		Permissions, Permission string
	}
	_ = json.Unmarshal(body, &perm)
	p := "write"
	if perm.Permissions == "read" || perm.Permission == "read" {
		p = "read"
	}
	t := s.issue(u.id, p)
	data := map[string]any{"token": t.value, "createdAt": fmtTime(t.created)}
	switch s.opt.ExpiryField {
	case "expires":
		data["expires"] = fmtTime(t.expiresAt)
	case "both":
		data["expires"] = fmtTime(t.expiresAt)
		data["expiresAt"] = fmtTime(t.expiresAt)
	default:
		data["expiresAt"] = fmtTime(t.expiresAt)
	}
	if full {
		for k, v := range s.authorizationInfo(u, false) {
			data[k] = v
		}
	}
	return reply{status: http.StatusOK, body: map[string]any{"data": data, "api": "auth-v1.3"}}
}

func (s *Server) authorizationInfo(u *user, long bool) map[string]any {
	var comps []any
	for _, id := range sortedKeys(u.members) {
		c := s.st.companies[id]
		if c == nil {
			continue
		}
		comps = append(comps, map[string]any{"id": c.id, "name": c.name, "role": u.members[id].role,
			"companyTimezone": c.zone, "userCount": s.userCount(id)})
	}
	out := map[string]any{"id": u.id, "name": u.name, "email": u.email, "companies": orEmpty(comps)}
	if long {
		out["emailConfirmed"] = true
		out["active"] = !u.archived
		out["twoFactorAuth"] = u.totp != ""
		out["timezones"] = []any{}
		out["adminSettings"] = map[string]any{}
		out["lastSeenGlobal"] = nil
		out["lastTrackGlobal"] = nil
	}
	return out
}

func (s *Server) userCount(companyID string) int {
	n := 0
	for _, u := range s.st.users {
		if u.members[companyID] != nil {
			n++
		}
	}
	return n
}

func (s *Server) membership(u *user, companyID string) map[string]any {
	c, mem := s.st.companies[companyID], u.members[companyID]
	if c == nil || mem == nil {
		return nil
	}
	return map[string]any{"role": mem.role, "hiredAt": fmtTime(mem.hired), "name": u.name, "allowManual": true,
		"isInteractive": true, "isSilent": false, "onlyProjectIds": orEmptyStr(mem.onlyProjectIDs), "tagIds": []any{},
		"lastSeen": map[string]any{}, "custom": map[string]any{},
		"company": map[string]any{"id": c.id, "name": c.name, "timezone": c.zone, "createdAt": fmtTime(c.created),
			"locked": false, "userCount": s.userCount(companyID)}}
}

func orEmptyStr(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// authenticate finds the token: "JWT <t>" header (unless HeaderAuthBroken), or ?token=.
func (s *Server) authenticate(c *call) (reply, bool) {
	value := c.q.Get("token")
	if value == "" && !s.opt.HeaderAuthBroken {
		scheme, v, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
		switch {
		case strings.EqualFold(scheme, "JWT"):
			value = strings.TrimSpace(v)
		case strings.EqualFold(scheme, "Bearer") && s.opt.AcceptBearer:
			value = strings.TrimSpace(v)
		}
	}
	t := s.st.tokens[value]
	if value == "" || t == nil || t.revoked || !s.Clock.Now().Before(t.expiresAt) {
		return errBadToken, false
	}
	u := s.st.users[t.userID]
	if u == nil || u.archived {
		return errBadToken, false
	}
	if s.expireAfter > 0 {
		s.expireAfter--
		if s.expireAfter == 0 {
			for _, x := range s.st.tokens {
				x.revoked = true
			}
		}
	}
	c.tok, c.user = t, u
	return reply{}, true
}

func (s *Server) companyOf(c *call) (reply, bool) {
	id := c.q.Get("company")
	if id == "" {
		return errReply(s.opt.CompanyErrorStatus, "missingParameter", "Missing value in at least one of required parameters."), false
	}
	comp, mem := s.st.companies[id], c.user.members[id]
	if comp == nil || mem == nil {
		return errReply(s.opt.CompanyErrorStatus, "invalidCompany", "You don't have access to this company."), false
	}
	c.company, c.role = comp, mem.role
	return reply{}, true
}

// page cuts items as the paging knobs say and builds the "paging" block.
func (s *Server) page(q url.Values, n int) (from, to int, paging map[string]any, bad bool) {
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = s.opt.DefaultLimit
	}
	if s.opt.MaxLimit > 0 && limit > s.opt.MaxLimit {
		limit = s.opt.MaxLimit
	}
	p := q.Get("page")
	skip := 0
	switch s.opt.PageMode {
	case "cursor":
		if p != "" {
			raw, err := base64.RawURLEncoding.DecodeString(p)
			if err != nil || !strings.HasPrefix(string(raw), "o:") {
				return 0, 0, nil, true
			}
			skip, _ = strconv.Atoi(strings.TrimPrefix(string(raw), "o:"))
		}
	case "index":
		if p != "" {
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 {
				return 0, 0, nil, true
			}
			skip = i * limit
		}
	default:
		if p != "" {
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 {
				return 0, 0, nil, true
			}
			skip = i
		}
	}
	from, to = min(skip, n), min(skip+limit, n)
	var next any
	if to < n {
		switch s.opt.PageMode {
		case "cursor":
			next = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(to)))
		case "index":
			next = skip/limit + 1
		default:
			next = to
		}
	}
	var cur any
	if p != "" {
		cur = p
	}
	if s.opt.NoPagingBlock {
		return from, to, nil, false
	}
	return from, to, map[string]any{"cur": cur, "next": next, "limit": limit, "totalCount": n}, false
}

func (s *Server) listReply(q url.Values, items []any) reply {
	from, to, paging, bad := s.page(q, len(items))
	if bad {
		return errBadRequest
	}
	body := map[string]any{"data": orEmpty(items[from:to])}
	if paging != nil {
		body["paging"] = paging
	}
	return reply{status: http.StatusOK, body: body}
}

func (s *Server) userJSON(u *user, companyID string) map[string]any {
	mem := u.members[companyID]
	status := "active"
	if u.archived {
		status = "archived"
	}
	return map[string]any{"id": u.id, "name": u.name, "email": u.email, "role": mem.role, "active": !u.archived,
		"status": status, "timezone": u.zone, "profileTimezone": u.zone, "onlyProjectIds": orEmptyStr(mem.onlyProjectIDs),
		"hiredAt": fmtTime(mem.hired), "createdAt": fmtTime(u.created), "employeeId": ""}
}

func (s *Server) listUsers(c *call) reply {
	switch s.opt.UsersListForbidden {
	case "everyone":
		return errForbidden
	case "nonAdmin":
		if c.role == RoleUser {
			return errForbidden
		}
	}
	var ids map[string]bool
	if v := c.q.Get("user"); v != "" {
		ids = map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			ids[id] = true
		}
	}
	email := strings.ToLower(c.q.Get("filter[email]"))
	name := strings.ToLower(c.q.Get("filter[name]"))
	role := c.q.Get("filter[role]")
	archived := c.q.Get("include-archived-users") == "true"
	var users []*user
	for _, u := range s.st.users {
		mem := u.members[c.company.id]
		if mem == nil || (u.archived && !archived) || (ids != nil && !ids[u.id]) || (role != "" && mem.role != role) {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(u.name), name) {
			continue
		}
		if email != "" {
			e := strings.ToLower(u.email)
			if (s.opt.EmailFilter == "prefix" && !strings.HasPrefix(e, email)) || (s.opt.EmailFilter == "exact" && e != email) {
				continue
			}
		}
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i].id < users[j].id })
	var list []any
	for _, u := range users {
		list = append(list, s.userJSON(u, c.company.id))
	}
	return s.listReply(c.q, list)
}

func (s *Server) putUser(c *call, id string) reply {
	u := s.st.users[id]
	if u == nil || u.members[c.company.id] == nil {
		return errNotFound
	}
	if c.role != RoleOwner && c.role != RoleAdmin {
		return errForbidden
	}
	var in struct {
		Name           *string
		Role           *string
		OnlyProjectIDs *[]string `json:"onlyProjectIds"`
	}
	if json.Unmarshal(c.body, &in) != nil {
		return errMissing
	}
	mem := u.members[c.company.id]
	if in.OnlyProjectIDs != nil {
		switch s.opt.AccessWrite {
		case "403":
			return errForbidden
		case "honoured":
			mem.onlyProjectIDs = append([]string(nil), (*in.OnlyProjectIDs)...)
		}
	}
	if in.Name != nil {
		u.name = *in.Name
	}
	if in.Role != nil {
		mem.role = *in.Role
	}
	return ok(s.userJSON(u, c.company.id))
}

// canSee reports whether the caller may see project p.
func (s *Server) canSee(c *call, projectID string) bool {
	if c.user.denied[projectID] {
		return false
	}
	mem := c.user.members[c.company.id]
	if c.role == RoleUser && len(mem.onlyProjectIDs) > 0 {
		for _, id := range mem.onlyProjectIDs {
			if id == projectID {
				return true
			}
		}
		return false
	}
	return true
}

func (s *Server) mayCreateProject(c *call) bool {
	return c.role == RoleOwner || c.role == RoleAdmin || (c.role == RoleManager && s.opt.ManagersCreate)
}

func (s *Server) mayWriteTask(c *call) bool {
	return s.mayCreateProject(c) || (c.role == RoleUser && s.opt.UsersCreateTasks)
}

func projectJSON(p *project) map[string]any {
	return map[string]any{"id": p.id, "name": p.name, "description": p.description, "creatorId": p.creator,
		"weight": 0, "deleted": p.deleted, "scope": "company", "integration": nil}
}

func (s *Server) listProjects(c *call) reply {
	name := strings.ToLower(c.q.Get("filter[name]"))
	var ps []*project
	for _, p := range s.st.projects {
		if p.company != c.company.id || !s.canSee(c, p.id) || (p.deleted && s.opt.DeletedInLists != "flagged") {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(p.name), name) {
			continue
		}
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	var list []any
	for _, p := range ps {
		list = append(list, projectJSON(p))
	}
	return s.listReply(c.q, list)
}

func (s *Server) createProject(c *call) reply {
	if !s.mayCreateProject(c) {
		return errForbidden
	}
	var in struct{ Name, Description string }
	if json.Unmarshal(c.body, &in) != nil || strings.TrimSpace(in.Name) == "" {
		return errMissing
	}
	if s.opt.DuplicateProjectName == "409" {
		for _, p := range s.st.projects {
			if p.company == c.company.id && !p.deleted && strings.EqualFold(p.name, in.Name) {
				return errConflict
			}
		}
	}
	p := &project{id: s.st.newID(s.Clock.Now()), company: c.company.id, name: in.Name, description: in.Description, creator: c.user.id}
	s.st.projects[p.id] = p
	return ok(projectJSON(p))
}

func (s *Server) oneProject(c *call, id string) reply {
	p := s.st.projects[id]
	if p == nil || p.company != c.company.id {
		return errNotFound
	}
	if !s.canSee(c, id) {
		return errForbidden
	}
	switch c.r.Method {
	case http.MethodGet:
		return ok(projectJSON(p))
	case http.MethodPut:
		if !s.mayCreateProject(c) {
			return errForbidden
		}
		var in struct{ Name, Description *string }
		if json.Unmarshal(c.body, &in) != nil {
			return errMissing
		}
		if in.Name != nil {
			p.name = *in.Name
		}
		if in.Description != nil {
			p.description = *in.Description
		}
		return ok(projectJSON(p))
	case http.MethodDelete:
		if !s.mayCreateProject(c) {
			return errForbidden
		}
		p.deleted, p.deletedAt = true, s.Clock.Now()
		return ok(projectJSON(p))
	}
	return errNotFound
}

func taskJSON(t *task) map[string]any {
	return map[string]any{"id": t.id, "name": t.name, "description": t.description,
		"project": map[string]any{"id": t.project, "weight": 0}, "status": t.status, "reporterId": t.reporter,
		"deleted": t.deleted, "deletedAt": fmtOptTime(t.deletedAt), "folders": []any{}, "integration": nil}
}

func (s *Server) listTasks(c *call) reply {
	var projects map[string]bool
	if v := c.q.Get("projects"); v != "" && !s.opt.IgnoreProjectFilter {
		projects = map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			projects[id] = true
		}
	}
	status := c.q.Get("filter[status]")
	name := strings.ToLower(c.q.Get("filter[name]"))
	var ts []*task
	for _, t := range s.st.tasks {
		if t.company != c.company.id || !s.canSee(c, t.project) || (t.deleted && s.opt.DeletedInLists != "flagged") {
			continue
		}
		if (projects != nil && !projects[t.project]) || (status != "" && t.status != status) {
			continue
		}
		if name != "" && !strings.Contains(strings.ToLower(t.name), name) {
			continue
		}
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	var list []any
	for _, t := range ts {
		list = append(list, taskJSON(t))
	}
	return s.listReply(c.q, list)
}

type taskBody struct {
	Project *struct {
		ID     string `json:"id"`
		Weight int    `json:"weight"`
	} `json:"project"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
	Deleted     *bool   `json:"deleted"`
}

func (s *Server) createTask(c *call) reply {
	var in taskBody
	if json.Unmarshal(c.body, &in) != nil || in.Project == nil || in.Project.ID == "" || in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return errMissing
	}
	p := s.st.projects[in.Project.ID]
	if p == nil || p.company != c.company.id || p.deleted {
		return errNotFound
	}
	if !s.mayWriteTask(c) || !s.canSee(c, p.id) {
		return errForbidden
	}
	t := &task{id: s.st.newID(s.Clock.Now()), company: c.company.id, project: p.id, name: *in.Name, status: "open", reporter: c.user.id}
	if in.Description != nil {
		t.description = *in.Description
	}
	s.st.tasks[t.id] = t
	return ok(map[string]any{"id": t.id, "name": t.name, "description": t.description, "status": t.status,
		"reporterId": t.reporter, "deleted": false, "project": map[string]any{"id": t.project}})
}

func (s *Server) oneTask(c *call, id string) reply {
	t := s.st.tasks[id]
	if t == nil || t.company != c.company.id {
		return errNotFound
	}
	if !s.canSee(c, t.project) {
		return errForbidden
	}
	if c.r.Method == http.MethodGet {
		return ok(taskJSON(t))
	}
	if !s.mayWriteTask(c) {
		return errForbidden
	}
	switch c.r.Method {
	case http.MethodPut:
		var in taskBody
		if json.Unmarshal(c.body, &in) != nil {
			return errMissing
		}
		if in.Project != nil && in.Project.ID != "" && in.Project.ID != t.project {
			p := s.st.projects[in.Project.ID]
			if p == nil || p.company != c.company.id {
				return errNotFound
			}
			if !s.canSee(c, p.id) {
				return errForbidden
			}
			if s.opt.MoveTask == "honoured" {
				t.project = p.id
			}
		}
		if in.Name != nil {
			if strings.TrimSpace(*in.Name) == "" {
				return errMissing
			}
			t.name = *in.Name
		}
		if in.Description != nil {
			t.description = *in.Description
		}
		if in.Status != nil && s.opt.TaskArchive != "deleteToggle" {
			if *in.Status != "open" && *in.Status != "closed" {
				return errMissing
			}
			t.status = *in.Status
		}
		if in.Deleted != nil && s.opt.TaskArchive != "status" {
			t.deleted = *in.Deleted
			if t.deleted {
				t.deletedAt = s.Clock.Now()
			} else {
				t.deletedAt = time.Time{}
			}
		}
		return ok(taskJSON(t))
	case http.MethodDelete:
		if s.opt.TaskArchive != "status" {
			t.deleted = !t.deleted
			if t.deleted {
				t.deletedAt = s.Clock.Now()
			} else {
				t.deletedAt = time.Time{}
			}
		}
		return ok(taskJSON(t))
	}
	return errNotFound
}

func parseInstant(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (s *Server) worklog(c *call) reply {
	from, ok1 := parseInstant(c.q.Get("from"))
	to, ok2 := parseInstant(c.q.Get("to"))
	if !ok1 || !ok2 || !to.After(from) {
		return errMissing
	}
	if to.Sub(from) > s.opt.MaxWorklogRange {
		if s.opt.RangeError == "400" {
			return errReply(http.StatusBadRequest, "mergeRange", errRangeWide)
		}
		return reply{status: http.StatusOK, body: map[string]any{"error": errRangeWide}}
	}
	var ids []string
	if v := c.q.Get("user"); v != "" {
		ids = strings.Split(v, ",")
	} else if s.opt.WorklogNoUser == "own" {
		ids = []string{c.user.id}
	}
	names := c.q.Get("task-project-names") == "true"
	var groups [][]any
	longest := 0
	for _, id := range ids {
		if id != c.user.id && c.role == RoleUser {
			return errForbidden
		}
		var segs []*segment
		for _, seg := range s.st.segments {
			if seg.user == id && seg.company == c.company.id {
				segs = append(segs, seg)
			}
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].start.Before(segs[j].start) })
		var rows []any
		for _, seg := range segs {
			start, secs := seg.start, seg.seconds
			end := start.Add(time.Duration(secs) * time.Second)
			atTo := s.opt.ToInclusive && start.Equal(to)
			switch s.opt.WorklogClip {
			case "startOnly":
				if start.Before(from) || (!start.Before(to) && !atTo) {
					continue
				}
			case "clip":
				if !end.After(from) || (!start.Before(to) && !atTo) {
					continue
				}
				if start.Before(from) {
					start = from
				}
				if end.After(to) && !atTo {
					end = to
				}
				secs = int(end.Sub(start) / time.Second)
			default:
				if !end.After(from) || (!start.Before(to) && !atTo) {
					continue
				}
			}
			row := map[string]any{"start": fmtTime(start), "time": secs, "mode": seg.mode, "userId": seg.user,
				"taskId": seg.task, "projectId": seg.project, "deviceId": seg.device}
			if names {
				row["taskName"], row["projectName"] = "", ""
				if t := s.st.tasks[seg.task]; t != nil {
					row["taskName"] = t.name
				}
				if p := s.st.projects[seg.project]; p != nil {
					row["projectName"] = p.name
				}
			}
			rows = append(rows, row)
		}
		longest = max(longest, len(rows))
		groups = append(groups, rows)
	}
	lo, hi, paging, bad := s.page(c.q, longest)
	if bad {
		return errBadRequest
	}
	data := make([]any, 0, len(groups))
	for _, g := range groups {
		data = append(data, orEmpty(g[min(lo, len(g)):min(hi, len(g))]))
	}
	body := map[string]any{"data": data}
	if paging != nil {
		body["paging"] = paging
	}
	return reply{status: http.StatusOK, body: body}
}

func (s *Server) statsTotal(c *call) reply {
	from, ok1 := parseInstant(c.q.Get("from"))
	to, ok2 := parseInstant(c.q.Get("to"))
	if !ok1 || !ok2 {
		return errMissing
	}
	want := map[string]bool{}
	all := c.q.Get("user") == "all" || c.q.Get("user") == ""
	for _, id := range strings.Split(c.q.Get("user"), ",") {
		want[id] = true
	}
	if c.role == RoleUser && (all || len(want) > 1 || !want[c.user.id]) {
		all, want = false, map[string]bool{c.user.id: true}
	}
	sums := map[string]int{}
	for _, seg := range s.st.segments {
		if seg.company != c.company.id || !(all || want[seg.user]) {
			continue
		}
		start, end := seg.start, seg.start.Add(time.Duration(seg.seconds)*time.Second)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if end.After(start) {
			sums[seg.user] += int(end.Sub(start) / time.Second)
		}
	}
	var list []any
	for _, id := range sortedKeys(sums) {
		list = append(list, map[string]any{"userId": id, "totalSec": sums[id]})
	}
	return ok(orEmpty(list))
}

func editJSON(e *editEntry) map[string]any {
	return map[string]any{"id": e.id, "start": fmtTime(e.start), "time": e.seconds, "approved": e.approved,
		"operation": e.operation, "taskId": e.task, "projectId": e.project, "reason": e.reason, "userId": e.user}
}

func (s *Server) listEditTime(c *call) reply {
	from, ok1 := parseInstant(c.q.Get("from"))
	to, ok2 := parseInstant(c.q.Get("to"))
	if !ok1 || !ok2 {
		return errMissing
	}
	want := map[string]bool{}
	for _, id := range strings.Split(c.q.Get("user"), ",") {
		if id != "" {
			want[id] = true
		}
	}
	if len(want) == 0 {
		want[c.user.id] = true
	}
	var list []any
	for _, e := range s.st.edits {
		if e.company != c.company.id || !want[e.user] || e.start.Before(from) || !e.start.Before(to) {
			continue
		}
		if e.user != c.user.id && c.role == RoleUser {
			return errForbidden
		}
		list = append(list, editJSON(e))
	}
	return ok(orEmpty(list))
}

func (s *Server) addEditTime(c *call) reply {
	var in struct {
		UserID, Start, End, TaskID, ProjectID, Operation, Reason string
		Approved                                                 bool
	}
	if json.Unmarshal(c.body, &in) != nil {
		return errMissing
	}
	start, ok1 := parseInstant(in.Start)
	end, ok2 := parseInstant(in.End)
	if !ok1 || !ok2 || !end.After(start) || in.UserID == "" {
		return errMissing
	}
	if in.Operation != "add" {
		return errReply(http.StatusUnprocessableEntity, "unsupported", "Only the add operation is supported.")
	}
	if in.UserID != c.user.id && c.role == RoleUser {
		return errForbidden
	}
	if t := s.st.tasks[in.TaskID]; in.TaskID != "" && (t == nil || t.company != c.company.id) {
		return errNotFound
	}
	e := &editEntry{id: s.st.newID(s.Clock.Now()), company: c.company.id, user: in.UserID, task: in.TaskID,
		project: in.ProjectID, operation: in.Operation, reason: in.Reason, start: start, seconds: int(end.Sub(start) / time.Second)}
	if s.opt.AutoApproveManual || (in.Approved && c.role != RoleUser) {
		s.approve(e)
	}
	s.st.edits = append(s.st.edits, e)
	return ok(editJSON(e))
}

// approve turns an edit-time entry into a manual segment; s.mu is held.
func (s *Server) approve(e *editEntry) {
	if e.approved {
		return
	}
	e.approved = true
	seg := &segment{user: e.user, company: e.company, task: e.task, project: e.project, mode: ModeManual, start: e.start, seconds: e.seconds}
	if t := s.st.tasks[e.task]; t != nil {
		seg.project = t.project
	}
	s.st.segments = append(s.st.segments, seg)
}

// ApproveEditTime approves a pending manual entry: its time appears in the worklog.
func (s *Server) ApproveEditTime(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.st.edits {
		if e.id == id {
			s.approve(e)
			return true
		}
	}
	return false
}
