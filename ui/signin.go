package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// signInDialog collects credentials and calls Backend.SignIn off the Fyne thread.
// It stays open while the sign-in runs and when it fails, with the reason shown
// inline, so the user can correct a typo; Cancel ends a running sign-in.
type signInDialog struct {
	t       *accountsTab
	service string
	dlg     *dialog.CustomDialog
	entries []*widget.Entry
	message *widget.Label
	content *fyne.Container
	submit  *widget.Button
	cancel  *widget.Button

	// collect reads the entries; an error is a message for the user.
	collect func() (Credentials, error)
	// totp, when set, takes over on ErrTOTPRequired (Time Doctor's second step).
	totp func(Credentials)

	running context.CancelFunc // the running SignIn; nil when none
}

// newSignInDialog builds (but does not show) a dialog with intro text above the
// labelled entries.
func (t *accountsTab) newSignInDialog(service, title, intro, submit string, items []*widget.FormItem) *signInDialog {
	d := &signInDialog{t: t, service: service, message: message(widget.DangerImportance)}
	for _, it := range items {
		if e, ok := it.Widget.(*widget.Entry); ok {
			d.entries = append(d.entries, e)
			e.OnSubmitted = func(string) { d.doSubmit() }
		}
	}
	d.submit = widget.NewButton(submit, d.doSubmit)
	d.submit.Importance = widget.HighImportance
	d.cancel = widget.NewButton("Cancel", d.doCancel)
	text := widget.NewLabel(intro)
	text.Wrapping = fyne.TextWrapWord
	d.content = container.NewVBox(text, widget.NewForm(items...), d.message)
	d.dlg = dialog.NewCustomWithoutButtons(title, d.content, t.v.parent())
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancel, d.submit})
	return d
}

func (d *signInDialog) show() {
	d.dlg.Show()
	d.dlg.Resize(fyne.NewSize(480, d.dlg.MinSize().Height))
	if len(d.entries) > 0 {
		if c := fyne.CurrentApp().Driver().CanvasForObject(d.entries[0]); c != nil {
			c.Focus(d.entries[0])
		}
	}
}

