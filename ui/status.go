package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/timebridge/timebridge/sync/engine"
)

// statusTab is the Status tab: summary lines, skipped (parked) items with Retry,
// conflicts with their two choices, and the week's ledger. Its widgets are built once
// against the bindings below; update (on the Fyne thread) only sets the bindings.
type statusTab struct {
	v *view

	headline, state, counts, services, lastError                binding.String
	parkedTitle, conflictsTitle, ledgerTitle, notice, unmatched binding.String

	parked    binding.List[engine.ParkedItem]
	conflicts binding.List[engine.Conflict]
	ledger    binding.List[engine.LedgerRow]

	syncNow, pauseHour, pause, resume *widget.Button

	parkedList    *widget.List
	conflictsList *widget.List
	ledgerTable   *widget.Table
	content       fyne.CanvasObject
}

func eq[T comparable](a, b T) bool { return a == b }

func newStatusTab(v *view) *statusTab {
	t := &statusTab{
		v:              v,
		headline:       binding.NewString(),
		state:          binding.NewString(),
		counts:         binding.NewString(),
		services:       binding.NewString(),
		lastError:      binding.NewString(),
		parkedTitle:    binding.NewString(),
		conflictsTitle: binding.NewString(),
		ledgerTitle:    binding.NewString(),
		notice:         binding.NewString(),
		unmatched:      binding.NewString(),
		parked:         binding.NewList(eq[engine.ParkedItem]),
		conflicts:      binding.NewList(eq[engine.Conflict]),
		ledger:         binding.NewList(eq[engine.LedgerRow]),
	}

	head := widget.NewLabelWithData(t.headline)
	head.TextStyle.Bold = true
	summary := container.New(layout.NewCustomPaddedVBoxLayout(0), head,
		widget.NewLabelWithData(t.state),
		widget.NewLabelWithData(t.counts),
		hideWhenEmpty(t.services),
		hideWhenEmpty(t.unmatched),
		hideWhenEmpty(t.lastError),
		hideWhenEmpty(t.notice),
	)

	// The same intents as the tray menu, for desktops without a tray.
	t.syncNow = widget.NewButton("Sync now", func() { v.backend.SyncNow() })
	t.pauseHour = widget.NewButton("Pause 1 hour", func() { v.backend.Pause(time.Hour) })
	t.pause = widget.NewButton("Pause until resumed", func() { v.backend.Pause(0) })
	t.resume = widget.NewButton("Resume", func() { v.backend.Resume() })
	t.resume.Hide()
	actions := container.NewHBox(t.syncNow, t.pauseHour, t.pause, t.resume)

	t.parkedList = widget.NewListWithData(t.parked, newParkedRow, t.updateParkedRow)
	t.conflictsList = widget.NewListWithData(t.conflicts, newConflictRow, t.updateConflictRow)
	t.ledgerTable = newLedgerTable(t.ledger)
	t.ledger.AddListener(binding.NewDataListener(t.ledgerTable.Refresh))

	section := func(title binding.String, body fyne.CanvasObject) fyne.CanvasObject {
		l := widget.NewLabelWithData(title)
		l.TextStyle.Bold = true
		return container.NewBorder(l, nil, nil, nil, body)
	}
	items := container.NewGridWithRows(2,
		section(t.parkedTitle, t.parkedList),
		section(t.conflictsTitle, t.conflictsList),
	)
	split := container.NewVSplit(items, section(t.ledgerTitle, t.ledgerTable))
	split.Offset = 0.5
	t.content = container.NewBorder(container.NewVBox(summary, actions), nil, nil, nil, split)
	return t
}

// hideWhenEmpty is a wrapping label bound to b that takes no room while b is "".
func hideWhenEmpty(b binding.String) *widget.Label {
	l := widget.NewLabelWithData(b)
	l.Wrapping = fyne.TextWrapWord
	b.AddListener(binding.NewDataListener(func() {
		if s, _ := b.Get(); s == "" {
			l.Hide()
		} else {
			l.Show()
		}
	}))
	return l
}

// update shows one snapshot; it runs on the Fyne thread.
func (t *statusTab) update(st engine.Status, now time.Time) {
	set := func(b binding.String, s string) { _ = b.Set(s) }
	set(t.headline, headline(st, now))
	set(t.state, stateLine(st, now))
	set(t.counts, counts(st, now))
	set(t.services, servicesSummary(st.Services))
	set(t.unmatched, unmatchedLines(st.Unmatched))
	if st.LastError != "" {
		set(t.lastError, "Last error: "+st.LastError)
	} else {
		set(t.lastError, "")
	}
	set(t.parkedTitle, sectionTitle("Skipped items", len(st.Parked), "nothing skipped"))
	set(t.conflictsTitle, sectionTitle("Conflicts", len(st.Conflicts), "none"))
	set(t.ledgerTitle, sectionTitle("This week", len(st.Ledger), "nothing tracked yet"))
	paused := st.State == engine.StatePaused
	enable(t.syncNow, !paused && st.State != engine.StateSyncing)
	visible(t.pauseHour, !paused)
	visible(t.pause, !paused)
	visible(t.resume, paused)
	_ = t.parked.Set(st.Parked)
	_ = t.conflicts.Set(st.Conflicts)
	_ = t.ledger.Set(st.Ledger)
	// Rows whose values change while their number stays the same are redrawn too.
	t.parkedList.Refresh()
	t.conflictsList.Refresh()
	t.ledgerTable.Refresh()
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func visible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// counts is the next sync and the figures: "Next sync 11:00 · 12 tasks mirrored ·
// 3 h 20 m tracked today (Europe/Berlin)".
func counts(st engine.Status, now time.Time) string {
	next := "—"
	if !st.NextSync.IsZero() && st.State != engine.StatePaused {
		next = when(st.NextSync, now)
	}
	s := fmt.Sprintf("Next sync %s · %s mirrored · %s tracked today", next, plural(st.Tasks, "task", "tasks"), duration(st.Tracked))
	if st.TimeZone != "" {
		s += " (" + st.TimeZone + ")"
	}
	return s
}

// servicesSummary is one line per service: "Bitrix24: signed in — Ann (…)".
func servicesSummary(ss []engine.ServiceState) string {
	if len(ss) == 0 {
		return "No services set up yet — see Accounts"
	}
	lines := make([]string, 0, len(ss))
	for _, s := range ss {
		lines = append(lines, serviceName(s.Service)+": "+serviceState(s))
	}
	return strings.Join(lines, "\n")
}

func serviceState(s engine.ServiceState) string {
	var st string
	switch {
	case s.SignedIn && s.Account != "":
		st = "signed in — " + s.Account
	case s.SignedIn:
		st = "signed in"
	default:
		st = "not signed in"
	}
	if s.Problem != "" {
		st += " · " + s.Problem
	}
	return st
}

func sectionTitle(name string, n int, empty string) string {
	if n == 0 {
		return name + " — " + empty
	}
	return fmt.Sprintf("%s (%d)", name, n)
}

// parkedRow is one skipped item: what and why, and a Retry button.
type parkedRow struct {
	widget.BaseWidget
	text  *widget.Label
	retry *widget.Button
}

func newParkedRow() fyne.CanvasObject {
	r := &parkedRow{text: widget.NewLabel(""), retry: widget.NewButton("Retry", nil)}
	r.text.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *parkedRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, r.retry, r.text))
}

