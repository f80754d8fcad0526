package timedoctor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Cases TD's emulator does not produce: a handler answers directly.
func TestWorklogDropsForeignRowsAndEndsRepeatedNext(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/1.0/authorization":
			fmt.Fprint(w, `{"data": {"id": "me", "name": "Ann", "email": "ann@example.com", "timezone": "Europe/Berlin", "companies": [{"id": "c"}]}}`)
		case "/api/1.0/activity/worklog":
			// Rows of another user in the caller's group, a blank task, and a paging
			// block whose next never changes.
			rows := `{"start": "2026-06-02T10:00:00.000Z", "time": 600, "userId": "me", "taskId": "t1"},` +
				`{"start": "2026-06-02T11:00:00.000Z", "time": 600, "userId": "other", "taskId": "t1"},` +
				`{"start": "2026-06-02T12:00:00.000Z", "time": 60, "userId": "me", "taskId": null}`
			fmt.Fprintf(w, `{"data": [[%s], [{"start": "2026-06-02T10:00:00.000Z", "time": 999, "userId": "other", "taskId": "t1"}]],
				"paging": {"cur": "%s", "next": "3", "limit": 3, "totalCount": 99}}`, rows, r.URL.Query().Get("page"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Token: "tok", HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tot, err := c.DayTotals(bg, span(t, "2026-06-02", "2026-06-02", "UTC"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tot.Totals) != 1 || tot.Totals[0].Seconds != 600 || tot.Unassigned != 60 {
		t.Fatalf("totals %+v", tot)
	}
	// 1 authorization + per window (1 here): a page, then the repeated next once.
	if n := calls.Load(); n > 3 {
		t.Fatalf("%d calls: the repeated next did not end the walk", n)
	}
	if strings.Contains(fmt.Sprint(tot), "999") {
		t.Fatal("another user's row counted")
	}
}
