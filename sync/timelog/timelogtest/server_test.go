package timelogtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type reply struct {
	status int
	raw    string
	m      map[string]any
}

func do(t *testing.T, s *Server, tok, method, path, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.Root+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return reply{status: -1, raw: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &r.m)
	return r
}

func (r reply) props() map[string]any {
	p, _ := r.m["Properties"].(map[string]any)
	return p
}

func (r reply) entities() []map[string]any {
	var out []map[string]any
	es, _ := r.m["Entities"].([]any)
	for _, e := range es {
		p, _ := e.(map[string]any)["Properties"].(map[string]any)
		out = append(out, p)
	}
	return out
}

func (r reply) detailCode() float64 {
	ds, _ := r.m["Details"].([]any)
	if len(ds) == 0 {
		return 0
	}
	c, _ := ds[0].(map[string]any)["ErrorCode"].(float64)
	return c
}

const api = "/acme/api/v1/"

func TestRoutingAndAuth(t *testing.T) {
	s := New(Options{})
	t.Cleanup(s.Close)
	if !strings.HasSuffix(s.URL, "/acme/api") {
		t.Fatalf("URL %q", s.URL)
	}
	me := do(t, s, s.Token, "GET", api+"user/me", "")
	if me.status != 200 || me.props()["UserID"] != float64(29) || me.props()["Email"] != "ann@example.com" || me.m["Links"] == nil {
		t.Fatalf("me: %d %s", me.status, me.raw)
	}
	for _, tc := range []struct {
		name, tok, method, path string
		want                    int
	}{
		{"other account", s.Token, "GET", "/other/api/v1/user/me", 404},
		{"unknown route", s.Token, "GET", api + "nothing", 404},
		{"wrong verb", s.Token, "PUT", api + "user/me", 405},
		{"no task PUT", s.Token, "PUT", api + "task/1", 405},
		{"allocation GET", s.Token, "GET", api + "allocation", 405},
		{"no token", "", "GET", api + "user/me", 401},
		{"unknown token", "nope", "GET", api + "user/me", 401},
		{"quoted token", `"` + s.Token + `"`, "GET", api + "user/me", 401},
	} {
		r := do(t, s, tc.tok, tc.method, tc.path, "")
		if r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.raw, tc.want)
		}
		if tc.want == 405 && !strings.Contains(r.raw, "UnsupportedApiVersion") {
			t.Errorf("%s: 405 body %s", tc.name, r.raw)
		}
		if tc.want == 401 && (r.m["Code"] == nil || r.m["Message"] == nil) {
			t.Errorf("%s: 401 body %s", tc.name, r.raw)
		}
	}
	short := s.IssueToken(29, s.Clock.Now().Add(time.Hour))
	if r := do(t, s, short, "GET", api+"user/me", ""); r.status != 200 {
		t.Fatal("fresh token refused")
	}
	s.Clock.Advance(time.Hour)
	if r := do(t, s, short, "GET", api+"user/me", ""); r.status != 401 {
		t.Fatal("expired token accepted")
	}
	s.ExpireAuth()
	if r := do(t, s, s.Token, "GET", api+"user/me", ""); r.status != 401 {
		t.Fatal("revoked token accepted")
	}
}

