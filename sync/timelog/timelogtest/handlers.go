package timelogtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const naive = "2006-01-02T15:04:05"

// route is one endpoint: method and a pattern over the path after /<account>/api.
type route struct {
	method  string
	pattern *regexp.Regexp
	write   bool
	h       func(s *Server, c *call)
}

// call is one authenticated request.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	args  []string
	user  *User // signed-in user
	route string
	now   time.Time
}

var routes []route

func init() {
	add := func(method, pattern string, write bool, h func(s *Server, c *call)) {
		routes = append(routes, route{method, regexp.MustCompile("^/v1/" + pattern + "$"), write, h})
	}
	add("GET", "user/me", false, (*Server).getMe)
	add("GET", "user", false, (*Server).getUsers)
	add("GET", "user/(-?\\d+)", false, (*Server).getUser)
	add("GET", "user-setting", false, (*Server).getUserSetting)
	add("GET", "project/get-all", false, (*Server).getProjects)
	add("GET", "project-header/search-for-time-tracking", false, (*Server).searchProjects)
	add("GET", "project/(-?\\d+)", false, (*Server).getProject)
	add("GET", "task", false, (*Server).getTasks)
	add("GET", "task/filter", false, (*Server).filterTasks)
	add("GET", "task/(-?\\d+)", false, (*Server).getTask)
	add("POST", "task/validate-new-task", false, (*Server).validateTask)
	add("POST", "task", true, (*Server).createTask)
	add("POST", "allocation", true, (*Server).allocate)
	add("GET", "time-tracking-item/get-by-date", false, (*Server).getByDate)
	add("GET", "time-tracking-item/(-?\\d+)", false, (*Server).getItem)
	add("GET", "time-registration/(-?\\d+)", false, (*Server).getRegistration)
	add("POST", "time-registration", true, (*Server).createRegistration)
	add("POST", "time-registration/update-time", true, (*Server).updateTime)
	add("PUT", "time-registration", true, (*Server).putRegistration)
	add("DELETE", "time-registration/([^/]+)", true, (*Server).deleteRegistration)
	add("GET", "timesheet-status/weekly", false, (*Server).weeklyStatus)
	add("GET", "external-systems", false, (*Server).getSystems)
	add("GET", "(task|project|time-registration)/(\\d+)/external-keys", false, (*Server).getExtKeys)
	add("PUT", "(task|project|time-registration)/(\\d+)/external-keys", true, (*Server).putExtKey)
	add("DELETE", "(task|project|time-registration)/(\\d+)/external-keys", true, (*Server).deleteExtKey)
}

// handle routes one request and reports whether it was a write.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte) bool {
	prefix := "/" + s.opts.Account + "/api"
	p := r.URL.Path
	if !strings.HasPrefix(strings.ToLower(p), strings.ToLower(prefix)+"/") {
		writeJSON(w, http.StatusNotFound, map[string]string{"Message": "No HTTP resource was found that matches the request URI."})
		return false
	}
	rest := strings.TrimSuffix(p[len(prefix):], "/")
	var matched *route
	var args []string
	verbs := false
	for i := range routes {
		rt := &routes[i]
		m := rt.pattern.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		if rt.method != r.Method {
			verbs = true
			continue
		}
		matched, args = rt, m[1:]
		break
	}
	if matched == nil {
		if verbs {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"Code": "UnsupportedApiVersion",
				"Message": fmt.Sprintf("The HTTP resource that matches the request URI '%s' with API version '1' does not support HTTP method '%s'.", r.URL.String(), r.Method)})
			return false
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"Message": "No HTTP resource was found that matches the request URI."})
		return false
	}
	now := s.Clock.Now()
	user := s.authenticate(r, now)
	if user == nil {
		s.write401(w)
		return false
	}
	matched.h(s, &call{w: w, r: r, body: body, args: args, user: user, route: rest, now: now})
	return matched.write
}

