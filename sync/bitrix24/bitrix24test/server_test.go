package bitrix24test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func newSrv(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// post sends a JSON body to /rest/<method> and returns status and decoded reply.
func post(t *testing.T, s *Server, method, query string, body any) (int, map[string]any, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	u := s.URL + "/rest/" + method
	if query != "" {
		u += "?" + query
	}
	req, _ := http.NewRequest("POST", u, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

type fx struct {
	s     *Server
	admin int
	user  int
	tokA  string
	tokU  string
}

func seeded(t *testing.T, opts Options) *fx {
	s := newSrv(t, opts)
	a := s.AddUser(User{Name: "Ann", Email: "ann@example.com", Admin: true, TimeZone: "Europe/Berlin"})
	u := s.AddUser(User{Name: "Bob", Email: "bob@example.com"})
	return &fx{s: s, admin: a, user: u, tokA: s.IssueToken(a).Access, tokU: s.IssueToken(u).Access}
}

// shape returns "path kind" lines for a JSON value; arrays use their first element.
func shape(v any, path string, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		out[path] = "object"
		for k, x := range t {
			shape(x, path+"."+k, out)
		}
	case []any:
		out[path] = "array"
		if len(t) > 0 {
			shape(t[0], path+"[]", out)
		}
	case string:
		out[path] = "string"
	case float64:
		out[path] = "number"
	case bool:
		out[path] = "bool"
	case nil:
		out[path] = "null"
	}
}

func diffShape(want, got any) []string {
	w, g := map[string]string{}, map[string]string{}
	shape(want, "$", w)
	shape(got, "$", g)
	var d []string
	for k, v := range w {
		if g[k] != v {
			d = append(d, fmt.Sprintf("%s: want %s, got %q", k, v, g[k]))
		}
	}
	for k, v := range g {
		if _, ok := w[k]; !ok {
			// Children of an empty fixture array have no shape to compare.
			parent := k[:strings.LastIndexAny(k, ".[")]
			if w[parent] == "array" && w[parent+"[]"] == "" {
				continue
			}
			d = append(d, fmt.Sprintf("%s: unexpected %s", k, v))
		}
	}
	sort.Strings(d)
	return d
}

func TestRecordedShapes(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		opts    Options
		run     func(t *testing.T, f *fx) (int, []byte)
		status  int
	}{
		{"f3_task_list_minimal.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			for i := 0; i < 60; i++ {
				f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
			}
			st, _, raw := post(t, f.s, "tasks.task.list", "", map[string]any{"select": []string{"ID", "STATUS"}, "auth": f.tokA})
			return st, raw
		}, 200},
		{"f4_batch_task_lists.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			for i := 0; i < 120; i++ {
				f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
			}
			st, _, raw := post(t, f.s, "batch", "", map[string]any{"halt": 0, "auth": f.tokA, "cmd": map[string]string{
				"cmd0": "tasks.task.list?select[]=ID&select[]=STATUS", "cmd1": "tasks.task.list?select[]=ID&select[]=STATUS&start=50"}})
			return st, raw
		}, 200},
		{"f4_batch_empty.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "batch", "", map[string]any{"halt": 0, "auth": f.tokA, "cmd": map[string]string{}})
			return st, raw
		}, 200},
		{"f5_elapsed_getlist_moscow.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			id := f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
			f.s.AddElapsedAs(f.user, id, 14400, "", time.Time{})
			st, _, raw := post(t, f.s, "task.elapseditem.getlist", "auth="+f.tokU, []any{id, map[string]string{"ID": "asc"}})
			return st, raw
		}, 200},
		{"f7_query_limit.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			f.s.SetFaults(func(fl *Faults) { fl.ForceQueryLimit = 1 })
			st, _, raw := post(t, f.s, "user.current", "", map[string]any{"auth": f.tokU})
			return st, raw
		}, 503},
		{"f8_expired_token.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			f.s.Clock.Advance(time.Hour + time.Second)
			st, _, raw := post(t, f.s, "user.current", "", map[string]any{"auth": f.tokU})
			return st, raw
		}, 401},
		{"f10_offline_denied.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "event.offline.list", "", map[string]any{"auth": f.tokU})
			return st, raw
		}, 403},
		{"f12_user_current.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "user.current.json", "", map[string]any{"auth": f.tokU})
			return st, raw
		}, 200},
		{"f12_task_get_missing.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "tasks.task.get", "", map[string]any{"taskId": 999, "auth": f.tokU})
			return st, raw
		}, 200},
		{"f12_elapsed_add.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			id := f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
			// A struct keeps the positional order; a map would be sorted.
			st, _, raw := post(t, f.s, "task.elapseditem.add", "", struct {
				TaskID int            `json:"TASKID"`
				Fields map[string]any `json:"ARFIELDS"`
				Auth   string         `json:"auth"`
			}{id, map[string]any{"SECONDS": 900, "COMMENT_TEXT": "x"}, f.tokU})
			return st, raw
		}, 200},
		{"f12_select_error.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "tasks.task.get", "", map[string]any{"taskId": 1, "select": map[string]any{}, "auth": f.tokU})
			return st, raw
		}, 400},
		{"f12_sort_error.json", Options{}, func(t *testing.T, f *fx) (int, []byte) {
			st, _, raw := post(t, f.s, "tasks.task.list", "", map[string]any{"order": map[string]any{"NOPE": "asc"}, "auth": f.tokU})
			return st, raw
		}, 400},
		{"f1_token_portal_domain.json", Options{TokenDomain: "portal"}, func(t *testing.T, f *fx) (int, []byte) {
			p := f.s.IssueToken(f.user)
			resp, err := http.PostForm(f.s.AuthURL+"/oauth/token/", url.Values{"grant_type": {"refresh_token"},
				"client_id": {f.s.ClientID()}, "client_secret": {f.s.ClientSecret()}, "refresh_token": {p.Refresh}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, raw
		}, 200},
		{"f9_late_code.json", Options{SkipConsent: true}, func(t *testing.T, f *fx) (int, []byte) {
			code := authorizeCode(t, f.s, f.s.opts.RedirectURI)
			f.s.Clock.Advance(31 * time.Second)
			resp, err := http.PostForm(f.s.AuthURL+"/oauth/token/", url.Values{"grant_type": {"authorization_code"},
				"client_id": {f.s.ClientID()}, "client_secret": {f.s.ClientSecret()}, "code": {code}})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, raw
		}, 400},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := seeded(t, tc.opts)
			st, raw := tc.run(t, f)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, raw)
			}
			fixture, err := os.ReadFile(filepath.Join("testdata", "recorded", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(fixture, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("reply is not JSON: %s", raw)
			}
			if d := diffShape(want, got); len(d) > 0 {
				t.Errorf("shape differs from %s:\n%s\nreply: %s", tc.fixture, strings.Join(d, "\n"), raw)
			}
		})
	}
}