func TestPaging(t *testing.T) {
	s := New(Options{MaxPageSize: 7})
	t.Cleanup(s.Close)
	for range 24 {
		s.AddUser(User{FirstName: "X", LastName: "Y"})
	}
	// 25 users. Default page 10 silently, even with $top/$skip/pageNumber.
	s2 := New(Options{})
	t.Cleanup(s2.Close)
	for range 24 {
		s2.AddUser(User{FirstName: "X", LastName: "Y"})
	}
	r := do(t, s2, s2.Token, "GET", api+"user?$top=100&$skip=0&pageNumber=2", "")
	p := r.props()
	if len(r.entities()) != 10 || p["TotalRecord"] != "25" || p["TotalPage"] != "3" || p["PageNumber"] != "1" {
		t.Fatalf("default page: %d entities, paging %v", len(r.entities()), p)
	}
	r = do(t, s2, s2.Token, "GET", api+"user?%24page=3&%24pagesize=10", "")
	if len(r.entities()) != 5 || r.props()["PageNumber"] != "3" {
		t.Fatalf("%%24 keys: %d entities, %v", len(r.entities()), r.props())
	}
	r = do(t, s, s.Token, "GET", api+"user?$page=1&$pagesize=500", "")
	if len(r.entities()) != 7 || r.props()["TotalPage"] != "4" {
		t.Fatalf("MaxPageSize cap: %d entities, %v", len(r.entities()), r.props())
	}
	s3 := New(Options{PlainArrayRoutes: []string{"/v1/user"}})
	t.Cleanup(s3.Close)
	if r := do(t, s3, s3.Token, "GET", api+"user", ""); !strings.HasPrefix(strings.TrimSpace(r.raw), "[") {
		t.Fatalf("bare array: %s", r.raw)
	}
}