func (s *Server) authenticate(r *http.Request, now time.Time) *User {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[tok] // quoted or padded tokens do not match
	var userID int
	switch {
	case t != nil && !t.revoked && now.Before(t.expires):
		userID = t.userID
	case t == nil && s.opts.LoginServer != nil:
		id, ok := s.opts.LoginServer(tok)
		if !ok {
			return nil
		}
		userID = id
	default:
		return nil
	}
	u := s.userLocked(userID)
	if u == nil || u.Inactive {
		return nil
	}
	cp := *u
	return &cp
}

// ---- envelopes and paging ----

func (c *call) self() []map[string]string {
	return []map[string]string{{"Href": "http://" + c.r.Host + c.r.URL.Path, "Rel": "self"}}
}

func (s *Server) single(c *call, props map[string]any) {
	writeJSON(c.w, http.StatusOK, map[string]any{"Properties": props, "Links": c.self(), "Actions": []any{}})
}

// list answers a TAF collection: default page size 10, silent cap at MaxPageSize,
// string paging numbers; $page 1-based. pageNumber, $skip and $top are ignored.
func (s *Server) list(c *call, items []map[string]any) {
	q := c.r.URL.Query() // %24page decodes to $page
	size := s.opts.DefaultPageSize
	if v, err := strconv.Atoi(q.Get("$pagesize")); err == nil && v > 0 {
		size = v
	}
	if s.opts.MaxPageSize > 0 && size > s.opts.MaxPageSize {
		size = s.opts.MaxPageSize
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("$page")); err == nil && v > 0 {
		page = v
	}
	total := len(items)
	pages := (total + size - 1) / size
	lo := min((page-1)*size, total)
	hi := min(lo+size, total)
	for _, suffix := range s.opts.PlainArrayRoutes {
		if strings.HasSuffix(c.route, suffix) {
			writeJSON(c.w, http.StatusOK, items[lo:hi])
			return
		}
	}
	ents := make([]map[string]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		ents = append(ents, map[string]any{"Properties": it, "Links": []any{}})
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"Properties": map[string]string{"TotalRecord": strconv.Itoa(total), "TotalPage": strconv.Itoa(pages), "PageNumber": strconv.Itoa(page)},
		"Entities":   ents, "Links": c.self()})
}

// ---- users ----

func (s *Server) userProps(u *User) map[string]any {
	m := map[string]any{"UserID": u.UserID, "ID": u.ID, "FirstName": u.FirstName, "LastName": u.LastName,
		"Initials": u.Initials, "IsActive": !u.Inactive, "UserType": u.UserType, "LegalEntityID": 1}
	if !s.opts.HideEmail {
		m["Email"] = u.Email
	}
	return m
}

func (s *Server) getMe(c *call) { s.single(c, s.userProps(c.user)) }

