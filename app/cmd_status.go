package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/engine"
)

// cmdStatus prints the last sync, the services, parked items, conflicts and the
// week's ledger from the state file.
func cmdStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "status", "status [--json] [--keep-bitrix24 KEY | --use-tracker KEY | --retry KEY]")
	asJSON := fs.Bool("json", false, "print one JSON object")
	keep := fs.String("keep-bitrix24", "", "settle the conflict KEY: keep the value a person entered in Bitrix24")
	use := fs.String("use-tracker", "", "settle the conflict KEY: write the tracker's value on the next sync")
	retry := fs.String("retry", "", "try the parked item KEY again on the next sync")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	a, err := openApp(env, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.settle(*keep, *use, *retry); err != nil {
		return err
	}
	st, err := a.readStatus()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(env.Stdout, statusJSON(st))
	}
	printStatus(env.Stdout, st, time.Now())
	return nil
}

// readStatus reads the snapshot from the state file without an engine.
func (a *App) readStatus() (engine.Status, error) {
	path := filepath.Join(a.Home, StateFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return engine.Status{State: engine.StateIdle, Services: a.configuredServices()}, nil
	}
	st, err := a.openStore(true)
	if err != nil {
		return engine.Status{}, err
	}
	defer st.Close()
	cfg, err := a.engineConfig()
	if err != nil {
		return engine.Status{}, err
	}
	return engine.Snapshot(st, cfg, a.Config.Bitrix24.Portal, a.Config.Trackers), nil
}

func (a *App) configuredServices() []engine.ServiceState {
	out := []engine.ServiceState{{Service: "bitrix24", Account: a.Config.Bitrix24.Portal}}
	for _, t := range a.Config.Trackers {
		out = append(out, engine.ServiceState{Service: t})
	}
	return out
}

// statusReply is the JSON shape of `status --json` (a contract for scripts).
type statusReply struct {
	State     string                `json:"state"`
	LastSync  *time.Time            `json:"last_sync,omitempty"`
	NextSync  *time.Time            `json:"next_sync,omitempty"`
	Tasks     int                   `json:"tasks"`
	TrackedS  int64                 `json:"tracked_today_seconds"`
	TimeZone  string                `json:"time_zone"`
	ZoneWarn  []string              `json:"zone_warnings,omitempty"`
	Unmatched []string              `json:"unmatched_people,omitempty"`
	LastError string                `json:"last_error,omitempty"`
	Services  []engine.ServiceState `json:"services"`
	Parked    []engine.ParkedItem   `json:"parked"`
	Conflicts []engine.Conflict     `json:"conflicts"`
	Ledger    []engine.LedgerRow    `json:"ledger"`
}

func statusJSON(st engine.Status) statusReply {
	r := statusReply{State: st.State.String(), Tasks: st.Tasks, TrackedS: int64(st.Tracked / time.Second), TimeZone: st.TimeZone,
		LastError: st.LastError, ZoneWarn: st.ZoneWarnings, Unmatched: st.Unmatched, Services: st.Services, Parked: st.Parked, Conflicts: st.Conflicts, Ledger: st.Ledger}
	if !st.LastSync.IsZero() {
		r.LastSync = &st.LastSync
	}
	if !st.NextSync.IsZero() {
		r.NextSync = &st.NextSync
	}
	if r.Parked == nil {
		r.Parked = []engine.ParkedItem{}
	}
	if r.Conflicts == nil {
		r.Conflicts = []engine.Conflict{}
	}
	if r.Ledger == nil {
		r.Ledger = []engine.LedgerRow{}
	}
	return r
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printStatus writes the human-readable status.
func printStatus(w io.Writer, st engine.Status, now time.Time) {
	last := "never"
	if !st.LastSync.IsZero() {
		last = st.LastSync.Local().Format("2006-01-02 15:04")
	}
	fmt.Fprintf(w, "State: %s · last sync %s · %d tasks · %s tracked today (%s)\n", st.State, last, st.Tasks,
		duration(int64(st.Tracked/time.Second)), st.TimeZone)
	if st.LastError != "" {
		fmt.Fprintf(w, "Last error: %s\n", st.LastError)
	}
	for _, z := range st.ZoneWarnings {
		fmt.Fprintf(w, "Warning: %s\n", z)
	}
	for _, u := range st.Unmatched {
		fmt.Fprintf(w, "Not matched: %s\n", u)
	}
	for _, s := range st.Services {
		line := "  " + s.Service
		if s.Account != "" {
			line += " — " + s.Account
		}
		if s.Problem != "" {
			line += " — " + s.Problem
		}
		fmt.Fprintln(w, line)
	}
	if len(st.Parked) > 0 {
		fmt.Fprintf(w, "Parked (%d):\n", len(st.Parked))
		for _, p := range st.Parked {
			fmt.Fprintf(w, "  %s: %s [retry %s] (key %s)\n", p.What, p.Reason, p.NextRetry.Local().Format("15:04"), p.Key)
		}
	}
	if len(st.Conflicts) > 0 {
		fmt.Fprintf(w, "Conflicts (%d):\n", len(st.Conflicts))
		for _, c := range st.Conflicts {
			fmt.Fprintf(w, "  task %s %q on %s: tracker %s, Bitrix24 %s (key %s)\n", c.TaskID, c.TaskTitle, c.Day,
				duration(c.TrackerSeconds), duration(c.RemoteSeconds), c.Key)
		}
	}
	if len(st.Ledger) > 0 {
		fmt.Fprintln(w, "This week:")
		for _, r := range st.Ledger {
			note := "✓"
			if r.Note != "" {
				note = r.Note
			}
			fmt.Fprintf(w, "  %s  %-40s tracker %8s  Bitrix24 %8s  %s\n", r.Day, clip(r.TaskTitle+" ["+r.TaskID+"]", 40),
				duration(r.TrackerSeconds), duration(r.PostedSeconds), note)
		}
	}
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// duration formats seconds as "3 h 20 m".
func duration(secs int64) string {
	h, m := secs/3600, (secs%3600)/60
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d m", h, m)
	case m > 0 || secs == 0:
		return fmt.Sprintf("%d m", m)
	}
	return fmt.Sprintf("%d s", secs)
}

var _ = strings.TrimSpace

// settle applies the status command's conflict and retry choices to the state file.
func (a *App) settle(keep, use, retry string) error {
	n := 0
	for _, v := range []string{keep, use, retry} {
		if v != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if n > 1 {
		return usageErr("status: give one of --keep-bitrix24, --use-tracker and --retry at a time")
	}
	st, err := a.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg, err := a.engineConfig()
	if err != nil {
		return err
	}
	eng := engine.NewOffline(cfg, st, a.Config.Bitrix24.Portal, a.Config.Trackers)
	switch {
	case keep != "":
		err = eng.Resolve(keep, true)
	case use != "":
		err = eng.Resolve(use, false)
	default:
		err = eng.Retry(retry)
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see the keys in timebridge status)", err)}
	}
	return nil
}