// world is a server with a project, an allocated task and helpers.
func world(t *testing.T, o Options) (*Server, Project, Task) {
	s := New(o)
	t.Cleanup(s.Close)
	p := s.AddProject(Project{Name: "Website relaunch"})
	tk := s.AddTask(Task{Name: "Fix login [B24-8812]", ProjectID: p.ProjectID, IsDefaultBillable: true})
	s.Allocate(29, tk.TaskID)
	return s, p, tk
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestTasksAndAllocation(t *testing.T) {
	s, p, tk := world(t, Options{})
	tasks := do(t, s, s.Token, "GET", api+"task?projectID="+js(p.ProjectID)+"&$pagesize=500", "").entities()
	if len(tasks) != 1 || tasks[0]["Name"] != tk.Name {
		t.Fatalf("tasks %v", tasks)
	}
	for _, k := range []string{"IsActive", "Status", "TaskStatus"} {
		if _, ok := tasks[0][k]; ok {
			t.Fatalf("task read model has %s", k)
		}
	}
	s.DeactivateTask(tk.TaskID)
	f := do(t, s, s.Token, "GET", api+"task/filter?taskId="+js(tk.TaskID), "").entities()
	if len(f) != 1 || f[0]["IsActive"] != false || f[0]["TaskName"] != tk.Name {
		t.Fatalf("filter %v", f)
	}
	good := js(map[string]any{"TaskName": "New [B24-1]", "ProjectID": p.ProjectID, "StartDate": "2026-06-01T00:00:00", "EndDate": "2027-06-01T00:00:00"})
	if r := do(t, s, s.Token, "POST", api+"task/validate-new-task", good); r.status != 200 || len(s.Tasks()) != 1 {
		t.Fatalf("validate: %d, %d tasks", r.status, len(s.Tasks()))
	}
	if r := do(t, s, s.Token, "POST", api+"task", good); r.status != 200 || r.raw != "" || len(s.Tasks()) != 2 {
		t.Fatalf("create: %d %q, %d tasks", r.status, r.raw, len(s.Tasks()))
	}
	r := do(t, s, s.Token, "POST", api+"task", js(map[string]any{"TaskName": "x", "ProjectID": p.ProjectID}))
	if r.status != 400 || !strings.Contains(r.raw, "'Start Date' must not be empty.") || !strings.Contains(r.raw, "taskApiCreateModel") {
		t.Fatalf("missing field: %d %s", r.status, r.raw)
	}
	bad := js(map[string]any{"TaskName": "x", "ProjectID": 4711, "StartDate": "2026-06-01", "EndDate": "2027-06-01"})
	if r := do(t, s, s.Token, "POST", api+"task", bad); r.status != 500 {
		t.Fatalf("bad project: %d %s", r.status, r.raw)
	}
	s.ForbidCreate(true)
	if r := do(t, s, s.Token, "POST", api+"task", good); r.status != 403 || len(s.Tasks()) != 2 {
		t.Fatalf("forbidden: %d", r.status)
	}
	s.ForbidCreate(false)
	// allocation
	newTask := s.Tasks()[1]
	body := js(map[string]int{"UserId": 29, "TaskId": newTask.TaskID})
	for range 2 {
		if r := do(t, s, s.Token, "POST", api+"allocation", body); r.status != 200 || r.raw != "" {
			t.Fatalf("allocation: %d %q", r.status, r.raw)
		}
	}
	if !s.Allocated(29, newTask.TaskID) {
		t.Fatal("not allocated")
	}
	if r := do(t, s, s.Token, "POST", api+"allocation", "{}"); r.status != 400 || !strings.Contains(r.raw, "'User Id' must not be empty.") ||
		!strings.Contains(r.raw, "allocationCreateModel: {}") {
		t.Fatalf("empty allocation: %d %s", r.status, r.raw)
	}
	if r := do(t, s, s.Token, "GET", api+"task/999", ""); r.status != 500 || !strings.Contains(r.raw, "does not exist") {
		t.Fatalf("unknown task: %d %s", r.status, r.raw)
	}
}

func TestProjects(t *testing.T) {
	s, _, _ := world(t, Options{})
	s.AddProject(Project{Name: "Old", Inactive: true})
	s.AddProject(Project{Name: "Quote", NoTimeTracking: true, CustomerID: 5})
	all := do(t, s, s.Token, "GET", api+"project/get-all", "").entities()
	if len(all) != 2 {
		t.Fatalf("active projects %v", all)
	}
	if n := len(do(t, s, s.Token, "GET", api+"project/get-all?isActive=false", "").entities()); n != 1 {
		t.Fatalf("inactive: %d", n)
	}
	if n := len(do(t, s, s.Token, "GET", api+"project/get-all?customerID=5", "").entities()); n != 1 {
		t.Fatalf("customer: %d", n)
	}
	if n := len(do(t, s, s.Token, "GET", api+"project-header/search-for-time-tracking?searchText=", "").entities()); n != 1 {
		t.Fatalf("registrable: %d", n)
	}
}

func TestRegistrations(t *testing.T) {
	s, _, tk := world(t, Options{})
	guid := "0f8c2f5e-7a1b-5c52-9d0e-2b7f4e9a1c33"
	create := func(extra map[string]any) reply {
		m := map[string]any{"ID": guid, "TaskID": tk.TaskID, "Date": "2026-06-03T00:00:00", "Hours": 1.5, "GroupType": 1, "Comment": "Fix login"}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return do(t, s, s.Token, "POST", api+"time-registration", js(m))
	}
	for _, d := range []string{"2026-06-03T00:00:00Z", "2026-06-03T00:00:00+02:00", "03.06.2026"} {
		if r := create(map[string]any{"Date": d}); r.status != 400 {
			t.Fatalf("Date %q: %d", d, r.status)
		}
	}
	if r := create(nil); r.status != 200 || r.raw != "" {
		t.Fatalf("create: %d %q", r.status, r.raw)
	}
	if r := create(nil); r.status != 422 || r.detailCode() != CodeDuplicateGUID || r.m["Code"] != float64(102) {
		t.Fatalf("duplicate: %d %s", r.status, r.raw)
	}
	if r := create(map[string]any{"ID": nil, "Date": "2026-06-04", "Hours": nil, "Minutes": 45}); r.status != 200 {
		t.Fatalf("no GUID, minutes: %d %s", r.status, r.raw)
	}
	regs := s.Registrations()
	if len(regs) != 2 || regs[0].GUID != guid || regs[0].UserID != 29 || regs[1].GUID == "" || regs[1].Hours != 0.75 || regs[1].Date != "2026-06-04" {
		t.Fatalf("regs %+v", regs)
	}
	// Ben's row and an absence row.
	ben := s.AddUser(User{FirstName: "Ben", LastName: "Holm", Email: "ben@example.com"})
	s.AddRegistration(Registration{UserID: ben.UserID, TaskID: tk.TaskID, Date: "2026-06-03", Hours: 8})
	s.AddRegistration(Registration{Date: "2026-06-05", Hours: 4, AbsenceCodeID: 1})
	rows := do(t, s, s.Token, "GET", api+"time-tracking-item/get-by-date?startDate=2026-06-03T00:00:00&endDate=2026-06-05T23:59:59", "").entities()
	if len(rows) != 3 {
		t.Fatalf("get-by-date: %v", rows)
	}
	for _, r := range rows {
		if r["UserID"] != float64(29) || r["TimeRegistrationGUID"] != nil || r["ID"] != nil {
			t.Fatalf("row %v: owner only, no GUID", r)
		}
	}
	if rows[0]["Date"] != "2026-06-03T00:00:00" || rows[0]["Hours"] != 1.5 || rows[0]["TaskIsActive"] != true || rows[0]["LastModified"] != "2026-06-03T09:00:00" {
		t.Fatalf("row %v", rows[0])
	}
	if rows[2]["AbsenceCodeID"] != float64(1) {
		t.Fatalf("absence row %v", rows[2])
	}
	id := regs[0].TimeRegistrationID
	if r := do(t, s, s.Token, "GET", api+"time-registration/"+js(id), ""); r.props()["TimeRegistrationGUID"] != guid {
		t.Fatalf("by id: %s", r.raw)
	}
	if r := do(t, s, s.Token, "GET", api+"time-tracking-item/1", ""); r.status != 500 || !strings.Contains(r.raw, "No time tracking item matching") {
		t.Fatalf("unknown item: %d %s", r.status, r.raw)
	}
	// update-time: partial, bumps LastModified.
	s.Clock.Advance(time.Minute)
	if r := do(t, s, s.Token, "POST", api+"time-registration/update-time", js(map[string]any{"TimeRegistrationID": id, "Hours": 2})); r.status != 200 {
		t.Fatalf("update-time: %d %s", r.status, r.raw)
	}
	after, _ := s.Registration(guid)
	if after.Hours != 2 || after.Comment != "Fix login" || !after.LastModified.After(regs[0].LastModified) {
		t.Fatalf("after update %+v", after)
	}
	if r := do(t, s, s.Token, "POST", api+"time-registration/update-time", js(map[string]any{"TimeRegistrationID": 1, "Hours": 2})); r.status != 500 ||
		!strings.Contains(r.raw, "Time registration does not exist") {
		t.Fatalf("update unknown: %d", r.status)
	}
	// PUT: full replace by body GUID.
	if r := do(t, s, s.Token, "PUT", api+"time-registration", js(map[string]any{"ID": guid, "TaskID": tk.TaskID, "Date": "2026-06-03", "Hours": 3})); r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	if after, _ := s.Registration(guid); after.Hours != 3 || after.Comment != "" {
		t.Fatalf("put is a full replace: %+v", after)
	}
	// closed week, approval locks, weekly status
	s.CloseWeek(29, "2026-06-01")
	if r := create(map[string]any{"ID": nil}); r.status != 422 || r.detailCode() != CodeClosedWeek || !strings.Contains(r.raw, "Date is closed by Timesheet") {
		t.Fatalf("closed week: %d %s", r.status, r.raw)
	}
	if r := do(t, s, s.Token, "DELETE", api+"time-registration/"+guid, ""); r.status != 422 || r.detailCode() != CodeClosedWeek {
		t.Fatalf("delete in closed week: %d", r.status)
	}
	w := do(t, s, s.Token, "GET", api+"timesheet-status/weekly?startDate=2026-05-25T00:00:00&endDate=2026-06-14T00:00:00&userId=29", "").entities()
	ds, _ := w[0]["Details"].([]any)
	var st []string
	for _, d := range ds {
		st = append(st, d.(map[string]any)["TimesheetStatus"].(string))
	}
	if strings.Join(st, ",") != "Open,Closed,Open" {
		t.Fatalf("weekly %v", st)
	}
	s.OpenWeek(29, "2026-06-01")
	s.SetApproval(id, 6)
	if r := do(t, s, s.Token, "POST", api+"time-registration/update-time", js(map[string]any{"TimeRegistrationID": id, "Hours": 1})); r.status != 422 || r.detailCode() != CodeLocked {
		t.Fatalf("approved: %d %s", r.status, r.raw)
	}
	s.SetApproval(id, 0)
	// DELETE forms
	for _, tc := range []struct {
		form string
		byID bool
		want int
	}{{DeleteByInt, false, 404}, {DeleteByGUID, true, 404}, {DeleteByInt, true, 200}} {
		s.opts.DeleteIDForm = tc.form
		key := guid
		if tc.byID {
			key = js(id)
		}
		if r := do(t, s, s.Token, "DELETE", api+"time-registration/"+key, ""); r.status != tc.want {
			t.Fatalf("delete %s by id=%v: %d, want %d", tc.form, tc.byID, r.status, tc.want)
		}
	}
	if _, ok := s.Registration(guid); ok {
		t.Fatal("not deleted")
	}
}

func TestRegistrationRules(t *testing.T) {
	s, p, tk := world(t, Options{CommentMandatory: true})
	un := s.AddTask(Task{Name: "Unallocated", ProjectID: p.ProjectID})
	off := s.AddTask(Task{Name: "Inactive", ProjectID: p.ProjectID, Inactive: true})
	s.Allocate(29, off.TaskID)
	np := s.AddProject(Project{Name: "No tracking", NoTimeTracking: true})
	nt := s.AddTask(Task{Name: "t", ProjectID: np.ProjectID})
	s.Allocate(29, nt.TaskID)
	at := s.AddTask(Task{Name: "needs text", ProjectID: p.ProjectID, AdditionalTextIsRequired: true})
	s.Allocate(29, at.TaskID)
	for _, tc := range []struct {
		task    int
		comment string
		code    float64
	}{
		{un.TaskID, "x", CodeNotAllocated}, {off.TaskID, "x", CodeTaskInactive}, {nt.TaskID, "x", CodeNoTimeTracking},
		{tk.TaskID, "", CodeNoComment}, {at.TaskID, "x", CodeNoComment},
	} {
		r := do(t, s, s.Token, "POST", api+"time-registration", js(map[string]any{"TaskID": tc.task, "Date": "2026-06-03", "Hours": 1, "Comment": tc.comment}))
		if r.status != 422 || r.detailCode() != tc.code {
			t.Errorf("task %d: %d %s, want 422 %v", tc.task, r.status, r.raw, tc.code)
		}
	}
	if len(s.Registrations()) != 0 {
		t.Fatal("a refused write landed")
	}
}

func TestDuplicateModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want int
	}{{DuplicateReject422, 422}, {DuplicateReject500, 500}, {DuplicateNoop200, 200}} {
		s, _, tk := world(t, Options{DuplicateGUID: tc.mode, CreateReply: CreateReplyTAF})
		body := js(map[string]any{"ID": "0F8C2F5E-7A1B-5C52-9D0E-2B7F4E9A1C33", "TaskID": tk.TaskID, "Date": "2026-06-03", "Hours": 1})
		r := do(t, s, s.Token, "POST", api+"time-registration", body)
		if r.status != 200 || r.props()["TimeRegistrationID"] == nil {
			t.Fatalf("taf reply %s", r.raw)
		}
		if r := do(t, s, s.Token, "POST", api+"time-registration", body); r.status != tc.want || len(s.Registrations()) != 1 {
			t.Fatalf("%s: %d, %d rows", tc.mode, r.status, len(s.Registrations()))
		}
	}
}

