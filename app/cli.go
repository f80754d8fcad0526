package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// GUI runs the window and tray for an App until ctx ends or the user quits.
type GUI func(ctx context.Context, a *App, startHidden bool) error

const usageText = `timebridge mirrors your Bitrix24 tasks into Time Doctor / TimeLog and writes
the time you track back to the Bitrix24 tasks.

Usage:
  timebridge                         tray + window
  timebridge --autostart             start hidden in the tray (used by the login item)
  timebridge demo [--headless] [--cycles N]
                                     run against built-in emulators with sample data
  timebridge sync --once [--json] [--from DATE]
                                     one cycle, print the report, exit (--from: resync from DATE)
  timebridge status [--json]         last sync, services, parked items, conflicts, ledger
  timebridge authorize bitrix24|timedoctor|timelog [--webhook URL] [--email E]
  timebridge signout bitrix24|timedoctor|timelog
  timebridge config list | get KEY | set KEY VALUE
  timebridge version

Exit codes: 0 ok · 1 finished with failures · 2 usage or config error ·
3 sign-in needed · 4 another instance holds the state.
Environment: TIMEBRIDGE_HOME (config, state, logs), TIMEBRIDGE_KEYRING=memory.
Run "timebridge COMMAND --help" for a command's options.
`

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env, gui GUI) int {
	env = env.withDefaults()
	err := run(ctx, args, env, gui)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := exitCode(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(env.Stderr, "timebridge: %v\n", err)
	}
	return code
}

// silentError has already been reported (e.g. in a JSON reply); Main only exits.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(ctx context.Context, args []string, env Env, gui GUI) error {
	fs := flag.NewFlagSet("timebridge", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, usageText) }
	autostart := fs.Bool("autostart", false, "start hidden in the tray")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return runGUI(ctx, env, gui, *autostart)
	}
	cmd, cargs := rest[0], rest[1:]
	switch cmd {
	case "demo":
		return cmdDemo(ctx, env, gui, cargs)
	case "sync":
		return cmdSync(ctx, env, cargs)
	case "status":
		return cmdStatus(ctx, env, cargs)
	case "authorize":
		return cmdAuthorize(ctx, env, cargs)
	case "signout":
		return cmdSignout(ctx, env, cargs)
	case "config":
		return cmdConfig(ctx, env, cargs)
	case "version":
		fmt.Fprintln(env.Stdout, "timebridge", Version)
		return nil
	case "help":
		fmt.Fprint(env.Stdout, usageText)
		return nil
	}
	return usageErr("unknown command %q; run timebridge --help", cmd)
}

// newFlags makes a command's flag set with a usage line.
func newFlags(env Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: timebridge %s\n", usage)
		if hasFlags(fs) {
			fmt.Fprintln(env.Stderr, "Options:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses a command's flags; extra positional arguments are an error unless
// the command takes them (maxArgs < 0: any number).
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	rest := fs.Args()
	if len(rest) < minArgs || (maxArgs >= 0 && len(rest) > maxArgs) {
		fs.Usage()
		return nil, usageErr("%s: wrong number of arguments (%s)", fs.Name(), strings.Join(rest, " "))
	}
	return rest, nil
}

// keyringMode is TIMEBRIDGE_KEYRING ("memory" or "" for the OS keychain).
func keyringMode(env Env) (string, error) {
	m := env.Getenv("TIMEBRIDGE_KEYRING")
	switch m {
	case "", "os", "memory":
		return m, nil
	}
	return "", usageErr("TIMEBRIDGE_KEYRING=%q: use memory (tests, demo) or leave it unset for the OS keychain", m)
}

// openApp opens the App for a command.
func openApp(env Env, logToStderr bool) (*App, error) {
	mode, err := keyringMode(env)
	if err != nil {
		return nil, err
	}
	return open(env, env.Getenv("TIMEBRIDGE_HOME"), mode, logToStderr)
}

var _ io.Writer = (*strings.Builder)(nil)