// fail shows why the sign-in did not work, below the entries, as a sentence.
func (d *signInDialog) fail(msg string) {
	if r, n := utf8.DecodeRuneInString(msg); n > 0 {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	d.say(widget.DangerImportance, msg)
}

// say shows msg ("" for none) below the entries.
func (d *signInDialog) say(imp widget.Importance, msg string) {
	d.message.Importance = imp
	setMessage(d.message, msg)
	d.content.Refresh()
}

func (d *signInDialog) setBusy(busy bool) {
	for _, e := range d.entries {
		if busy {
			e.Disable()
		} else {
			e.Enable()
		}
	}
	enable(d.submit, !busy)
}

func (d *signInDialog) doSubmit() {
	if d.running != nil || d.submit.Disabled() {
		return
	}
	c, err := d.collect()
	if err != nil {
		d.fail(err.Error())
		return
	}
	v, name := d.t.v, serviceName(d.service)
	ctx, cancel := context.WithCancel(v.ctx)
	d.running = cancel
	d.setBusy(true)
	d.say(widget.MediumImportance, "Signing in to "+name+"…")
	v.async(func() {
		err := v.backend.SignIn(ctx, d.service, c)
		cancelled := ctx.Err() != nil
		fyne.Do(func() {
			cancel()
			d.running = nil
			d.setBusy(false)
			switch {
			case cancelled:
				_ = d.t.notice.Set(name + ": cancelled")
			case err == nil:
				d.dlg.Hide()
				_ = d.t.notice.Set("Signed in to " + name)
			case errors.Is(err, ErrTOTPRequired) && d.totp != nil:
				d.dlg.Hide()
				d.totp(c)
			case errors.Is(err, ErrTOTPRequired) && c.TOTP != "":
				d.fail("Time Doctor did not accept the code: enter the one your authenticator app shows now")
			default:
				d.fail("Could not sign in: " + err.Error())
			}
		})
	})
}

func (d *signInDialog) doCancel() {
	if d.running != nil {
		d.running()
	}
	d.dlg.Hide()
}

// signInTimeDoctor asks for the Time Doctor email and password; when Time Doctor
// asks for a two-factor code a second dialog asks for it.
func (t *accountsTab) signInTimeDoctor() *signInDialog {
	email := widget.NewEntry()
	email.SetPlaceHolder("you@company.com")
	password := widget.NewPasswordEntry()
	d := t.newSignInDialog("timedoctor", "Sign in to Time Doctor",
		"Your Time Doctor email and password. The password is only sent to Time Doctor; timebridge keeps the token it gets back.",
		"Sign in", []*widget.FormItem{widget.NewFormItem("Email", email), widget.NewFormItem("Password", password)})
	d.collect = func() (Credentials, error) {
		c := Credentials{Email: strings.TrimSpace(email.Text), Password: password.Text}
		switch {
		case !strings.Contains(c.Email, "@"):
			return c, errors.New("enter the email address you sign in to Time Doctor with")
		case c.Password == "":
			return c, errors.New("enter your Time Doctor password")
		}
		return c, nil
	}
	d.totp = func(c Credentials) { t.timeDoctorCode(c).show() }
	t.dialog = d
	d.show()
	return d
}

// timeDoctorCode is Time Doctor's second step: the two-factor code.
func (t *accountsTab) timeDoctorCode(c Credentials) *signInDialog {
	code := widget.NewEntry()
	code.SetPlaceHolder("123456")
	d := t.newSignInDialog("timedoctor", "Time Doctor: two-factor code",
		"Enter the code from your authenticator app for "+c.Email+".",
		"Verify", []*widget.FormItem{widget.NewFormItem("Code", code)})
	d.collect = func() (Credentials, error) {
		cc := c
		cc.TOTP = strings.ReplaceAll(strings.TrimSpace(code.Text), " ", "")
		if cc.TOTP == "" {
			return cc, errors.New("enter the code your authenticator app shows")
		}
		return cc, nil
	}
	t.dialog = d
	return d
}

// signInTimeLog asks for a TimeLog personal access token.
func (t *accountsTab) signInTimeLog() *signInDialog {
	token := widget.NewPasswordEntry()
	d := t.newSignInDialog("timelog", "Sign in to TimeLog",
		"Paste a personal access token: in TimeLog open your profile › Personal access tokens and create one.",
		"Sign in", []*widget.FormItem{widget.NewFormItem("Token", token)})
	d.collect = func() (Credentials, error) {
		c := Credentials{Token: strings.TrimSpace(token.Text)}
		if c.Token == "" {
			return c, errors.New("paste the token TimeLog created for you")
		}
		return c, nil
	}
	t.dialog = d
	d.show()
	return d
}

// signInWebhook asks for a Bitrix24 incoming-webhook URL, checked as it is typed.
func (t *accountsTab) signInWebhook() *signInDialog {
	hook := widget.NewEntry()
	hook.SetPlaceHolder("https://YOUR.bitrix24.com/rest/1/abc123…/")
	d := t.newSignInDialog("bitrix24", "Bitrix24: use a webhook",
		"Instead of signing in with the browser, paste the URL of an incoming webhook you created in Bitrix24 "+
			"(Developer resources › Other › Inbound webhook, with the task and user scopes).",
		"Use webhook", []*widget.FormItem{widget.NewFormItem("Webhook URL", hook)})
	d.collect = func() (Credentials, error) {
		s := strings.TrimSpace(hook.Text)
		return Credentials{Webhook: s}, validateWebhook(s)
	}
	hook.OnChanged = func(s string) {
		err := validateWebhook(s)
		if err != nil && strings.TrimSpace(s) != "" {
			d.fail(err.Error())
		} else {
			d.say(widget.DangerImportance, "")
		}
		enable(d.submit, err == nil && d.running == nil)
	}
	d.submit.Disable()
	t.dialog = d
	d.show()
	return d
}

// validateWebhook checks a webhook URL before it is sent anywhere: https, or plain
// http to the loopback address only (an emulator, a local proxy). The messages
// never repeat the URL, which holds a secret.
func validateWebhook(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("paste the webhook URL")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("this is not a web address: it must start with https://")
	case u.Scheme == "http" && u.Hostname() != "127.0.0.1":
		return errors.New("the URL must start with https:// (plain http:// only for http://127.0.0.1)")
	case u.User != nil:
		return errors.New("the URL must not contain a user name or password")
	}
	return nil
}