func TestFaultKnobs(t *testing.T) {
	s, _, tk := world(t, Options{})
	s.FailOn("", "user/me", 1, 429, 3*time.Second)
	r := do(t, s, s.Token, "GET", api+"user/me", "")
	if r.status != 429 {
		t.Fatalf("fail: %d", r.status)
	}
	if r := do(t, s, s.Token, "GET", api+"user/me", ""); r.status != 200 {
		t.Fatal("fault did not clear")
	}
	for _, kind := range []string{MalformedInvalid, MalformedTruncated, MalformedHTML, MalformedEmpty} {
		s.Malformed(1, kind)
		r := do(t, s, s.Token, "GET", api+"user/me", "")
		var v any
		if r.status != 200 || json.Unmarshal([]byte(r.raw), &v) == nil {
			t.Fatalf("%s: %d %q parses", kind, r.status, r.raw)
		}
	}
	body := js(map[string]any{"TaskID": tk.TaskID, "Date": "2026-06-03", "Hours": 1})
	s.LoseReplyAfterWrite(1)
	if r := do(t, s, s.Token, "POST", api+"time-registration", body); r.status != 500 || len(s.Registrations()) != 1 {
		t.Fatalf("lose: %d, %d rows", r.status, len(s.Registrations()))
	}
	s.DropReplyAfterWrite(1)
	if r := do(t, s, s.Token, "POST", api+"time-registration", body); r.status != -1 || len(s.Registrations()) != 2 {
		t.Fatalf("drop: %d, %d rows", r.status, len(s.Registrations()))
	}
	if n := s.CountRequests("POST", "/v1/time-registration"); n != 2 {
		t.Fatalf("recorded %d creates", n)
	}
	// Race-safety: knobs flip while requests run.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				do(t, s, s.Token, "GET", api+"time-tracking-item/get-by-date?startDate=2026-06-01&endDate=2026-06-07", "")
				switch i % 4 {
				case 0:
					s.FailNext(1, 503)
				case 1:
					s.SetLatency(time.Millisecond)
				case 2:
					s.Clock.Advance(time.Second)
				case 3:
					s.EditRegistration(s.Registrations()[0].TimeRegistrationID, 0, func(r *Registration) { r.Hours++ })
				}
			}
		}()
	}
	wg.Wait()
	s.SetLatency(0)
}

func TestTrackTimeSplitsInTenantZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s, _, tk := world(t, Options{Zone: berlin})
	s.TrackTime(js(tk.TaskID), time.Date(2026, 6, 1, 21, 0, 0, 0, time.UTC), 2*time.Hour) // 23:00–01:00 CEST
	rs := s.Registrations()
	if len(rs) != 2 || rs[0].Date != "2026-06-01" || rs[0].Hours != 1 || rs[1].Date != "2026-06-02" {
		t.Fatalf("%+v", rs)
	}
}

func TestSeedDemo(t *testing.T) {
	s := New(Options{})
	t.Cleanup(s.Close)
	d := s.SeedDemo(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if d.Ann.Email != "ann@example.com" || d.Ben.Email != "ben@example.com" || d.Cara.Email != "cara@example.com" ||
		len(d.Projects) != 3 || len(d.Tasks) != 12 || d.ClosedWeek != "2026-05-25" || d.Tokens["ann@example.com"] != s.Token {
		t.Fatalf("demo %+v", d)
	}
	for _, name := range []string{"Website relaunch", "Mobile app", "Internal"} {
		if _, ok := d.Projects[name]; !ok {
			t.Fatalf("no project %q", name)
		}
	}
	rows := do(t, s, s.Token, "GET", api+"time-tracking-item/get-by-date?startDate=2026-05-25&endDate=2026-06-07T23:59:59&$pagesize=500", "").entities()
	if len(rows) != 10 {
		t.Fatalf("Ann's rows: %d", len(rows))
	}
	r := do(t, s, d.Tokens["ben@example.com"], "GET", api+"user/me", "")
	if r.props()["Email"] != "ben@example.com" {
		t.Fatalf("ben: %s", r.raw)
	}
}

func TestRateLimit(t *testing.T) {
	s := New(Options{RateLimit: 3})
	t.Cleanup(s.Close)
	limited := 0
	for range 10 {
		r := do(t, s, s.Token, "GET", api+"user/me", "")
		if r.status == 429 {
			limited++
		}
	}
	// Ten quick requests straddle at most two wall-clock seconds, three pass in each.
	if limited < 4 {
		t.Fatal("no 429 above the limit")
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Fatal("ResetRequests")
	}
}
