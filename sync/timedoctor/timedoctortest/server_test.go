package timedoctortest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type fix struct {
	s                 *Server
	company, owner    string
	ownerTok, userTok string
	user              string
}

func newFix(t *testing.T, o Options) *fix {
	t.Helper()
	s := New(o)
	t.Cleanup(s.Close)
	f := &fix{s: s}
	f.company = s.AddCompany("Acme", "Europe/Berlin")
	f.owner = s.AddUser(User{Company: f.company, Role: RoleOwner, Name: "Ann", Email: "ann@example.com"})
	f.user = s.AddUser(User{Company: f.company, Role: RoleUser, Name: "Cara", Email: "cara@example.com"})
	f.ownerTok, f.userTok = s.IssueToken(f.owner), s.IssueToken(f.user)
	return f
}

// do sends a request; auth is a full Authorization header value or "" for none.
func (f *fix) do(t *testing.T, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestAuthSchemes(t *testing.T) {
	f := newFix(t, Options{})
	cases := []struct {
		name, path, auth string
		want             int
	}{
		{"JWT", "/api/1.0/authorization", "JWT " + f.ownerTok, 200},
		{"Query", "/api/1.0/authorization?token=" + f.ownerTok, "", 200},
		{"Bearer", "/api/1.0/authorization", "Bearer " + f.ownerTok, 401},
		{"Unknown", "/api/1.0/authorization", "JWT nope", 401},
		{"None", "/api/1.0/authorization", "", 401},
		{"NoCompany", "/api/1.0/projects", "JWT " + f.ownerTok, 422},
		{"ForeignCompany", "/api/1.0/projects?company=zzz", "JWT " + f.ownerTok, 422},
	}
	for _, tc := range cases {
		code, body := f.do(t, "GET", tc.path, tc.auth, "")
		if code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, body, tc.want)
		}
		if code == 401 && body["error"] != "invalidToken" {
			t.Errorf("%s: body %v", tc.name, body)
		}
	}
	f.s.Clock.Advance(181 * 24 * time.Hour)
	if code, _ := f.do(t, "GET", "/api/1.0/authorization", "JWT "+f.ownerTok, ""); code != 401 {
		t.Errorf("expired token: %d", code)
	}
	for _, r := range f.s.Requests() {
		if strings.Contains(r.Query.Encode(), f.ownerTok) {
			t.Fatal("token recorded")
		}
	}
}

func TestLoginRoutesAndTOTP(t *testing.T) {
	f := newFix(t, Options{LoginRoutes: "login"})
	f.s.AddUser(User{Company: f.company, Email: "ben@example.com", Password: "pw", TOTP: "111111"})
	if code, _ := f.do(t, "POST", "/api/1.0/authorization/login", "", `{"email":"ann@example.com","password":"secret"}`); code != 404 {
		t.Fatalf("disabled route: %d", code)
	}
	code, body := f.do(t, "POST", "/api/1.0/login", "", `{"email":"ann@example.com","password":"secret"}`)
	data, _ := body["data"].(map[string]any)
	if code != 200 || len(data["token"].(string)) != 44 || data["expiresAt"] == nil || data["companies"] != nil {
		t.Fatalf("login: %d %v", code, body)
	}
	if code, body := f.do(t, "POST", "/api/1.0/login", "", `{"email":"ben@example.com","password":"pw"}`); code != 200 ||
		body["data"].(map[string]any)["status"] != "totpNeeded" {
		t.Fatalf("totp: %d %v", code, body)
	}
	if code, _ := f.do(t, "POST", "/api/1.0/login", "", `{"email":"ben@example.com","password":"pw","totpCode":"111111"}`); code != 200 {
		t.Fatalf("totp code: %d", code)
	}
	if code, _ := f.do(t, "POST", "/api/1.0/login", "", `{"email":"ben@example.com","password":"bad"}`); code != 401 {
		t.Fatalf("bad password: %d", code)
	}
	for _, r := range f.s.Requests() {
		if strings.Contains(r.Body, "secret") || strings.Contains(r.Body, "111111") {
			t.Fatalf("password or code recorded: %s", r.Body)
		}
	}
}

