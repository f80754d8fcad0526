package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

var testJournal = []engine.JournalEntry{ // newest first, as Backend.Journal returns it
	{Time: at(1, 10, 45), Service: "bitrix24", Object: "elapsed 9 on task 42", Action: "updated 2026-11-30", Before: "1:05", After: "1:20"},
	{Time: at(1, 10, 30), Service: "timelog", Object: "task 7 (Bitrix24 42)", Action: "renamed", Before: "Fix login", After: "Fix Login Page"},
	{Time: time.Date(2026, 11, 30, 9, 0, 0, 0, berlin), Service: "timedoctor", Object: "project 3", Action: "created", After: "Website"},
	{Time: time.Date(2026, 11, 30, 8, 0, 0, 0, berlin), Service: "bitrix24", Object: "elapsed 8 on task 43", Action: "removed 2026-11-29", Before: "0:30"},
}

// shownLines are the rows the Activity list shows, as the list renders them.
func shownLines(t *testing.T, a *activityTab) []string {
	t.Helper()
	var out []string
	for i := range a.shown.Length() {
		e, err := a.shown.GetValue(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, journalLine(e, testNow))
	}
	return out
}

func TestActivitySearch(t *testing.T) {
	b := &fakeBackend{}
	v := newTestView(t, b, nil)
	show(t, v.activity.content)
	if got := texts(v.activity.content); !strings.Contains(got, "Nothing yet") {
		t.Errorf("empty journal shows:\n%s", got)
	}
	v.activity.set(testJournal)

	all := []string{
		"10:45 · Bitrix24 · elapsed 9 on task 42 — updated 2026-11-30: 1:05 → 1:20",
		"10:30 · TimeLog · task 7 (Bitrix24 42) — renamed: Fix login → Fix Login Page",
		"yesterday 09:00 · Time Doctor · project 3 — created: Website",
		"yesterday 08:00 · Bitrix24 · elapsed 8 on task 43 — removed 2026-11-29 (was 0:30)",
	}
	if got := shownLines(t, v.activity); strings.Join(got, "\n") != strings.Join(all, "\n") {
		t.Errorf("journal rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(all, "\n"))
	}
	if got := texts(v.activity.content); !strings.Contains(got, all[0]) || !strings.Contains(got, "4 entries") {
		t.Errorf("Activity tab shows:\n%s", got)
	}

	cases := []struct {
		query string
		want  []int // indexes into all
		count string
	}{
		{"FIX LOGIN", []int{1}, "1 of 4 entries match"}, // before/after, any case
		{"bitrix24", []int{0, 1, 3}, "3 of 4 entries match"},
		{"time doctor", []int{2}, "1 of 4 entries match"}, // the service as the UI spells it
		{"task 42", []int{0, 1}, "2 of 4 entries match"},
		{"created website", []int{2}, "1 of 4 entries match"}, // action and after
		{"0:30", []int{3}, "1 of 4 entries match"},
		{"nothing like it", nil, "0 of 4 entries match"},
		{"  ", []int{0, 1, 2, 3}, "4 entries"},
	}
	for _, tc := range cases {
		v.activity.search.SetText("")
		test.Type(v.activity.search, tc.query)
		var want []string
		for _, i := range tc.want {
			want = append(want, all[i])
		}
		if got := shownLines(t, v.activity); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("search %q shows:\n%s\nwant:\n%s", tc.query, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got, _ := v.activity.count.Get(); got != tc.count {
			t.Errorf("search %q: count %q, want %q", tc.query, got, tc.count)
		}
	}

	// A new journal keeps the filter.
	v.activity.search.SetText("renamed")
	v.activity.set(append([]engine.JournalEntry{{Time: at(1, 10, 50), Service: "timelog", Object: "task 8", Action: "renamed", Before: "a", After: "b"}}, testJournal...))
	if got := shownLines(t, v.activity); len(got) != 2 || !strings.HasPrefix(got[0], "10:50 · TimeLog · task 8") {
		t.Errorf("after a new journal, search \"renamed\" shows %q", got)
	}
}
