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

	"github.com/timebridge/timebridge/app/backend"
	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24"
	"github.com/timebridge/timebridge/sync/timedoctor"
	"github.com/timebridge/timebridge/sync/timelog"
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
	"timedoctor": {keyTimeDoctorToken, keyTimeDoctorClassic},
	"timelog":    {keyTimeLogToken, keyTimeLogOAuth},
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
	switch service {
	case "bitrix24":
		if *webhook != "" {
			return a.authorizeWebhook(ctx, env, *webhook)
		}
		return a.authorizeBitrix24OAuth(ctx, env)
	case "timedoctor":
		return a.authorizeTimeDoctor(ctx, env, *email)
	}
	return a.authorizeTimeLog(ctx, env)
}

// authorizeWebhook checks a personal incoming-webhook URL against the portal and
// stores it in the keychain.
func (a *App) authorizeWebhook(ctx context.Context, env Env, hook string) error {
	if _, err := config.Check(keyBitrix24Webhook, hook); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	c, err := bitrix24.New(bitrix24.Config{Webhook: hook, Logger: a.Log, UserAgent: "timebridge/" + Version})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	me, err := c.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the webhook with Bitrix24: %w", err)
	}
	if err := a.Secrets.Set(ctx, keyBitrix24Webhook, secrets.Secret(hook)); err != nil {
		return fmt.Errorf("store the webhook in the keychain: %w", err)
	}
	if a.Config.Bitrix24.Portal == "" {
		if portal, _, _, err := bitrix24.ParseWebhook(hook); err == nil {
			if err := a.setConfig(ctx, "bitrix24.portal", portal); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(env.Stdout, "Signed in to Bitrix24 as %s (%s) on %s with a webhook.\n", me.Name, orDash(me.Email), c.Portal())
	return nil
}

// authorizeTimeDoctor signs in to Time Doctor 2 with e-mail and password (and a
// 2FA code when asked) read from stdin; only the token is kept.
func (a *App) authorizeTimeDoctor(ctx context.Context, env Env, email string) error {
	if a.isClassic() { // Classic signs in with OAuth in the browser
		return a.signInClassic(ctx, func(url string) {
			fmt.Fprintf(env.Stderr, "Opening your browser to sign in to Time Doctor. If it does not open, visit:\n  %s\n", url)
		}, nil, env.Stdout)
	}
	if email == "" {
		return usageErr("authorize timedoctor: give --email; the password (and a 2FA code) are read from stdin")
	}
	in := bufio.NewReader(env.Stdin)
	pw, err := readSecretFrom(env, in, "Time Doctor password: ")
	if err != nil {
		return err
	}
	err = a.signInTimeDoctor(ctx, email, pw.Reveal(), "", env.Stdout)
	if errors.Is(err, backend.ErrTOTPRequired) {
		code, cerr := readSecretFrom(env, in, "Time Doctor 2FA code: ")
		if cerr != nil {
			return cerr
		}
		err = a.signInTimeDoctor(ctx, email, pw.Reveal(), code.Reveal(), env.Stdout)
	}
	return err
}

// signInTimeDoctor logs in, stores the token (never the password) and picks the
// company when there is one. It returns backend.ErrTOTPRequired when a 2FA code is needed.
func (a *App) signInTimeDoctor(ctx context.Context, email, password, totp string, out io.Writer) error {
	if strings.TrimSpace(email) == "" || password == "" {
		return errors.New("enter your Time Doctor e-mail and password")
	}
	c, err := a.newTimeDoctor(timeDoctorToken{})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	sess, err := c.Login(ctx, email, password, totp)
	if errors.Is(err, timedoctor.ErrTOTPRequired) {
		return fmt.Errorf("time doctor: %w", backend.ErrTOTPRequired)
	}
	if errors.Is(err, timedoctor.ErrBadCredentials) {
		return &ExitError{Code: ExitSignIn, Err: fmt.Errorf("sign-in refused by Time Doctor: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("sign in to Time Doctor: %w", err)
	}
	tok := timeDoctorToken{Token: sess.Token, ExpiresAt: sess.ExpiresAt, Query: c.QueryMode()}
	if err := secrets.SetJSON(ctx, a.Secrets, keyTimeDoctorToken, tok); err != nil {
		return fmt.Errorf("store the Time Doctor token in the keychain: %w", err)
	}
	company := a.Config.TimeDoctor.Company
	switch {
	case company != "":
	case len(sess.Companies) == 1:
		if err := a.setConfig(ctx, "timedoctor.company", sess.Companies[0].ID); err != nil {
			return err
		}
		company = sess.Companies[0].Name
	case len(sess.Companies) > 1:
		fmt.Fprintln(out, "You belong to several Time Doctor companies; choose one with timebridge config set timedoctor.company ID:")
		for _, co := range sess.Companies {
			fmt.Fprintf(out, "  %s  %s (%s)\n", co.ID, co.Name, co.Role)
		}
	}
	fmt.Fprintf(out, "Signed in to Time Doctor as %s (%s) — %s; the sign-in expires on %s.\n", sess.User.Name, sess.User.Email,
		orDash(company), sess.ExpiresAt.Local().Format("2006-01-02"))
	return nil
}

// authorizeTimeLog checks a personal access token read from stdin and stores it.
func (a *App) authorizeTimeLog(ctx context.Context, env Env) error {
	if a.Config.TimeLog.APIURL == "" {
		return usageErr("timelog.api_url is not set: run timebridge config set timelog.api_url https://app.timelog.com/YOUR-ACCOUNT/api first")
	}
	if a.Config.TimeLog.ClientID != "" { // OAuth in the browser (design §3)
		return a.signInTimeLogOAuth(ctx, func(url string) {
			fmt.Fprintf(env.Stderr, "Opening your browser to sign in to TimeLog. If it does not open, visit:\n  %s\n", url)
		}, nil, env.Stdout)
	}
	tok, err := readSecret(env, "TimeLog personal access token: ")
	if err != nil {
		return err
	}
	return a.signInTimeLog(ctx, tok, env.Stdout)
}

// signInTimeLog checks the token with TimeLog and stores it in the keychain.
func (a *App) signInTimeLog(ctx context.Context, tok secrets.Secret, out io.Writer) error {
	if a.Config.TimeLog.APIURL == "" {
		return errors.New("set the TimeLog site URL (timelog.api_url) in Settings first")
	}
	if tok.IsEmpty() {
		return errors.New("paste your TimeLog personal access token")
	}
	c, err := timelog.New(timelog.Config{BaseURL: a.Config.TimeLog.APIURL, Token: tok.Reveal(), Logger: a.Log})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	me, err := c.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the token with TimeLog: %w", err)
	}
	if err := a.Secrets.Set(ctx, keyTimeLogToken, tok); err != nil {
		return fmt.Errorf("store the TimeLog token in the keychain: %w", err)
	}
	fmt.Fprintf(out, "Signed in to TimeLog as %s (%s).\n", me.Name, orDash(me.Email))
	return nil
}

// readSecret reads one line from stdin, without echo when it is a terminal.
func readSecret(env Env, prompt string) (secrets.Secret, error) {
	return readSecretFrom(env, bufio.NewReader(env.Stdin), prompt)
}

// readSecretFrom reads one line from in (stdin), without echo when stdin is a terminal.
func readSecretFrom(env Env, in *bufio.Reader, prompt string) (secrets.Secret, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read from the terminal: %w", err)
		}
		return nonEmpty(string(b))
	}
	line, err := in.ReadString('\n')
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