func (t *statusTab) updateParkedRow(di binding.DataItem, o fyne.CanvasObject) {
	p, err := di.(binding.Item[engine.ParkedItem]).Get()
	if err != nil {
		return
	}
	r := o.(*parkedRow)
	r.text.SetText(parkedText(p, t.v.now()))
	key := p.Key
	r.retry.OnTapped = func() { t.v.backend.Retry(key) }
}

func parkedText(p engine.ParkedItem, now time.Time) string {
	s := p.What + " — " + p.Reason
	if !p.NextRetry.IsZero() {
		s += " (next try " + when(p.NextRetry, now) + ")"
	}
	return s
}

// conflictRow is one conflict and its two ways out.
type conflictRow struct {
	widget.BaseWidget
	text          *widget.Label
	keep, tracker *widget.Button
}

func newConflictRow() fyne.CanvasObject {
	r := &conflictRow{
		text:    widget.NewLabel(""),
		keep:    widget.NewButton("Keep Bitrix24 value", nil),
		tracker: widget.NewButton("Use tracker value", nil),
	}
	r.text.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *conflictRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, container.NewHBox(r.keep, r.tracker), r.text))
}

func (t *statusTab) updateConflictRow(di binding.DataItem, o fyne.CanvasObject) {
	c, err := di.(binding.Item[engine.Conflict]).Get()
	if err != nil {
		return
	}
	r := o.(*conflictRow)
	r.text.SetText(conflictText(c))
	key, what := c.Key, c.TaskTitle+" on "+day(c.Day)
	r.keep.OnTapped = func() { t.resolve(key, what, true) }
	r.tracker.OnTapped = func() { t.resolve(key, what, false) }
}

func conflictText(c engine.Conflict) string {
	return fmt.Sprintf("%s · %s: Bitrix24 %s, tracker %s", c.TaskTitle, day(c.Day), seconds(c.RemoteSeconds), seconds(c.TrackerSeconds))
}

// resolve calls Backend.Resolve off the Fyne thread and reports a failure in the tab.
func (t *statusTab) resolve(key, what string, keepBitrix24 bool) {
	_ = t.notice.Set("Resolving " + what + "…")
	t.v.async(func() {
		err := t.v.backend.Resolve(key, keepBitrix24)
		fyne.Do(func() {
			if err != nil {
				_ = t.notice.Set("Could not resolve " + what + ": " + err.Error())
				return
			}
			_ = t.notice.Set("")
		})
	})
}

// ledgerColumns are the ledger table's headers.
var ledgerColumns = []string{"Task", "Day", "Tracker", "Bitrix24", "✓ / note"}

// ledgerCell is the text of one ledger cell.
func ledgerCell(r engine.LedgerRow, col int) string {
	switch col {
	case 0:
		if r.TaskTitle == "" {
			return "#" + r.TaskID
		}
		return r.TaskTitle
	case 1:
		return day(r.Day)
	case 2:
		return seconds(r.TrackerSeconds)
	case 3:
		return seconds(r.PostedSeconds)
	default:
		if r.Note == "" {
			return "✓"
		}
		return r.Note
	}
}

func newLedgerTable(rows binding.List[engine.LedgerRow]) *widget.Table {
	tb := widget.NewTableWithHeaders(
		func() (int, int) { return rows.Length(), len(ledgerColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			r, err := rows.GetValue(id.Row)
			if err != nil {
				o.(*widget.Label).SetText("")
				return
			}
			o.(*widget.Label).SetText(ledgerCell(r, id.Col))
		},
	)
	tb.ShowHeaderColumn = false
	tb.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.TextStyle.Bold = true
		return l
	}
	tb.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(ledgerColumns) {
			o.(*widget.Label).SetText(ledgerColumns[id.Col])
		}
	}
	for col, w := range []float32{260, 110, 90, 90, 200} {
		tb.SetColumnWidth(col, w)
	}
	return tb
}

// unmatchedLines says which people of mirrored tasks have no tracker account.
func unmatchedLines(us []string) string {
	if len(us) == 0 {
		return ""
	}
	return "Not matched (skipped, never guessed): " + strings.Join(us, "; ")
}
