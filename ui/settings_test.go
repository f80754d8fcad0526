package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

var testSettings = []Setting{
	{Key: "trackers", Label: "Trackers", Value: "timelog", Kind: "choice", Choices: []string{"timedoctor", "timelog", "timedoctor,timelog"},
		Help: "timedoctor, timelog or timedoctor,timelog (empty: none)"},
	{Key: "sync.time_zone", Label: "Time zone", Value: "Europe/Berlin", Kind: "zone",
		Help: "an IANA time zone like Europe/Berlin (empty: the Bitrix24 user's zone, else the computer's)"},
	{Key: "sync.interval", Label: "Sync interval", Value: "15m", Kind: "duration", Help: "a duration like 15m (allowed 1m–24h)"},
	{Key: "ui.autostart", Label: "Start at login", Value: "false", Kind: "bool", Help: "true or false"},
	{Key: "ui.notifications", Label: "Notifications", Value: "true", Kind: "bool", Help: "true or false"},
}

// settingsView is a view over testSettings with the Settings tab in a window.
func settingsView(t *testing.T, b *fakeBackend) *view {
	t.Helper()
	if b.settings == nil {
		b.settings = append([]Setting(nil), testSettings...)
	}
	v := newTestView(t, b, nil)
	show(t, v.settings.content)
	return v
}

func row(t *testing.T, v *view, key string) *settingRow {
	t.Helper()
	for _, r := range v.settings.rows {
		if r.s.Key == key {
			return r
		}
	}
	t.Fatalf("no row %q", key)
	return nil
}

func TestSettingsForm(t *testing.T) {
	b := &fakeBackend{}
	v := settingsView(t, b)
	got := texts(v.settings.content)
	for _, want := range []string{"Trackers", "Time zone", "an IANA time zone like Europe/Berlin", "Sync interval", "Start at login", "Notifications"} {
		if !strings.Contains(got, want) {
			t.Errorf("Settings tab lacks %q; it shows:\n%s", want, got)
		}
	}
	if strings.Contains(got, "true or false") {
		t.Error("a check box shows the help \"true or false\"")
	}
	kinds := map[string]string{}
	for _, r := range v.settings.rows {
		switch r.input.(type) {
		case *widget.Select:
			kinds[r.s.Key] = "select"
		case *widget.Check:
			kinds[r.s.Key] = "check"
		case *widget.Entry:
			kinds[r.s.Key] = "entry"
		}
	}
	if kinds["trackers"] != "select" || kinds["ui.autostart"] != "check" || kinds["sync.interval"] != "entry" || kinds["sync.time_zone"] != "entry" {
		t.Errorf("inputs: %v", kinds)
	}
	if got := row(t, v, "ui.notifications").input.(*widget.Check); !got.Checked {
		t.Error("notifications check box is not ticked for \"true\"")
	}
	if !v.settings.apply.Disabled() {
		t.Error("Apply is enabled with nothing changed")
	}
	test.Tap(v.settings.apply)
	wantCalls(t, b)
}

func TestSettingsApply(t *testing.T) {
	b := &fakeBackend{setSetting: func(key, value string) error {
		if key == "sync.interval" && value == "90s0" {
			return errors.New(`sync.interval: "90s0" is not a duration like 15m`)
		}
		return nil
	}}
	v := settingsView(t, b)
	interval := row(t, v, "sync.interval")
	e := interval.input.(*widget.Entry)
	e.SetText("")
	test.Type(e, "90s0")
	test.Tap(row(t, v, "ui.autostart").input.(*widget.Check))
	row(t, v, "trackers").input.(*widget.Select).SetSelected("timedoctor,timelog")
	if v.settings.apply.Disabled() {
		t.Fatal("Apply disabled after changes")
	}
	test.Tap(v.settings.apply)

	wantCalls(t, b, "SetSetting(trackers, timedoctor,timelog)", "SetSetting(sync.interval, 90s0)", "SetSetting(ui.autostart, true)")
	if !interval.err.Visible() || interval.err.Text != `sync.interval: "90s0" is not a duration like 15m` {
		t.Errorf("interval error: visible %v, %q", interval.err.Visible(), interval.err.Text)
	}
	if got := texts(v.settings.content); !strings.Contains(got, `"90s0" is not a duration like 15m`) ||
		!strings.Contains(got, "Saved 2 settings; 1 not saved — see the message under it.") {
		t.Errorf("Settings tab shows:\n%s", got)
	}
	if r := row(t, v, "ui.autostart"); r.err.Visible() || r.changed() {
		t.Errorf("autostart: error %q, changed %v after a good save", r.err.Text, r.changed())
	}
	// The bad value stays for the user to correct; Apply sends only that row.
	if e.Text != "90s0" || !interval.changed() {
		t.Errorf("interval entry = %q, changed %v", e.Text, interval.changed())
	}
	e.SetText("")
	test.Type(e, "30m")
	test.Tap(v.settings.apply)
	wantCalls(t, b, "SetSetting(trackers, timedoctor,timelog)", "SetSetting(sync.interval, 90s0)", "SetSetting(ui.autostart, true)",
		"SetSetting(sync.interval, 30m)")
	if interval.err.Visible() {
		t.Errorf("interval error still shown: %q", interval.err.Text)
	}
	if !v.settings.apply.Disabled() {
		t.Error("Apply enabled after everything was saved")
	}
}

// TestSettingsNormalised: the backend may store a value in another spelling; the
// row then shows the stored one and counts as unchanged.
func TestSettingsNormalised(t *testing.T) {
	b := &fakeBackend{normalise: map[string]string{"60m": "1h0m0s"}}
	v := settingsView(t, b)
	r := row(t, v, "sync.interval")
	e := r.input.(*widget.Entry)
	e.SetText("60m")
	test.Tap(v.settings.apply)
	wantCalls(t, b, "SetSetting(sync.interval, 60m)")
	if e.Text != "1h0m0s" || r.changed() || !v.settings.apply.Disabled() {
		t.Errorf("entry %q, changed %v, Apply disabled %v", e.Text, r.changed(), v.settings.apply.Disabled())
	}
}

func TestSettingsZoneWarning(t *testing.T) {
	b := &fakeBackend{zoneWarning: "Time Doctor shows your days in Europe/Moscow, timebridge uses Europe/Berlin"}
	v := settingsView(t, b)
	zone := row(t, v, "sync.time_zone")
	if zone.warn == nil || !zone.warn.Visible() || zone.warn.Importance != widget.WarningImportance ||
		zone.warn.Text != "⚠ Time Doctor shows your days in Europe/Moscow, timebridge uses Europe/Berlin" {
		t.Fatalf("zone warning: %+v", zone.warn)
	}
	// The bridge hands over a new warning with each snapshot.
	v.settings.setZoneWarning("")
	if zone.warn.Visible() {
		t.Error("an empty zone warning is still shown")
	}
	for _, r := range v.settings.rows {
		if r != zone && r.warn != nil {
			t.Errorf("row %s has a zone warning", r.s.Key)
		}
	}
}
