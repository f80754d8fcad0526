package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/engine"
)

// headline is the status line of the tray menu, the tooltip and the Status tab:
// "Last sync 10:45 — 12 tasks, 3 h 20 m". Times are shown in now's location.
func headline(st engine.Status, now time.Time) string {
	if st.LastSync.IsZero() {
		if st.State == engine.StateSyncing {
			return "First sync running…"
		}
		return "Not synced yet"
	}
	return fmt.Sprintf("Last sync %s — %s, %s", when(st.LastSync, now), plural(st.Tasks, "task", "tasks"), duration(st.Tracked))
}

// stateLine says what the state means for the user and what happens next.
func stateLine(st engine.Status, now time.Time) string {
	switch st.State {
	case engine.StateSynced:
		if st.NextSync.IsZero() {
			return "All synced"
		}
		return "All synced · next sync " + when(st.NextSync, now)
	case engine.StateSyncing:
		return "Syncing now…"
	case engine.StateAttention:
		var parts []string
		if n := len(st.Parked); n > 0 {
			parts = append(parts, plural(n, "item skipped", "items skipped"))
		}
		if n := len(st.Conflicts); n > 0 {
			parts = append(parts, plural(n, "conflict", "conflicts"))
		}
		if len(parts) == 0 {
			return "Needs attention — see Status"
		}
		return "Needs attention: " + strings.Join(parts, ", ")
	case engine.StateOffline:
		if st.NextSync.IsZero() {
			return "Sync failed — will retry"
		}
		return "Sync failed — retrying " + when(st.NextSync, now)
	case engine.StatePaused:
		if st.PausedTil.IsZero() {
			return "Paused until resumed"
		}
		return "Paused until " + when(st.PausedTil, now)
	case engine.StateSignInNeeded:
		var names []string
		for _, s := range st.Services {
			if !s.SignedIn {
				names = append(names, serviceName(s.Service))
			}
		}
		if len(names) == 0 {
			return "Sign-in needed — see Accounts"
		}
		return "Sign-in needed: " + strings.Join(names, ", ")
	default:
		return "Starting…"
	}
}

// tooltip is the tray icon's hover text.
func tooltip(st engine.Status, now time.Time) string {
	return "timebridge — " + headline(st, now) + "\n" + stateLine(st, now)
}

// when formats t relative to now: "10:45" today, "yesterday 10:45", "Mon 10:45"
// within a week either way, else "2 Jan 10:45" (with the year when it differs).
func when(t, now time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	days := int(time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC).Sub(time.Date(y2, m2, d2, 12, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days == 0:
		return t.Format("15:04")
	case days == -1:
		return "yesterday " + t.Format("15:04")
	case days == 1:
		return "tomorrow " + t.Format("15:04")
	case days > -7 && days < 7:
		return t.Format("Mon 15:04")
	case y1 != y2:
		return t.Format("2 Jan 2006 15:04")
	default:
		return t.Format("2 Jan 15:04")
	}
}

// duration formats d in whole minutes, rounded down: "3 h 20 m", "2 h", "45 m", "0 m".
func duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	m := int64(d / time.Minute)
	h, m := m/60, m%60
	var s string
	switch {
	case h > 0 && m > 0:
		s = fmt.Sprintf("%d h %d m", h, m)
	case h > 0:
		s = fmt.Sprintf("%d h", h)
	default:
		s = fmt.Sprintf("%d m", m)
	}
	if neg {
		return "−" + s
	}
	return s
}

func seconds(s int64) string { return duration(time.Duration(s) * time.Second) }

// day formats a YYYY-MM-DD day as "Mon 30 Nov"; anything else is shown as it is.
func day(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("Mon 2 Jan")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// serviceName is how the UI spells a service id.
func serviceName(id string) string {
	switch id {
	case "bitrix24":
		return "Bitrix24"
	case "timedoctor":
		return "Time Doctor"
	case "timelog":
		return "TimeLog"
	default:
		return id
	}
}