func authorizeCode(t *testing.T, s *Server, redirect string) string {
	t.Helper()
	q := url.Values{"client_id": {s.ClientID()}, "state": {"st1"}, "redirect_uri": {redirect}}
	resp, err := s.Client().Get(s.URL + "/oauth/authorize/?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "st1" || loc.Query().Get("member_id") == "" {
		t.Fatalf("redirect %s", loc)
	}
	return loc.Query().Get("code")
}

func TestAuthorizeConsentAndRedirectPolicy(t *testing.T) {
	s := newSrv(t, Options{})
	s.AddUser(User{Name: "A", Admin: true})
	q := url.Values{"client_id": {s.ClientID()}, "state": {"xyz"}, "redirect_uri": {"http://127.0.0.1:7000/callback"}}
	resp, err := s.Client().Get(s.URL + "/oauth/authorize/?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `/oauth/authorize/allow?`) {
		t.Fatalf("no consent link: %s", page)
	}
	resp, err = s.Client().Get(s.URL + "/oauth/authorize/allow?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, "http://127.0.0.1:7000/callback?") || !strings.Contains(loc, "state=xyz") {
		t.Fatalf("redirect %d %q", resp.StatusCode, loc)
	}
	// Another port: exact policy shows an error page and never redirects.
	q.Set("redirect_uri", "http://127.0.0.1:7001/callback")
	resp, _ = s.Client().Get(s.URL + "/oauth/authorize/allow?" + q.Encode())
	resp.Body.Close()
	if resp.StatusCode == 302 {
		t.Fatal("exact policy redirected to an unregistered port")
	}
	h := newSrv(t, Options{RedirectPolicy: "host", SkipConsent: true})
	h.AddUser(User{Name: "A"})
	if authorizeCode(t, h, "http://127.0.0.1:7001/callback") == "" {
		t.Fatal("host policy: no code")
	}
}

