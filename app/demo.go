package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/engine"
)

// demoWorld is a set of built-in services with sample data: a Bitrix24 portal and
// the trackers, plus the scripted changes a person makes between cycles.
type demoWorld interface {
	Source() connector.TaskSource
	Trackers() []connector.Tracker
	// Step makes the changes that come before cycle n (n ≥ 2) and says what it did.
	Step(n int) []string
	Close()
}

// cmdDemo runs the app against the built-in services with sample data, in a
// temporary home with an in-memory keychain: no account, nothing left behind.
func cmdDemo(ctx context.Context, env Env, gui GUI, args []string) error {
	fs := newFlags(env, "demo", "demo [--headless] [--cycles N]")
	headless := fs.Bool("headless", false, "no window: run the cycles and print what happened")
	cycles := fs.Int("cycles", 3, "number of sync cycles (headless)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *cycles < 1 || *cycles > 100 {
		return usageErr("demo: --cycles must be 1–100, got %d", *cycles)
	}
	home, err := os.MkdirTemp("", "timebridge-demo-")
	if err != nil {
		return fmt.Errorf("demo: make a temporary home: %w", err)
	}
	defer os.RemoveAll(home)
	a, err := open(env, home, "memory", false)
	if err != nil {
		return err
	}
	defer a.Close()
	a.Secrets = secrets.NewMemory()

	world, err := newEmulatorDemo(localZone())
	if err != nil {
		return err
	}
	defer world.Close()
	eng, err := a.newDemoEngine(world)
	if err != nil {
		return err
	}
	if !*headless {
		if gui == nil {
			return usageErr("demo: this build has no window; use demo --headless")
		}
		a.ctx = ctx
		go a.demoLoop(ctx, world, eng, env.Stdout)
		return gui(ctx, a, false)
	}
	return runDemoCycles(ctx, env.Stdout, world, eng, *cycles)
}

func (a *App) newDemoEngine(world demoWorld) (*engine.Engine, error) {
	if err := a.Config.Set("sync.default_project", "Internal"); err != nil {
		return nil, err
	}
	// A week back, so the sample week shows; a real first sign-in starts on Monday.
	zone := localZone()
	start := connector.DayOf(time.Now(), zone).AddDays(-6)
	return a.newEngineWith(world.Source(), world.Trackers(), engine.Config{DefaultProject: "Internal", StartDate: start,
		TimeZone:     zone,
		RecheckEvery: time.Nanosecond, Interval: 20 * time.Second, MinBackoff: 5 * time.Second})
}

// runDemoCycles runs n cycles, printing the changes, each report and the journal.
func runDemoCycles(ctx context.Context, w io.Writer, world demoWorld, eng *engine.Engine, n int) error {
	fmt.Fprintln(w, "timebridge demo: built-in Bitrix24 portal, Time Doctor and TimeLog with sample data")
	seen := 0
	for i := 1; i <= n; i++ {
		if i > 1 {
			for _, c := range world.Step(i) {
				fmt.Fprintf(w, "  (meanwhile) %s\n", c)
			}
		}
		fmt.Fprintf(w, "\n== cycle %d ==\n", i)
		rep, err := eng.RunOnce(ctx)
		printReport(w, rep)
		if err != nil {
			fmt.Fprintf(w, "cycle error: %v\n", err)
		}
		j, jerr := eng.Journal(0)
		if jerr != nil {
			return jerr
		}
		for k := len(j) - seen - 1; k >= 0; k-- {
			e := j[k]
			line := fmt.Sprintf("  %-10s %s: %s", e.Service, e.Object, e.Action)
			if e.Before != "" || e.After != "" {
				line += fmt.Sprintf(" (%s → %s)", orDash(e.Before), orDash(e.After))
			}
			fmt.Fprintln(w, line)
		}
		seen = len(j)
	}
	fmt.Fprintln(w)
	printStatus(w, eng.Status(), time.Now())
	return nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return s
}

// demoLoop drives the window demo: a cycle now, then the scripted changes and a
// cycle every 20 s, so the window shows each behaviour happening.
func (a *App) demoLoop(ctx context.Context, world demoWorld, eng *engine.Engine, w io.Writer) {
	a.serve(eng)
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for i := 2; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range world.Step(i) {
			a.Log.Info("demo", "change", c)
		}
		eng.SyncNow()
	}
}
