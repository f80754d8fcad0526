package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/engine"
)

// cmdSync: sync --once [--json]. One cycle, the report, exit 0/1/3.
func cmdSync(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "sync", "sync --once [--json] [--from YYYY-MM-DD]")
	once := fs.Bool("once", false, "run one cycle and exit (required)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	from := fs.String("from", "", "resync from this date: re-read the trackers back to it (not before sync.start_date)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	var resync connector.Day
	if *from != "" {
		d, err := connector.ParseDay(*from)
		if err != nil {
			return usageErr("sync --from: %v", err)
		}
		resync = d
	}
	if !*once {
		fs.Usage()
		return usageErr("sync: only --once is supported here; the app itself syncs every %s", "sync.interval")
	}
	a, err := openApp(env, !*asJSON)
	if err != nil {
		return err
	}
	defer a.Close()
	eng, err := a.startEngine(ctx)
	if err != nil {
		return err
	}
	if !resync.IsZero() {
		if err := eng.ResyncFrom(resync); err != nil {
			return err
		}
	}
	rep, err := eng.RunOnce(ctx)
	if *asJSON {
		if werr := writeJSON(env.Stdout, syncReply(rep, err)); werr != nil {
			return werr
		}
	} else {
		printReport(env.Stdout, rep)
	}
	switch {
	case errors.Is(err, engine.ErrPaused):
		return &ExitError{Code: ExitOK, Err: err}
	case err != nil && errors.Is(err, connector.ErrUnauthorized):
		return &ExitError{Code: ExitSignIn, Err: err}
	case err != nil:
		return &ExitError{Code: ExitFailures, Err: err}
	case rep.Failed():
		if *asJSON {
			return &silentError{ExitFailures}
		}
		return &ExitError{Code: ExitFailures, Err: fmt.Errorf("the cycle finished with %d parked items and %d conflicts: see timebridge status", rep.Parked, rep.Conflicts)}
	}
	return nil
}

type syncJSON struct {
	engine.Report
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func syncReply(rep engine.Report, err error) syncJSON {
	r := syncJSON{Report: rep, OK: err == nil && !rep.Failed()}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// printReport writes one cycle's report as people read it.
func printReport(w io.Writer, r engine.Report) {
	fmt.Fprintf(w, "tasks: %d created, %d updated, %d moved, %d deactivated, %d reactivated; projects: %d created\n",
		r.Created, r.Updated, r.Moved, r.Deactivated, r.Reactivated, r.Projects)
	fmt.Fprintf(w, "time: %d records posted, %d updated, %d deleted, %s written; %d registrations copied\n",
		r.Posted, r.Changed, r.Deleted, duration(r.SecondsPosted), r.Registrations)
	if r.Unlinked > 0 {
		fmt.Fprintf(w, "not linked to a Bitrix24 task: %s\n", duration(r.Unlinked))
	}
	fmt.Fprintf(w, "parked: %d · conflicts: %d\n", r.Parked, r.Conflicts)
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", s)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

var _ = strings.TrimSpace