func TestCodeAndRefreshAreSingleUse(t *testing.T) {
	s := newSrv(t, Options{SkipConsent: true})
	s.AddUser(User{Name: "A"})
	code := authorizeCode(t, s, "")
	exchange := func(v url.Values) (int, map[string]any) {
		v.Set("client_id", s.ClientID())
		v.Set("client_secret", s.ClientSecret())
		resp, err := http.Get(s.AuthURL + "/oauth/token/?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	st, tok := exchange(url.Values{"grant_type": {"authorization_code"}, "code": {code}})
	if st != 200 || len(tok["access_token"].(string)) != 70 {
		t.Fatalf("exchange %d %v", st, tok)
	}
	if st, m := exchange(url.Values{"grant_type": {"authorization_code"}, "code": {code}}); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reused code: %d %v", st, m)
	}
	rt := tok["refresh_token"].(string)
	st, tok2 := exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != 200 || tok2["refresh_token"] == rt {
		t.Fatalf("refresh %d %v", st, tok2)
	}
	if st, m := exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reused refresh: %d %v", st, m)
	}
	// The old access token died with the refresh.
	if st, m, _ := post(t, s, "user.current", "", map[string]any{"auth": tok["access_token"]}); st != 401 || m["error"] != "invalid_token" {
		t.Fatalf("old access: %d %v", st, m)
	}
	if st, _, _ := post(t, s, "user.current", "", map[string]any{"auth": tok2["access_token"]}); st != 200 {
		t.Fatalf("new access: %d", st)
	}
	s.Revoke()
	if st, m := exchange(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)}}); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("after revoke: %d %v", st, m)
	}
}

func TestPaginationAndCursor(t *testing.T) {
	f := seeded(t, Options{})
	for i := 0; i < 120; i++ {
		f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
	}
	for _, tc := range []struct {
		start             int
		rows, next, total int
	}{{0, 50, 50, 120}, {50, 50, 100, 120}, {100, 20, -1, 120}, {-1, 50, -1, 0}} {
		st, m, raw := post(t, f.s, "tasks.task.list", "", map[string]any{"start": tc.start, "auth": f.tokU, "order": map[string]string{"ID": "asc"}})
		if st != 200 {
			t.Fatal(string(raw))
		}
		rows := m["result"].(map[string]any)["tasks"].([]any)
		next, hasNext := m["next"].(float64)
		if len(rows) != tc.rows || (tc.next < 0) == hasNext || (hasNext && int(next) != tc.next) || int(m["total"].(float64)) != tc.total {
			t.Errorf("start %d: rows %d next %v total %v", tc.start, len(rows), m["next"], m["total"])
		}
	}
	// >ID cursor with start=-1.
	_, m, _ := post(t, f.s, "tasks.task.list", "", map[string]any{"start": -1, "auth": f.tokU, "order": map[string]string{"ID": "asc"},
		"filter": map[string]any{">ID": 100}})
	if rows := m["result"].(map[string]any)["tasks"].([]any); len(rows) != 20 || rows[0].(map[string]any)["id"] != "101" {
		t.Fatalf("cursor page: %d rows", len(rows))
	}
}