func TestPermissions(t *testing.T) {
	f := newFix(t, Options{})
	mgr := f.s.AddUser(User{Company: f.company, Role: RoleManager, Email: "ben@example.com"})
	mgrTok, readTok := f.s.IssueToken(mgr), f.s.IssueReadToken(f.owner)
	q := "?company=" + f.company
	post := func(tok string) int {
		code, _ := f.do(t, "POST", "/api/1.0/projects"+q, "JWT "+tok, `{"name":"X"}`)
		return code
	}
	if post(f.userTok) != 403 || post(mgrTok) != 403 || post(readTok) != 403 || post(f.ownerTok) != 200 {
		t.Fatal("project create permissions wrong")
	}
	f.s.Configure(func(o *Options) { o.ManagersCreate = true })
	if post(mgrTok) != 200 {
		t.Fatal("manager with the setting may create")
	}
	p := f.s.AddProject(f.company, "P")
	task := `{"project":{"id":"` + p + `","weight":0},"name":"T [B24-1]","description":"d"}`
	if code, _ := f.do(t, "POST", "/api/1.0/tasks"+q, "JWT "+f.userTok, task); code != 403 {
		t.Fatalf("user task create: %d", code)
	}
	f.s.Configure(func(o *Options) { o.UsersCreateTasks = true })
	code, body := f.do(t, "POST", "/api/1.0/tasks"+q, "JWT "+f.userTok, task)
	data, _ := body["data"].(map[string]any)
	if code != 200 || data["status"] != "open" || data["reporterId"] != f.user || data["deleted"] != false {
		t.Fatalf("user task create allowed: %d %v", code, body)
	}
	f.s.RevokeProjectAccess(f.user, p, true)
	if code, _ := f.do(t, "GET", "/api/1.0/projects/"+p+q, "JWT "+f.userTok, ""); code != 403 {
		t.Fatalf("revoked project: %d", code)
	}
	if _, body := f.do(t, "GET", "/api/1.0/tasks"+q, "JWT "+f.userTok, ""); len(body["data"].([]any)) != 0 {
		t.Fatalf("revoked project's tasks listed: %v", body)
	}
	if code, _ := f.do(t, "GET", "/api/1.0/users"+q, "JWT "+f.userTok, ""); code != 403 {
		t.Fatalf("user listing users: %d", code)
	}
}

func TestWorklogRules(t *testing.T) {
	f := newFix(t, Options{})
	p := f.s.AddProject(f.company, "P")
	task := f.s.AddTask(p, "T")
	f.s.AddWorklog(f.owner, task, time.Date(2026, 6, 2, 23, 30, 0, 0, time.UTC), 3600, "")
	f.s.AddWorklog(f.user, "", time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC), 60, ModeManual)
	base := "/api/1.0/activity/worklog?company=" + f.company + "&task-project-names=true&user=" + f.user + "," + f.owner
	code, body := f.do(t, "GET", base+"&from=2026-06-01T00:00:00Z&to=2026-06-09T00:00:00Z", "JWT "+f.ownerTok, "")
	if code != 200 || body["error"] != "mergeRange: range too wide" {
		t.Fatalf("8 days: %d %v", code, body)
	}
	code, body = f.do(t, "GET", base+"&from=2026-06-03T00:00:00Z&to=2026-06-10T00:00:00Z", "JWT "+f.ownerTok, "")
	groups, _ := body["data"].([]any)
	if code != 200 || len(groups) != 2 {
		t.Fatalf("7 days: %d %v", code, body)
	}
	cara, ann := groups[0].([]any), groups[1].([]any)
	if len(cara) != 1 || len(ann) != 1 {
		t.Fatalf("groups %v", groups)
	}
	row := ann[0].(map[string]any)
	if row["start"] != "2026-06-02T23:30:00.000Z" || row["time"] != 3600.0 || row["taskName"] != "T" || row["userId"] != f.owner {
		t.Fatalf("row %v (overlap mode returns the segment unclipped)", row)
	}
	if code, _ := f.do(t, "GET", base+"&from=2026-06-03T00:00:00Z&to=2026-06-04T00:00:00Z", "JWT "+f.userTok, ""); code != 403 {
		t.Fatalf("user reading another's worklog: %d", code)
	}
}

