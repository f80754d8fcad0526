package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/timebridge/timebridge/app/secrets"
)

// Keychain keys of the sign-in secrets (besides the config's secret keys).
const (
	keyBitrix24Token   = "bitrix24.token"   // OAuth token pair (JSON)
	keyBitrix24Webhook = "bitrix24.webhook" // incoming-webhook URL
	keyTimeDoctorToken = "timedoctor.token" // TD2 token or Classic token pair (JSON)
	keyTimeLogToken    = "timelog.token"    // personal access token
)

// signInKeys are the keychain entries Sign out removes per service.
var signInKeys = map[string][]string{
	"bitrix24":   {keyBitrix24Token, keyBitrix24Webhook},
	"timedoctor": {keyTimeDoctorToken},
	"timelog":    {keyTimeLogToken},
}

func checkService(name string) error {
	if _, ok := signInKeys[name]; !ok {
		return usageErr("unknown service %q: use bitrix24, timedoctor or timelog", name)
	}
	return nil
}

// cmdAuthorize signs in to one service from a terminal.
func cmdAuthorize(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "authorize", "authorize bitrix24|timedoctor|timelog [--webhook URL] [--email E]")
	webhook := fs.String("webhook", "", "Bitrix24: a personal incoming-webhook URL instead of OAuth")
	email := fs.String("email", "", "Time Doctor: the account's e-mail (password and 2FA code are read from stdin)")
	// Accept flags after the service name too: authorize bitrix24 --webhook URL.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append(args[1:], args[0])
	}
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	service := rest[0]
	if err := checkService(service); err != nil {
		return err
	}
	a, err := openApp(env, true)
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case service == "bitrix24" && *webhook != "":
		return a.setConfig(ctx, keyBitrix24Webhook, *webhook)
	case service == "timelog":
		tok, err := readSecret(env, "TimeLog personal access token: ")
		if err != nil {
			return err
		}
		if err := a.Secrets.Set(ctx, keyTimeLogToken, tok); err != nil {
			return fmt.Errorf("store the TimeLog token in the keychain: %w", err)
		}
		fmt.Fprintln(env.Stdout, "TimeLog token stored in the keychain.")
		return nil
	}
	_ = email
	return usageErr("authorize %s: this sign-in is not implemented yet (the %s connector is being built); "+
		"for Bitrix24 you can use --webhook URL", service, service)
}

// readSecret reads one line from stdin, without echo when it is a terminal.
func readSecret(env Env, prompt string) (secrets.Secret, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read from the terminal: %w", err)
		}
		return nonEmpty(string(b))
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return nonEmpty(line)
}

func nonEmpty(s string) (secrets.Secret, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", usageErr("nothing was entered")
	}
	return secrets.Secret(s), nil
}

// cmdSignout forgets a service's credentials.
func cmdSignout(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "signout", "signout bitrix24|timedoctor|timelog")
	rest, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if err := checkService(rest[0]); err != nil {
		return err
	}
	a, err := openApp(env, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.SignOut(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Signed out of %s.\n", rest[0])
	return nil
}

// SignOut removes the service's keychain entries.
func (a *App) SignOut(ctx context.Context, service string) error {
	for _, k := range signInKeys[service] {
		if err := a.Secrets.Delete(ctx, k); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return fmt.Errorf("remove %s from the keychain: %w", k, err)
		}
	}
	a.Log.Info("signed out", "service", service)
	return nil
}
