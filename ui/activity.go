package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/widget"

	"github.com/timebridge/timebridge/sync/engine"
)

// journalLimit is how many journal entries the Activity tab shows.
const journalLimit = 500

// activityTab is the journal of what timebridge created, changed and posted,
// newest first, with a search entry. The bridge reads the journal once per
// snapshot (off the Fyne thread) and hands it to set.
type activityTab struct {
	v       *view
	all     []engine.JournalEntry
	shown   binding.List[engine.JournalEntry]
	count   binding.String
	search  *widget.Entry
	list    *widget.List
	content fyne.CanvasObject
}

func newActivityTab(v *view) *activityTab {
	t := &activityTab{
		v:     v,
		shown: binding.NewList(eq[engine.JournalEntry]),
		count: binding.NewString(),
	}
	t.search = widget.NewEntry()
	t.search.SetPlaceHolder("Search: task, project, action, value…")
	t.search.OnChanged = func(string) { t.filter() }
	t.list = widget.NewListWithData(t.shown,
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(di binding.DataItem, o fyne.CanvasObject) {
			e, err := di.(binding.Item[engine.JournalEntry]).Get()
			if err != nil {
				return
			}
			o.(*widget.Label).SetText(journalLine(e, t.v.now()))
		})
	top := container.NewBorder(nil, nil, nil, widget.NewButton("Open log folder", v.openLogs), t.search)
	t.content = container.NewBorder(top, widget.NewLabelWithData(t.count), nil, nil, t.list)
	t.filter()
	return t
}

// set shows a new journal (newest first); it runs on the Fyne thread.
func (t *activityTab) set(entries []engine.JournalEntry) {
	t.all = entries
	t.filter()
}

// filter shows the entries that match the search text.
func (t *activityTab) filter() {
	q := t.search.Text
	var shown []engine.JournalEntry
	for _, e := range t.all {
		if journalMatches(e, q) {
			shown = append(shown, e)
		}
	}
	_ = t.shown.Set(shown)
	switch {
	case len(t.all) == 0:
		_ = t.count.Set("Nothing yet — every task, project and time entry timebridge creates, changes or posts is listed here.")
	case strings.TrimSpace(q) == "":
		_ = t.count.Set(plural(len(t.all), "entry", "entries"))
	default:
		_ = t.count.Set(fmt.Sprintf("%d of %s match", len(shown), plural(len(t.all), "entry", "entries")))
	}
}

// journalMatches reports whether every word of q occurs, ignoring case, in the
// entry's service, object, action, before or after.
func journalMatches(e engine.JournalEntry, q string) bool {
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return true
	}
	hay := strings.ToLower(strings.Join([]string{e.Service, serviceName(e.Service), e.Object, e.Action, e.Before, e.After}, "\x00"))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// journalLine is one row of the Activity tab:
// "10:45 · Bitrix24 · elapsed 9 on task 42 — updated 2026-11-30: 1:05 → 1:20".
func journalLine(e engine.JournalEntry, now time.Time) string {
	s := when(e.Time, now) + " · " + serviceName(e.Service) + " · " + e.Object + " — " + e.Action
	switch {
	case e.Before != "" && e.After != "":
		s += ": " + e.Before + " → " + e.After
	case e.After != "":
		s += ": " + e.After
	case e.Before != "":
		s += " (was " + e.Before + ")"
	}
	return s
}