func TestPagingModesAndIDs(t *testing.T) {
	for _, mode := range []string{"offset", "index", "cursor"} {
		f := newFix(t, Options{PageMode: mode, MaxLimit: 4})
		var ids []string
		for i := range 10 {
			ids = append(ids, f.s.AddProject(f.company, "P"+string(rune('a'+i))))
			f.s.Clock.Advance(time.Millisecond)
		}
		for i := 1; i < len(ids); i++ {
			if len(ids[i]) != 16 || ids[i] <= ids[i-1] {
				t.Fatalf("ids %v not growing 16-char strings", ids)
			}
		}
		var got []string
		page := ""
		for range 10 {
			path := "/api/1.0/projects?limit=200&company=" + f.company
			if page != "" {
				path += "&page=" + page
			}
			_, body := f.do(t, "GET", path, "JWT "+f.ownerTok, "")
			for _, p := range body["data"].([]any) {
				got = append(got, p.(map[string]any)["id"].(string))
			}
			paging := body["paging"].(map[string]any)
			if paging["limit"] != 4.0 || paging["totalCount"] != 10.0 {
				t.Fatalf("%s: paging %v", mode, paging)
			}
			if paging["next"] == nil {
				break
			}
			b, _ := json.Marshal(paging["next"])
			page = strings.Trim(string(b), `"`)
		}
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Fatalf("%s: paged %v, want %v", mode, got, ids)
		}
	}
}

func TestTaskArchiveAndLostReply(t *testing.T) {
	f := newFix(t, Options{})
	q := "?company=" + f.company
	p := f.s.AddProject(f.company, "P")
	task := f.s.AddTask(p, "T")
	f.s.LoseReplyAfterWrite(1)
	if code, _ := f.do(t, "DELETE", "/api/1.0/tasks/"+task+q, "JWT "+f.ownerTok, ""); code != 500 {
		t.Fatalf("lost reply: %d", code)
	}
	if ts := f.s.Tasks(f.company); !ts[0].Deleted {
		t.Fatal("the write behind a lost reply was not applied")
	}
	f.do(t, "DELETE", "/api/1.0/tasks/"+task+q, "JWT "+f.ownerTok, "") // toggles back
	if ts := f.s.Tasks(f.company); ts[0].Deleted {
		t.Fatal("DELETE does not toggle")
	}
	f.do(t, "PUT", "/api/1.0/tasks/"+task+q, "JWT "+f.ownerTok, `{"status":"closed"}`)
	if ts := f.s.Tasks(f.company); ts[0].Status != "closed" {
		t.Fatal("PUT status ignored")
	}
}

func TestSeedDemo(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	d := s.SeedDemo()
	if len(d.Users) != 3 || len(d.Projects) != 3 || len(d.Tasks) != 12 || d.Tokens["cara@example.com"] == "" {
		t.Fatalf("demo %+v", d)
	}
	if n := len(s.st.segments); n < 20 {
		t.Fatalf("%d segments", n)
	}
}

func TestEditTimeAndRateLimit(t *testing.T) {
	f := newFix(t, Options{RateLimit: 2})
	q := "?company=" + f.company
	p := f.s.AddProject(f.company, "P")
	task := f.s.AddTask(p, "T")
	body := `{"userId":"` + f.user + `","start":"2026-06-02T10:00:00Z","end":"2026-06-02T10:30:00Z","taskId":"` + task + `","operation":"add","reason":"r","approved":true}`
	code, rep := f.do(t, "POST", "/api/1.0/activity/edit-time"+q, "JWT "+f.userTok, body)
	if code != 200 || rep["data"].(map[string]any)["approved"] != false {
		t.Fatalf("user's own manual add: %d %v, want pending", code, rep)
	}
	id := rep["data"].(map[string]any)["id"].(string)
	f.do(t, "GET", "/api/1.0/projects"+q, "JWT "+f.userTok, "")
	if code, _ := f.do(t, "GET", "/api/1.0/projects"+q, "JWT "+f.userTok, ""); code != 429 {
		t.Fatalf("third request within a second: %d, want 429", code)
	}
	f.s.Clock.Advance(time.Second)
	if len(f.s.st.segments) != 0 || !f.s.ApproveEditTime(id) || len(f.s.st.segments) != 1 || f.s.st.segments[0].mode != ModeManual {
		t.Fatal("approval does not add a manual segment")
	}
}
