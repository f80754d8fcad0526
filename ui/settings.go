package ui

import (
	"fmt"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// settingsTab is a form built from Backend.Settings: one input per setting, its
// help, and room for the error SetSetting returns for it. Apply saves the rows
// that changed, one SetSetting each, and shows each failure under its row; the
// time-zone row also shows Backend.ZoneWarning.
type settingsTab struct {
	v       *view
	rows    []*settingRow
	form    *fyne.Container
	apply   *widget.Button
	status  *widget.Label
	content fyne.CanvasObject
	saving  bool
}

// settingRow is one setting and its widgets. s is the setting as last loaded or
// saved; the row has changed when the input's value differs from s.Value.
type settingRow struct {
	s     Setting
	input fyne.CanvasObject
	get   func() string
	set   func(string)
	err   *widget.Label // what SetSetting said; hidden when fine
	warn  *widget.Label // the zone warning (zone row only)
}

func (r *settingRow) changed() bool { return r.get() != r.s.Value }

func newSettingsTab(v *view) *settingsTab {
	t := &settingsTab{v: v, status: widget.NewLabel("")}
	t.status.Wrapping = fyne.TextWrapWord
	t.apply = widget.NewButton("Apply", t.applyChanges)
	t.apply.Importance = widget.HighImportance

	form := container.New(layout.NewFormLayout())
	t.form = form
	for _, s := range v.backend.Settings() {
		r := t.newRow(s)
		t.rows = append(t.rows, r)
		label := widget.NewLabelWithStyle(s.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		col := container.NewVBox(r.input)
		if s.Help != "" && s.Kind != "bool" {
			help := widget.NewLabel(s.Help)
			help.Wrapping = fyne.TextWrapWord
			help.SizeName = theme.SizeNameCaptionText
			help.Importance = widget.LowImportance
			col.Add(help)
		}
		col.Add(r.err)
		if r.warn != nil {
			col.Add(r.warn)
		}
		form.Add(label)
		form.Add(col)
	}
	intro := widget.NewLabel("Changes take effect with the next sync. An administrator may have pre-filled some of them.")
	intro.Wrapping = fyne.TextWrapWord
	if len(t.rows) == 0 {
		intro.SetText("No settings can be changed here.")
	}
	bottom := container.NewBorder(nil, nil, nil, t.apply, t.status)
	t.content = container.NewBorder(intro, bottom, nil, nil, container.NewVScroll(form))
	t.setZoneWarning(v.backend.ZoneWarning())
	t.refreshApply()
	return t
}

// newRow builds the input of one setting by its Kind.
func (t *settingsTab) newRow(s Setting) *settingRow {
	r := &settingRow{s: s, err: message(widget.DangerImportance)}
	switch s.Kind {
	case "bool":
		r.s.Value = strconv.FormatBool(s.Value == "true")
		c := widget.NewCheck("", func(bool) { t.refreshApply() })
		c.SetChecked(r.s.Value == "true")
		r.input = c
		r.get = func() string { return strconv.FormatBool(c.Checked) }
		r.set = func(v string) { c.SetChecked(v == "true") }
	case "choice":
		opts := s.Choices
		if s.Value != "" && !slices.Contains(opts, s.Value) {
			opts = append([]string{s.Value}, opts...)
		}
		sel := widget.NewSelect(opts, func(string) { t.refreshApply() })
		sel.SetSelected(s.Value)
		r.input = sel
		r.get = func() string { return sel.Selected }
		r.set = sel.SetSelected
	default: // text, duration, date, zone, number, url: typed, validated by SetSetting
		e := widget.NewEntry()
		e.SetPlaceHolder(placeholderFor(s.Kind))
		e.SetText(s.Value)
		e.OnChanged = func(string) { t.refreshApply() }
		e.OnSubmitted = func(string) { t.applyChanges() }
		r.input = e
		r.get = func() string { return e.Text }
		r.set = e.SetText
	}
	if s.Kind == "zone" {
		r.warn = message(widget.WarningImportance)
	}
	return r
}

func placeholderFor(kind string) string {
	switch kind {
	case "duration":
		return "15m"
	case "date":
		return "YYYY-MM-DD"
	case "zone":
		return "Europe/Berlin"
	case "number":
		return "0"
	case "url":
		return "https://"
	}
	return ""
}

// message is a wrapping label that is hidden while it has no text.
func message(imp widget.Importance) *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	l.Hide()
	return l
}

func setMessage(l *widget.Label, s string) {
	l.SetText(s)
	visible(l, s != "")
}

// setZoneWarning shows w (or nothing) under the time-zone row.
func (t *settingsTab) setZoneWarning(w string) {
	for _, r := range t.rows {
		if r.warn != nil {
			if w != "" {
				w = "⚠ " + w
			}
			setMessage(r.warn, w)
		}
	}
	t.form.Refresh() // lay out again: a message came or went
}

func (t *settingsTab) refreshApply() {
	if t.apply == nil {
		return
	}
	enable(t.apply, !t.saving && slices.ContainsFunc(t.rows, (*settingRow).changed))
}

// applyChanges saves every changed row with SetSetting, off the Fyne thread, then
// shows each row's error and reloads the saved values (the backend may normalise
// them, e.g. "1h0m0s" for "60m").
func (t *settingsTab) applyChanges() {
	if t.saving {
		return
	}
	type change struct {
		r     *settingRow
		key   string
		value string
	}
	var changes []change
	for _, r := range t.rows {
		if r.changed() {
			changes = append(changes, change{r, r.s.Key, r.get()})
		}
	}
	if len(changes) == 0 {
		t.status.SetText("Nothing to save.")
		return
	}
	t.saving = true
	t.refreshApply()
	t.status.SetText("Saving…")
	b := t.v.backend
	t.v.async(func() {
		errs := make([]error, len(changes))
		for i, c := range changes {
			errs[i] = b.SetSetting(c.key, c.value)
		}
		fresh, zone := b.Settings(), b.ZoneWarning()
		fyne.Do(func() {
			t.saving = false
			now := map[string]Setting{}
			for _, s := range fresh {
				now[s.Key] = s
			}
			failed := 0
			for i, c := range changes {
				if errs[i] != nil {
					failed++
					setMessage(c.r.err, errs[i].Error())
					continue
				}
				setMessage(c.r.err, "")
				c.r.s.Value = c.value
				if s, ok := now[c.key]; ok && s.Value != c.value {
					if c.r.s.Kind == "bool" {
						s.Value = strconv.FormatBool(s.Value == "true")
					}
					c.r.s.Value = s.Value
					c.r.set(s.Value)
				}
			}
			saved := len(changes) - failed
			switch {
			case failed == 0:
				t.status.SetText("Saved " + plural(saved, "setting", "settings") + ".")
			case saved == 0:
				t.status.SetText("Not saved — see the message under the setting.")
			default:
				t.status.SetText(fmt.Sprintf("Saved %s; %d not saved — see the message under it.", plural(saved, "setting", "settings"), failed))
			}
			t.setZoneWarning(zone)
			t.refreshApply()
		})
	})
}