func TestRoleFilterVisibilityAndDates(t *testing.T) {
	f := seeded(t, Options{})
	other := f.s.AddUser(User{Name: "C"})
	t1 := f.s.AddTask(Task{Title: "resp", ResponsibleID: f.user})
	f.s.Clock.Advance(10 * time.Minute)
	t2 := f.s.AddTask(Task{Title: "acc", ResponsibleID: other, Accomplices: []int{f.user}})
	f.s.AddTask(Task{Title: "foreign", ResponsibleID: other})
	body := map[string]any{"auth": f.tokU, "order": map[string]string{"ID": "asc"}, "filter": map[string]any{
		"::SUBFILTER-ROLE": map[string]any{"::LOGIC": "OR", "RESPONSIBLE_ID": f.user, "ACCOMPLICE": f.user}}}
	_, m, _ := post(t, f.s, "tasks.task.list", "", body)
	rows := m["result"].(map[string]any)["tasks"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["id"] != fmt.Sprint(t1) || rows[1].(map[string]any)["id"] != fmt.Sprint(t2) {
		t.Fatalf("role filter rows: %v", rows)
	}
	since := f.s.Clock.Now().Add(-time.Minute).In(time.FixedZone("", 2*3600)).Format(isoLayout)
	_, m, _ = post(t, f.s, "tasks.task.list", "", map[string]any{"auth": f.tokU, "filter": map[string]any{">=CHANGED_DATE": since, "ID": []int{t1, t2}}})
	if rows := m["result"].(map[string]any)["tasks"].([]any); len(rows) != 1 {
		t.Fatalf(">=CHANGED_DATE rows: %v", rows)
	}
	// Server offset in the envelope, Moscow by default.
	if ds := m["time"].(map[string]any)["date_start"].(string); !strings.HasSuffix(ds, "+03:00") {
		t.Fatalf("date_start %s", ds)
	}
	// Deleted tasks vanish; restore keeps the id.
	f.s.DeleteTask(t1)
	_, m, _ = post(t, f.s, "tasks.task.get", "", map[string]any{"auth": f.tokU, "taskId": t1})
	if _, ok := m["result"].([]any); !ok {
		t.Fatalf("get deleted: %v", m)
	}
	f.s.RestoreTask(t1)
	_, m, _ = post(t, f.s, "tasks.task.get", "", map[string]any{"auth": f.tokU, "taskId": t1})
	if m["result"].(map[string]any)["task"].(map[string]any)["action"].(map[string]any)["elapsedtime.add"] != true {
		t.Fatalf("get restored: %v", m)
	}
}

func TestElapsedPositionalAndRights(t *testing.T) {
	f := seeded(t, Options{})
	other := f.s.AddUser(User{Name: "C"})
	tok2 := f.s.IssueToken(other).Access
	task := f.s.AddTask(Task{Title: "t", ResponsibleID: f.user, Accomplices: []int{other}})
	foreign := f.s.AddTask(Task{Title: "f", ResponsibleID: f.admin})
	st, m, raw := post(t, f.s, "task.elapseditem.add", "auth="+f.tokU, []any{task, map[string]any{"SECONDS": 600, "COMMENT_TEXT": "a"}})
	if st != 200 {
		t.Fatalf("array add: %s", raw)
	}
	id := int(m["result"].(float64))
	if st, m, _ := post(t, f.s, "task.elapseditem.add", "foo=bar", map[string]any{"TASKID": task, "ARFIELDS": map[string]any{"SECONDS": 1}, "auth": f.tokU}); st != 400 ||
		!strings.Contains(m["error_description"].(string), "TASKS_ERROR_EXCEPTION_#256") {
		t.Fatalf("extra query param: %d %v", st, m)
	}
	for _, tc := range []struct {
		name, method, tok string
		args              []any
		want              string
	}{
		{"non-member add", "task.elapseditem.add", f.tokU, []any{foreign, map[string]any{"SECONDS": 60}}, "ACTION_NOT_ALLOWED"},
		{"missing task add", "task.elapseditem.add", f.tokU, []any{9999, map[string]any{"SECONDS": 60}}, "ACTION_NOT_ALLOWED"},
		{"both seconds and minutes", "task.elapseditem.add", f.tokU, []any{task, map[string]any{"SECONDS": 60, "MINUTES": 1}}, "TASKS_ERROR_ASSERT_EXCEPTION"},
		{"non-owner update", "task.elapseditem.update", tok2, []any{task, id, map[string]any{"SECONDS": 60}}, "ACTION_NOT_ALLOWED"},
		{"non-owner delete", "task.elapseditem.delete", tok2, []any{task, id}, "ACTION_NOT_ALLOWED"},
		{"update bad key", "task.elapseditem.update", f.tokU, []any{task, id, map[string]any{"USER_ID": 3}}, "WRONG_ARGUMENTS"},
		{"getlist missing task", "task.elapseditem.getlist", f.tokU, []any{9999}, "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE"},
		{"getlist bad filter", "task.elapseditem.getlist", f.tokU, []any{task, map[string]any{}, map[string]any{"COMMENT_TEXT": "x"}}, "must not contain key"},
	} {
		st, m, _ := post(t, f.s, tc.method, "auth="+tc.tok, tc.args)
		if desc, _ := m["error_description"].(string); st != 400 || !strings.Contains(desc, tc.want) {
			t.Errorf("%s: %d %v", tc.name, st, m)
		}
	}
	// Owner update and delete: null results.
	if st, m, raw := post(t, f.s, "task.elapseditem.update", "auth="+f.tokU, []any{task, id, map[string]any{"SECONDS": 1200}}); st != 200 || m["result"] != nil || !strings.Contains(string(raw), `"result":null`) {
		t.Fatalf("update: %s", raw)
	}
	if got := f.s.ElapsedOf(task); len(got) != 1 || got[0].Seconds != 1200 || got[0].UserID != f.user {
		t.Fatalf("state: %+v", got)
	}
	// Paging via NAV_PARAMS; start ignored.
	for i := 0; i < 60; i++ {
		f.s.AddElapsedAs(other, task, 60, "", time.Time{})
	}
	_, m, _ = post(t, f.s, "task.elapseditem.getlist", "auth="+f.tokU, []any{task, map[string]string{"ID": "asc"}, map[string]any{}, []string{"*"},
		map[string]any{"NAV_PARAMS": map[string]int{"nPageSize": 50, "iNumPage": 2}}})
	if rows := m["result"].([]any); len(rows) != 11 || m["total"].(float64) != 61 {
		t.Fatalf("page 2: %d rows, total %v", len(rows), m["total"])
	}
	if err := f.s.EditElapsedAs(other, id, 5, "x"); err == nil {
		t.Fatal("non-owner edit allowed")
	}
	if err := f.s.EditElapsedAs(f.admin, id, 5, "x"); err != nil {
		t.Fatal(err)
	}
	if st, _, raw := post(t, f.s, "task.elapseditem.delete", "auth="+f.tokU, []any{task, id}); st != 200 {
		t.Fatalf("delete: %s", raw)
	}
}

func TestBatchRules(t *testing.T) {
	f := seeded(t, Options{})
	task := f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
	cmds := map[string]string{}
	for i := 0; i < 51; i++ {
		cmds[fmt.Sprint("c", i)] = "server.time"
	}
	if st, m, _ := post(t, f.s, "batch", "", map[string]any{"cmd": cmds, "auth": f.tokU}); st != 400 || m["error"] != "ERROR_BATCH_LENGTH_EXCEEDED" {
		t.Fatalf("51 commands: %d %v", st, m)
	}
	st, _, raw := post(t, f.s, "batch", "", map[string]any{"auth": f.tokU, "cmd": map[string]string{
		"a": fmt.Sprintf("task.elapseditem.getlist?0=%d&1[ID]=asc", task), "b": "tasks.task.get?taskId=9999",
		"c": "task.elapseditem.getlist?0=9999", "d": "batch"}})
	if st != 405 {
		t.Fatalf("nested batch: %d %s", st, raw)
	}
	st, m, raw := post(t, f.s, "batch", "", map[string]any{"auth": f.tokU, "cmd": map[string]string{
		"a": fmt.Sprintf("task.elapseditem.getlist?0=%d&1[ID]=asc", task), "b": "tasks.task.get?taskId=9999",
		"c": "task.elapseditem.getlist?0=9999"}})
	r := m["result"].(map[string]any)
	if st != 200 || r["result_error"].(map[string]any)["c"] == nil || fmt.Sprint(r["result"].(map[string]any)["a"]) != "[]" ||
		r["result_total"].(map[string]any)["a"].(float64) != 0 {
		t.Fatalf("batch: %s", raw)
	}
	if f.s.CallCount("batch") != 3 {
		t.Fatalf("calls %d", f.s.CallCount("batch"))
	}
}

func TestBucketAndFaults(t *testing.T) {
	f := seeded(t, Options{})
	ok, limited := 0, 0
	for i := 0; i < 55; i++ {
		st, _, _ := post(t, f.s, "server.time", "", map[string]any{"auth": f.tokU})
		switch st {
		case 200:
			ok++
		case 503:
			limited++
		}
	}
	if ok != 50 || limited != 5 {
		t.Fatalf("ok %d limited %d", ok, limited)
	}
	f.s.Clock.Advance(time.Second)
	for i := 0; i < 3; i++ {
		st, _, _ := post(t, f.s, "server.time", "", map[string]any{"auth": f.tokU})
		if (i < 2) != (st == 200) {
			t.Fatalf("after 1s, request %d: %d", i, st)
		}
	}
	f.s.Clock.Advance(time.Hour - time.Minute)
	tok := f.s.IssueToken(f.user).Access
	task := f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
	f.s.SetFaults(func(fl *Faults) { fl.CommitThenFail = CommitThenFail{Method: "task.elapseditem.add", N: 1} })
	if st, _, _ := post(t, f.s, "task.elapseditem.add", "auth="+tok, []any{task, map[string]any{"SECONDS": 60}}); st != 500 {
		t.Fatalf("commit then fail: %d", st)
	}
	if len(f.s.ElapsedOf(task)) != 1 {
		t.Fatal("write not committed")
	}
	f.s.SetFaults(func(fl *Faults) { fl.HTMLTimeout = 1; fl.MalformedJSON = 1 })
	if st, _, raw := post(t, f.s, "server.time", "", map[string]any{"auth": tok}); st != 504 || !strings.HasPrefix(string(raw), "<html>") {
		t.Fatalf("html: %d", st)
	}
	if st, _, raw := post(t, f.s, "server.time", "", map[string]any{"auth": tok}); st != 200 || json.Valid(raw) {
		t.Fatalf("malformed: %d %s", st, raw)
	}
	f.s.SetFaults(func(fl *Faults) { fl.OperationLimit = "server.time" })
	if st, m, _ := post(t, f.s, "server.time", "", map[string]any{"auth": tok}); st != 429 || m["error"] != "OPERATION_TIME_LIMIT" {
		t.Fatalf("operation limit: %d", st)
	}
}

func TestWebhookAndScopes(t *testing.T) {
	s := newSrv(t, Options{Scopes: []string{"task", "user_brief"}})
	u := s.AddUser(User{Name: "A", Email: "a@example.com"})
	hook := s.AddWebhook(u)
	resp, err := s.Client().Post(hook+"user.current.json", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if m["result"].(map[string]any)["EMAIL"] != "a@example.com" {
		t.Fatalf("webhook user.current: %v", m)
	}
	bad := strings.Replace(hook, "/rest/1/", "/rest/2/", 1)
	resp, _ = s.Client().Post(bad+"user.current", "application/json", strings.NewReader(`{}`))
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("bad webhook: %d", resp.StatusCode)
	}
	// OAuth with user_brief only: no EMAIL.
	_, m, _ = post(t, s, "user.current", "", map[string]any{"auth": s.IssueToken(u).Access})
	if _, ok := m["result"].(map[string]any)["EMAIL"]; ok {
		t.Fatal("EMAIL without user_basic")
	}
	if st, m, _ := post(t, s, "sonet_group.get", "", map[string]any{"auth": s.IssueToken(u).Access}); st != 403 || m["error"] != "insufficient_scope" {
		t.Fatalf("scope: %d %v", st, m)
	}
}

func TestSeedDemo(t *testing.T) {
	s := newSrv(t, Options{})
	users := s.SeedDemo()
	tok := s.IssueToken(users[0]).Access
	_, m, _ := post(t, s, "tasks.task.list", "", map[string]any{"auth": tok, "filter": map[string]any{"RESPONSIBLE_ID": users[0]}})
	if rows := m["result"].(map[string]any)["tasks"].([]any); len(rows) != 12 {
		t.Fatalf("demo tasks: %d", len(rows))
	}
}

func TestMixedShapesFlipTypes(t *testing.T) {
	f := seeded(t, Options{Shapes: "mixed", Seed: 3})
	for i := 0; i < 20; i++ {
		f.s.AddTask(Task{Title: "t", ResponsibleID: f.user})
	}
	_, m, _ := post(t, f.s, "tasks.task.list", "", map[string]any{"select": []string{"ID"}, "auth": f.tokU})
	kinds := map[string]bool{}
	for _, r := range m["result"].(map[string]any)["tasks"].([]any) {
		kinds[fmt.Sprintf("%T", r.(map[string]any)["id"])] = true
	}
	if !kinds["string"] || !kinds["float64"] {
		t.Fatalf("ids not mixed: %v", kinds)
	}
}

func TestTaskWritesOverREST(t *testing.T) {
	f := seeded(t, Options{})
	st, m, raw := post(t, f.s, "tasks.task.add", "", map[string]any{"auth": f.tokU, "fields": map[string]any{"TITLE": "Via REST", "RESPONSIBLE_ID": f.user, "TASK_CONTROL": "Y"}})
	if st != 200 {
		t.Fatal(string(raw))
	}
	id := m["result"].(map[string]any)["task"].(map[string]any)["id"].(string)
	if st, m, _ := post(t, f.s, "tasks.task.add", "", map[string]any{"auth": f.tokU, "fields": map[string]any{"RESPONSIBLE_ID": f.user}}); st != 400 || m["error"] != "ERROR_CORE" {
		t.Fatalf("no title: %v", m)
	}
	for _, tc := range []struct {
		action string
		status int
		want   string
	}{{"start", 200, "3"}, {"complete", 200, "5"}, {"complete", 400, ""}, {"renew", 200, "2"}, {"defer", 200, "6"}} {
		st, m, _ := post(t, f.s, "tasks.task."+tc.action, "", map[string]any{"auth": f.tokU, "taskId": id})
		if st != tc.status || (st == 200 && m["result"].(map[string]any)["task"].(map[string]any)["status"] != tc.want) {
			t.Fatalf("%s: %d %v", tc.action, st, m)
		}
	}
	if st, m, _ := post(t, f.s, "tasks.task.delete", "", map[string]any{"auth": f.tokU, "taskId": id}); st != 200 || fmt.Sprint(m["result"]) != "map[task:true]" {
		t.Fatalf("delete: %v", m)
	}
}