func (s *Server) getUsers(c *call) {
	s.mu.Lock()
	var items []map[string]any
	for _, u := range s.st.users {
		items = append(items, s.userProps(u))
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) getUser(c *call) {
	s.singleByID(c, "No user matching the identifier was found", func(id int) map[string]any {
		if u := s.userLocked(id); u != nil {
			return s.userProps(u)
		}
		return nil
	})
}

// singleByID answers GET …/{id}: props (called with s.mu held) gives the object's
// properties, or nil when there is none, which TimeLog answers with a 500 and
// notFound (spec §3.3).
func (s *Server) singleByID(c *call, notFound string, props func(id int) map[string]any) {
	id, _ := strconv.Atoi(c.args[0])
	s.mu.Lock()
	m := props(id)
	s.mu.Unlock()
	if m == nil {
		writeError(c.w, http.StatusInternalServerError, 200, notFound, "")
		return
	}
	s.single(c, m)
}

func (s *Server) getUserSetting(c *call) {
	s.single(c, map[string]any{"TimeFormat": 0, "TimeRoundingFormat": 0, "BillableHourIsEditable": true,
		"Privileges":    map[string]any{"RegistrationAllTasks": s.opts.RegistrationAllTasks},
		"SiteSettings":  map[string]any{"CommentIsMandatory": s.opts.CommentMandatory, "TimeRegistrationTimestamp": false},
		"ApprovalFlows": []any{}})
}

// ---- projects ----

func projectProps(p *Project) map[string]any {
	return map[string]any{"ProjectID": p.ProjectID, "ID": p.ID, "Name": p.Name, "No": p.No, "CustomerID": p.CustomerID,
		"Customer": map[string]any{"CustomerID": p.CustomerID}, "IsActive": !p.Inactive, "AllowTimeTracking": !p.NoTimeTracking,
		"BudgetWorkHours": 0, "BudgetWorkAmount": 0}
}

func (s *Server) getProjects(c *call) {
	q := c.r.URL.Query()
	active := !strings.EqualFold(q.Get("isActive"), "false")
	cust, hasCust := 0, q.Get("customerID") != ""
	if hasCust {
		cust, _ = strconv.Atoi(q.Get("customerID"))
	}
	s.mu.Lock()
	var items []map[string]any
	for _, p := range s.st.projects {
		if p.Inactive == active || (hasCust && p.CustomerID != cust) {
			continue
		}
		items = append(items, projectProps(p))
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) searchProjects(c *call) {
	text := strings.ToLower(c.r.URL.Query().Get("searchText"))
	s.mu.Lock()
	var items []map[string]any
	for _, p := range s.st.projects {
		if !p.Inactive && !p.NoTimeTracking && strings.Contains(strings.ToLower(p.Name), text) {
			items = append(items, projectProps(p))
		}
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) getProject(c *call) {
	s.singleByID(c, "Project with the ProjectID provided does not exist", func(id int) map[string]any {
		if p := s.projectLocked(id); p != nil {
			return projectProps(p)
		}
		return nil
	})
}

// ---- tasks ----

func (s *Server) taskProps(t *Task) map[string]any {
	m := map[string]any{"TaskID": t.TaskID, "ID": t.ID, "Name": t.Name, "No": t.No, "ProjectID": t.ProjectID,
		"ParentTaskID": 0, "ParentFullName": "", "IsFixedPrice": false, "IsDefaultBillable": t.IsDefaultBillable,
		"AdditionalTextIsRequired": t.AdditionalTextIsRequired, "IsTravelTimeTask": false, "IsFavourite": false}
	if p := s.projectLocked(t.ProjectID); p != nil {
		m["Project"] = map[string]any{"ProjectID": p.ProjectID, "ID": p.ID, "Name": p.Name, "No": p.No, "CustomerID": p.CustomerID}
	}
	return m
}

func (s *Server) getTasks(c *call) {
	q := c.r.URL.Query()
	pid, hasPid := 0, q.Get("projectID") != ""
	if hasPid {
		pid, _ = strconv.Atoi(q.Get("projectID"))
	}
	s.mu.Lock()
	var items []map[string]any
	for _, t := range s.st.tasks {
		if !hasPid || t.ProjectID == pid {
			items = append(items, s.taskProps(t))
		}
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) filterTasks(c *call) {
	q := c.r.URL.Query()
	num := func(k string) (int, bool) {
		v, err := strconv.Atoi(q.Get(k))
		return v, err == nil
	}
	pid, hasPid := num("projectId")
	tid, hasTid := num("taskId")
	guid := q.Get("taskGuid")
	act := q.Get("isActive")
	s.mu.Lock()
	var items []map[string]any
	for _, t := range s.st.tasks {
		if (hasPid && t.ProjectID != pid) || (hasTid && t.TaskID != tid) || (guid != "" && !strings.EqualFold(guid, t.ID)) ||
			(act != "" && strings.EqualFold(act, "true") == t.Inactive) {
			continue
		}
		items = append(items, map[string]any{"TaskID": t.TaskID, "ID": t.ID, "TaskName": t.Name, "TaskNo": t.No,
			"ProjectID": t.ProjectID, "IsActive": !t.Inactive, "ParentFullName": ""})
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) getTask(c *call) {
	s.singleByID(c, "Task with the TaskID provided does not exist", func(id int) map[string]any {
		if t := s.taskLocked(id); t != nil {
			return s.taskProps(t)
		}
		return nil
	})
}

// checkTask validates a TaskApiCreateModel; it answers and returns false on failure.
func (s *Server) checkTask(c *call) (Task, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(c.body, &raw); err != nil {
		writeValidation(c.w, "taskApiCreateModel", "The request body is not valid JSON.", c.body)
		return Task{}, false
	}
	s.mu.Lock()
	forbid := s.faults.forbid
	s.mu.Unlock()
	if forbid || c.user.CannotManageTasks {
		writeError(c.w, http.StatusForbidden, 100, "You do not have permission to create tasks on this project.", nil)
		return Task{}, false
	}
	for _, f := range s.opts.RequiredTaskFields {
		v, ok := raw[f]
		if !ok || string(v) == "null" || string(v) == `""` || (f == "ProjectID" && string(v) == "0") {
			writeValidation(c.w, "taskApiCreateModel", fmt.Sprintf("'%s' must not be empty.", spaced(f)), c.body)
			return Task{}, false
		}
	}
	var m struct {
		TaskName, TaskNo, StartDate, EndDate string
		ProjectID                            int
		BudgetHours                          float64
		IsBillable                           bool
	}
	if err := json.Unmarshal(c.body, &m); err != nil {
		writeValidation(c.w, "taskApiCreateModel", "The request is invalid: "+err.Error(), c.body)
		return Task{}, false
	}
	s.mu.Lock()
	p := s.projectLocked(m.ProjectID)
	s.mu.Unlock()
	if p == nil {
		writeError(c.w, http.StatusInternalServerError, 102, "Project with the ProjectID provided does not exist", []detail{})
		return Task{}, false
	}
	return Task{Name: m.TaskName, No: m.TaskNo, ProjectID: m.ProjectID, StartDate: m.StartDate, EndDate: m.EndDate,
		BudgetHours: m.BudgetHours, IsDefaultBillable: m.IsBillable}, true
}

// spaced turns "ProjectID" into "Project ID" as TimeLog's validator words it.
func spaced(f string) string {
	var b strings.Builder
	for i, r := range f {
		if i > 0 && r >= 'A' && r <= 'Z' && !(f[i-1] >= 'A' && f[i-1] <= 'Z') {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Server) validateTask(c *call) {
	if _, ok := s.checkTask(c); ok {
		c.w.WriteHeader(http.StatusOK)
	}
}

func (s *Server) createTask(c *call) {
	t, ok := s.checkTask(c)
	if !ok {
		return
	}
	s.mu.Lock()
	s.addTaskLocked(t)
	s.mu.Unlock()
	c.w.WriteHeader(http.StatusOK) // empty body, ids unknown to the caller
}

func (s *Server) allocate(c *call) {
	var m struct{ UserId, TaskId int }
	if err := json.Unmarshal(c.body, &m); err != nil || m.UserId == 0 || m.TaskId == 0 {
		msg := "'User Id' must not be empty."
		if m.UserId != 0 {
			msg = "'Task Id' must not be empty."
		}
		writeValidation(c.w, "allocationCreateModel", msg, c.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userLocked(m.UserId) == nil {
		writeRule(c.w, http.StatusInternalServerError, CodeNoUser, fmt.Sprintf("No user with UserID: %d exist", m.UserId))
		return
	}
	if s.taskLocked(m.TaskId) == nil {
		writeError(c.w, http.StatusInternalServerError, 200, "Task with the TaskID provided does not exist", "")
		return
	}
	s.st.alloc[[2]int{m.UserId, m.TaskId}] = true
	c.w.WriteHeader(http.StatusOK)
}

// ---- time registrations ----

func (s *Server) itemProps(r *Registration) map[string]any {
	m := map[string]any{"TimeRegistrationID": r.TimeRegistrationID, "UserID": r.UserID, "Date": r.Date + "T00:00:00",
		"Hours": r.Hours, "Minutes": int(math.Round(r.Hours * 60)), "BillableHours": r.BillableHours,
		"BillableMinutes": int(math.Round(r.BillableHours * 60)), "IsBillable": r.Billable, "Comment": r.Comment,
		"AdditionalTextField": r.AdditionalComment, "TaskID": r.TaskID, "AbsenceCodeID": r.AbsenceCodeID,
		"Created": r.Created.In(s.opts.Zone).Format(naive), "CreatedBy": r.CreatedBy,
		"LastModified": r.LastModified.In(s.opts.Zone).Format(naive), "LastModifiedBy": r.LastModifiedBy,
		"Status": true, "InvoiceStatus": r.IsInvoiced, "TimeRegistrationApprovalStatus": r.ApprovalStatus,
		"TimeTrackingFormat": 0, "MonthlyPeriod": 0, "IsFavourite": false, "StartTime": nil, "EndTime": nil,
		"IsTimestampOverlapping": false}
	if t := s.taskLocked(r.TaskID); t != nil {
		m["TaskName"], m["TaskFullName"], m["TaskNo"], m["TaskIsActive"] = t.Name, t.Name, t.No, !t.Inactive
		m["AdditionalTextIsRequired"], m["DefaultBillable"] = t.AdditionalTextIsRequired, t.IsDefaultBillable
		if p := s.projectLocked(t.ProjectID); p != nil {
			m["ProjectID"], m["ProjectName"], m["ProjectNo"], m["CustomerID"] = p.ProjectID, p.Name, p.No, p.CustomerID
		}
	}
	if r.AbsenceCodeID != 0 {
		m["AbsenceName"], m["AbsenceCode"], m["AbsenceIsActive"] = "Holiday", "FER", true
	}
	return m
}

// parseNaive parses a date or naive date-time; offsets and Z are refused.
func parseNaive(v string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, naive, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) getByDate(c *call) {
	q := c.r.URL.Query()
	from, ok1 := parseNaive(q.Get("startDate"))
	to, ok2 := parseNaive(q.Get("endDate"))
	if !ok1 || !ok2 {
		writeValidation(c.w, "getByDate", "'startDate' and 'endDate' must be valid dates.", nil)
		return
	}
	s.mu.Lock()
	var rows []*Registration
	for _, r := range s.st.regs {
		d, _ := time.Parse(time.DateOnly, r.Date)
		if r.UserID == c.user.UserID && !d.Before(from) && !d.After(to) {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Date < rows[j].Date })
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, s.itemProps(r))
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) getItem(c *call) {
	s.singleByID(c, "No time tracking item matching the identifier is found", func(id int) map[string]any {
		if r := s.regByIDLocked(id); r != nil && r.UserID == c.user.UserID {
			return s.itemProps(r)
		}
		return nil
	})
}

func (s *Server) getRegistration(c *call) {
	if s.opts.NoGUIDRead {
		writeJSON(c.w, http.StatusNotFound, map[string]string{"Message": "No HTTP resource was found that matches the request URI."})
		return
	}
	s.singleByID(c, "Time registration does not exist", func(id int) map[string]any {
		r := s.regByIDLocked(id)
		if r == nil || r.UserID != c.user.UserID {
			return nil
		}
		return map[string]any{"TimeRegistrationID": r.TimeRegistrationID, "TimeRegistrationGUID": r.GUID,
			"UserID": r.UserID, "TaskID": r.TaskID, "Date": r.Date + "T00:00:00", "Hours": r.Hours, "Comment": r.Comment,
			"ApprovalStatus": r.ApprovalStatus, "InvoiceStatus": map[bool]int{true: 2, false: 0}[r.IsInvoiced],
			"IsInvoiced": r.IsInvoiced, "IsInClosedAccountingPeriod": false, "Status": 1,
			"LastModified": r.LastModified.In(s.opts.Zone).Format(naive), "InterfaceCreated": "API", "InterfaceModified": "API"}
	})
}

// regModel is the create/update model; pointers tell "absent" from zero.
type regModel struct {
	TimeRegistrationID *int
	ID                 *string
	TaskID             *int
	UserID             *int
	Date               *string
	Hours              *float64
	Minutes            *int
	GroupType          *int
	Billable           *bool
	BillableHours      *float64
	Comment            *string
	AdditionalComment  *string
}

func decodeModel(c *call, model string) (regModel, bool) {
	var m regModel
	d := json.NewDecoder(bytes.NewReader(c.body))
	if err := d.Decode(&m); err != nil {
		writeValidation(c.w, model, "The request is invalid: "+err.Error(), c.body)
		return m, false
	}
	if m.Date != nil {
		t, ok := parseNaive(*m.Date)
		if !ok {
			writeValidation(c.w, model, "'Date' must be a date without a time zone offset.", c.body)
			return m, false
		}
		day := t.Format(time.DateOnly)
		m.Date = &day
	}
	return m, true
}

// checkWrite applies the rules every registration write passes (closed week,
// locks, task, project, allocation, comments); it answers and returns false on a
// violation. Callers hold s.mu.
func (s *Server) checkWriteLocked(c *call, r *Registration, old *Registration) bool {
	if old != nil && (old.ApprovalStatus >= 6 || old.IsInvoiced) {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeLocked, "Time registration is approved or invoiced and cannot be changed")
		return false
	}
	for _, x := range []*Registration{old, r} {
		if x != nil && s.weekClosedLocked(x.UserID, x.Date) {
			writeRule(c.w, http.StatusUnprocessableEntity, CodeClosedWeek, "Date is closed by Timesheet")
			return false
		}
	}
	if r == nil {
		return true
	}
	if s.userLocked(r.UserID) == nil {
		writeRule(c.w, http.StatusInternalServerError, CodeNoUser, fmt.Sprintf("No user with UserID: %d exist", r.UserID))
		return false
	}
	t := s.taskLocked(r.TaskID)
	if t == nil {
		writeError(c.w, http.StatusInternalServerError, 200, "Task with the TaskID provided does not exist", "")
		return false
	}
	if t.Inactive {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeTaskInactive, "The task is not active")
		return false
	}
	if p := s.projectLocked(t.ProjectID); p == nil || p.NoTimeTracking || p.Inactive {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeNoTimeTracking, "Time tracking is not allowed on the project")
		return false
	}
	if !s.opts.RegistrationAllTasks && !s.st.alloc[[2]int{r.UserID, r.TaskID}] {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeNotAllocated, "The user is not allocated to the task")
		return false
	}
	if s.opts.CommentMandatory && strings.TrimSpace(r.Comment) == "" {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeNoComment, "Comment is mandatory")
		return false
	}
	if t.AdditionalTextIsRequired && strings.TrimSpace(r.AdditionalComment) == "" {
		writeRule(c.w, http.StatusUnprocessableEntity, CodeNoComment, "Additional comment is required for this task")
		return false
	}
	return true
}

// apply copies the present fields of m onto r.
func (s *Server) apply(m regModel, r *Registration) {
	if m.TaskID != nil {
		r.TaskID = *m.TaskID
	}
	if m.Date != nil {
		r.Date = *m.Date
	}
	switch {
	case m.Hours != nil:
		r.Hours = *m.Hours
	case m.Minutes != nil:
		r.Hours = float64(*m.Minutes) / 60
	}
	r.Hours = s.round(r.Hours)
	if m.Billable != nil {
		r.Billable = *m.Billable
	}
	if m.BillableHours != nil {
		r.BillableHours = s.round(*m.BillableHours)
	}
	if m.Comment != nil {
		r.Comment = *m.Comment
	}
	if m.AdditionalComment != nil {
		r.AdditionalComment = *m.AdditionalComment
	}
	if m.GroupType != nil {
		r.GroupType = *m.GroupType
	}
}

func (s *Server) createRegistration(c *call) {
	m, ok := decodeModel(c, "timeRegistrationCreateModel")
	if !ok {
		return
	}
	if m.TaskID == nil || m.Date == nil || (m.Hours == nil && m.Minutes == nil) {
		writeValidation(c.w, "timeRegistrationCreateModel", "'Task ID', 'Date' and 'Hours' must not be empty.", c.body)
		return
	}
	r := Registration{UserID: c.user.UserID, GroupType: 1}
	if m.UserID != nil && *m.UserID != 0 {
		r.UserID = *m.UserID
	}
	if m.ID != nil {
		r.GUID = strings.ToLower(*m.ID)
	}
	s.apply(m, &r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.GUID != "" && s.regByGUIDLocked(r.GUID) != nil {
		switch s.opts.DuplicateGUID {
		case DuplicateNoop200:
			c.w.WriteHeader(http.StatusOK)
		case DuplicateReject500:
			writeRule(c.w, http.StatusInternalServerError, CodeDuplicateGUID, "A time registration with this ID already exists")
		default:
			writeRule(c.w, http.StatusUnprocessableEntity, CodeDuplicateGUID, "A time registration with this ID already exists")
		}
		return
	}
	if !s.checkWriteLocked(c, &r, nil) {
		return
	}
	r.CreatedBy, r.LastModifiedBy = c.user.UserID, c.user.UserID
	r.Created, r.LastModified = c.now, c.now
	r = s.addRegLocked(r, c.now)
	if s.opts.CreateReply == CreateReplyTAF {
		s.single(c, map[string]any{"TimeRegistrationID": r.TimeRegistrationID, "ID": r.GUID})
		return
	}
	c.w.WriteHeader(http.StatusOK)
}

func (s *Server) updateTime(c *call) {
	m, ok := decodeModel(c, "timeRegistrationUpdateTimeModel")
	if !ok {
		return
	}
	if m.TimeRegistrationID == nil || *m.TimeRegistrationID == 0 {
		writeValidation(c.w, "timeRegistrationUpdateTimeModel", "'Time Registration ID' must not be empty.", c.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.regByIDLocked(*m.TimeRegistrationID)
	if old == nil || old.UserID != c.user.UserID {
		writeError(c.w, http.StatusInternalServerError, 200, "Time registration does not exist", "")
		return
	}
	next := *old
	s.apply(m, &next)
	if !s.checkWriteLocked(c, &next, old) {
		return
	}
	next.LastModified, next.LastModifiedBy = c.now, c.user.UserID
	*old = next
	c.w.WriteHeader(http.StatusOK)
}

// putRegistration replaces the row with the body's ID GUID (full replace: omitted
// fields are blanked).
func (s *Server) putRegistration(c *call) {
	m, ok := decodeModel(c, "timeRegistrationUpdateModel")
	if !ok {
		return
	}
	if m.ID == nil || m.TaskID == nil || m.Date == nil {
		writeValidation(c.w, "timeRegistrationUpdateModel", "'ID', 'Task ID' and 'Date' must not be empty.", c.body)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.regByGUIDLocked(*m.ID)
	if old == nil || old.UserID != c.user.UserID {
		writeError(c.w, http.StatusNotFound, 200, "Time registration does not exist", "")
		return
	}
	next := Registration{TimeRegistrationID: old.TimeRegistrationID, GUID: old.GUID, UserID: old.UserID, GroupType: 1,
		Created: old.Created, CreatedBy: old.CreatedBy}
	s.apply(m, &next)
	if !s.checkWriteLocked(c, &next, old) {
		return
	}
	next.LastModified, next.LastModifiedBy = c.now, c.user.UserID
	*old = next
	c.w.WriteHeader(http.StatusOK)
}

func (s *Server) deleteRegistration(c *call) {
	key, _ := url.PathUnescape(c.args[0])
	s.mu.Lock()
	defer s.mu.Unlock()
	var r *Registration
	if id, err := strconv.Atoi(key); err == nil {
		if s.opts.DeleteIDForm != DeleteByGUID {
			r = s.regByIDLocked(id)
		}
	} else if s.opts.DeleteIDForm != DeleteByInt {
		r = s.regByGUIDLocked(key)
	}
	if r == nil || r.UserID != c.user.UserID {
		writeError(c.w, http.StatusNotFound, 200, "Time registration does not exist", "")
		return
	}
	if !s.checkWriteLocked(c, nil, r) {
		return
	}
	for i, x := range s.st.regs {
		if x == r {
			s.st.regs = append(s.st.regs[:i], s.st.regs[i+1:]...)
			break
		}
	}
	c.w.WriteHeader(http.StatusOK)
}

// weeklyStatus answers per employee the Open/Closed status of each week in range.
func (s *Server) weeklyStatus(c *call) {
	q := c.r.URL.Query()
	from, ok1 := parseNaive(q.Get("startDate"))
	to, ok2 := parseNaive(q.Get("endDate"))
	if !ok1 || !ok2 {
		writeValidation(c.w, "timesheetStatusWeekly", "'startDate' and 'endDate' must be valid dates.", nil)
		return
	}
	uid := c.user.UserID
	if v, err := strconv.Atoi(q.Get("userId")); err == nil && v != 0 {
		uid = v
	}
	s.mu.Lock()
	u := s.userLocked(uid)
	if u == nil {
		s.mu.Unlock()
		writeRule(c.w, http.StatusInternalServerError, CodeNoUser, fmt.Sprintf("No user with UserID: %d exist", uid))
		return
	}
	ws, _ := weekStart(from.Format(time.DateOnly))
	var details []map[string]any
	for d, _ := time.Parse(time.DateOnly, ws); !d.After(to); d = d.AddDate(0, 0, 7) {
		status := "Open"
		if s.st.closed[uid][d.Format(time.DateOnly)] {
			status = "Closed"
		}
		_, wk := d.ISOWeek()
		details = append(details, map[string]any{"WeekNumber": wk, "TimesheetStatus": status,
			"StartDate": d.Format(naive), "EndDate": d.AddDate(0, 0, 6).Format(naive)})
	}
	item := map[string]any{"EmployeeUserID": u.UserID, "Initials": u.Initials, "DisplayName": u.FirstName + " " + u.LastName,
		"AggregationType": 1, "Details": details}
	s.mu.Unlock()
	s.list(c, []map[string]any{item})
}

// ---- external keys ----

func (s *Server) getSystems(c *call) {
	s.mu.Lock()
	var items []map[string]any
	for _, e := range s.st.systems {
		items = append(items, map[string]any{"ExternalSystemID": e.ExternalSystemID, "Name": e.Name, "Description": e.Description})
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) getExtKeys(c *call) {
	k := c.args[0] + "/" + c.args[1]
	s.mu.Lock()
	var items []map[string]any
	for _, e := range s.st.extKeys[k] {
		items = append(items, map[string]any{"ExternalID": e.ExternalID, "ExternalSystemID": e.ExternalSystemID,
			"DomainType": c.args[0], "DomainID": c.args[1], "IsIgnored": false})
	}
	s.mu.Unlock()
	s.list(c, items)
}

func (s *Server) putExtKey(c *call) {
	var m struct {
		ExternalID       string
		ExternalSystemID int
	}
	if err := json.Unmarshal(c.body, &m); err != nil || m.ExternalID == "" || m.ExternalSystemID == 0 {
		writeValidation(c.w, "externalKeyModel", "'External ID' and 'External System ID' must not be empty.", c.body)
		return
	}
	k := c.args[0] + "/" + c.args[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.st.extKeys[k][:0]
	for _, e := range s.st.extKeys[k] {
		if e.ExternalSystemID != m.ExternalSystemID {
			keys = append(keys, e)
		}
	}
	s.st.extKeys[k] = append(keys, extKey{ExternalID: m.ExternalID, ExternalSystemID: m.ExternalSystemID})
	c.w.WriteHeader(http.StatusOK)
}

func (s *Server) deleteExtKey(c *call) {
	sys, err := strconv.Atoi(c.r.URL.Query().Get("externalSystemID"))
	if err != nil || sys == 0 {
		writeValidation(c.w, "externalKeyDelete", "'External System ID' must not be empty.", nil)
		return
	}
	k := c.args[0] + "/" + c.args[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.st.extKeys[k][:0]
	for _, e := range s.st.extKeys[k] {
		if e.ExternalSystemID != sys {
			keys = append(keys, e)
		}
	}
	s.st.extKeys[k] = keys
	c.w.WriteHeader(http.StatusOK)
}
