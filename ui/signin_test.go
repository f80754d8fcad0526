package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// openDialog shows the Accounts tab of a signed-out view in a window, taps the
// button labelled button and returns the dialog it opened.
func openDialog(t *testing.T, b *fakeBackend, button string) (*view, fyne.Window, *signInDialog) {
	t.Helper()
	v := newTestView(t, b, nil)
	v.apply(signedOut)
	w := show(t, v.accounts.content)
	v.window = w
	bs := buttons(v.accounts.content, button)
	if len(bs) == 0 {
		t.Fatalf("no %q button on the Accounts tab:\n%s", button, texts(v.accounts.content))
	}
	test.Tap(bs[0])
	d := v.accounts.dialog
	if d == nil || w.Canvas().Overlays().Top() == nil {
		t.Fatalf("%q opened no dialog", button)
	}
	return v, w, d
}

// overlayText is the text of the dialog on top of w.
func overlayText(w fyne.Window) string {
	if o := w.Canvas().Overlays().Top(); o != nil {
		return texts(o)
	}
	return ""
}

func TestAccountsRowButtons(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	v.apply(signedOut)
	show(t, v.accounts.content)
	var labels []string
	walk(v.accounts.list, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Visible() {
			labels = append(labels, b.Text)
		}
	})
	// One button per row, Bitrix24 (the browser flow) first: the end-to-end test
	// clicks the first button on the right of the Accounts tab.
	if got := strings.Join(labels, ","); got != "Authorize,Sign in…,Sign in…" {
		t.Errorf("row buttons = %q", got)
	}
	if n := len(buttons(v.accounts.content, "Use a Bitrix24 webhook instead…")); n != 1 {
		t.Errorf("%d webhook buttons while Bitrix24 is signed out, want 1", n)
	}
	v.apply(twoServices)
	if n := len(buttons(v.accounts.content, "Use a Bitrix24 webhook instead…")); n != 0 {
		t.Errorf("%d webhook buttons while Bitrix24 is signed in, want 0", n)
	}
}

func TestTimeDoctorSignIn(t *testing.T) {
	b := &fakeBackend{}
	tries := 0
	b.signIn = func(_ context.Context, _ string, c Credentials) error {
		tries++
		switch {
		case c.TOTP == "", c.TOTP == "000000":
			return ErrTOTPRequired
		case c.TOTP != "654321":
			return errors.New("the two-factor code is wrong or expired")
		}
		return nil
	}
	v, w, d := openDialog(t, b, "Sign in…") // the Time Doctor row is the first with Sign in…
	if got := overlayText(w); !strings.Contains(got, "Sign in to Time Doctor") {
		t.Fatalf("dialog shows:\n%s", got)
	}

	// Nothing typed: the dialog says what is missing and calls nothing.
	test.Tap(d.submit)
	if got := overlayText(w); !strings.Contains(got, "Enter the email address you sign in to Time Doctor with") {
		t.Errorf("empty form: dialog shows:\n%s", got)
	}
	wantCalls(t, b)

	test.Type(d.entries[0], "ann@acme.com")
	test.Type(d.entries[1], "s3cret")
	test.Tap(d.submit)

	// Time Doctor wants a code: a second dialog asks for it.
	code := v.accounts.dialog
	if code == d || !strings.Contains(overlayText(w), "Time Doctor: two-factor code") {
		t.Fatalf("no two-factor dialog after ErrTOTPRequired; on top:\n%s", overlayText(w))
	}
	test.Type(code.entries[0], "111 111")
	test.Tap(code.submit)
	if got := overlayText(w); !strings.Contains(got, "Could not sign in: the two-factor code is wrong or expired") {
		t.Errorf("wrong code: dialog shows:\n%s", got)
	}
	code.entries[0].SetText("")
	test.Type(code.entries[0], "000000")
	test.Tap(code.submit)
	if got := overlayText(w); v.accounts.dialog != code || !strings.Contains(got, "Time Doctor did not accept the code") {
		t.Errorf("code refused again: dialog shows:\n%s", got)
	}
	code.entries[0].SetText("")
	test.Type(code.entries[0], "654321")
	test.Tap(code.submit)

	wantCalls(t, b,
		"SignIn(timedoctor, email=ann@acme.com password=***et)",
		"SignIn(timedoctor, email=ann@acme.com password=***et totp=111111)",
		"SignIn(timedoctor, email=ann@acme.com password=***et totp=000000)",
		"SignIn(timedoctor, email=ann@acme.com password=***et totp=654321)")
	if w.Canvas().Overlays().Top() != nil {
		t.Errorf("a dialog is still open after the sign-in:\n%s", overlayText(w))
	}
	if got, _ := v.accounts.notice.Get(); got != "Signed in to Time Doctor" {
		t.Errorf("notice = %q", got)
	}
}

func TestTimeDoctorSignInFails(t *testing.T) {
	b := &fakeBackend{err: errors.New("Time Doctor says the email or password is wrong")}
	_, w, d := openDialog(t, b, "Sign in…")
	test.Type(d.entries[0], "ann@acme.com")
	test.Type(d.entries[1], "typo")
	test.Tap(d.submit)
	if got := overlayText(w); !strings.Contains(got, "Could not sign in: Time Doctor says the email or password is wrong") {
		t.Errorf("dialog shows:\n%s", got)
	}
	if d.submit.Disabled() || d.entries[0].Disabled() {
		t.Error("the form stays disabled after a failed sign-in")
	}
	// Cancel closes it.
	test.Tap(d.cancel)
	if w.Canvas().Overlays().Top() != nil {
		t.Error("Cancel left the dialog open")
	}
}

func TestTimeLogSignIn(t *testing.T) {
	cases := []struct {
		name, token string
		err         error
		calls       []string
		dialog      string // text the dialog shows afterwards; "" when it closed
		notice      string
	}{
		{"ok", "  tl-token-42 ", nil, []string{"SignIn(timelog, token=***42)"}, "", "Signed in to TimeLog"},
		{"empty", "", nil, nil, "Paste the token TimeLog created for you", ""},
		{"refused", "bad", errors.New("TimeLog refused the token (401)"), []string{"SignIn(timelog, token=***ad)"},
			"Could not sign in: TimeLog refused the token (401)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{err: tc.err}
			v := newTestView(t, b, nil)
			v.apply(signedOut)
			w := show(t, v.accounts.content)
			v.window = w
			test.Tap(buttons(v.accounts.content, "Sign in…")[1]) // the TimeLog row
			d := v.accounts.dialog
			if d == nil || !strings.Contains(overlayText(w), "Sign in to TimeLog") {
				t.Fatalf("no TimeLog dialog; on top:\n%s", overlayText(w))
			}
			if !d.entries[0].Password {
				t.Error("the token entry does not hide what is typed")
			}
			test.Type(d.entries[0], tc.token)
			test.Tap(d.submit)
			wantCalls(t, b, tc.calls...)
			if tc.dialog == "" {
				if w.Canvas().Overlays().Top() != nil {
					t.Errorf("dialog still open:\n%s", overlayText(w))
				}
			} else if got := overlayText(w); !strings.Contains(got, tc.dialog) {
				t.Errorf("dialog shows:\n%s\nwant %q", got, tc.dialog)
			}
			if got, _ := v.accounts.notice.Get(); got != tc.notice {
				t.Errorf("notice = %q, want %q", got, tc.notice)
			}
		})
	}
}

func TestWebhookDialog(t *testing.T) {
	b := &fakeBackend{}
	v, w, d := openDialog(t, b, "Use a Bitrix24 webhook instead…")
	if !d.submit.Disabled() {
		t.Error("Use webhook is enabled with nothing pasted")
	}
	for _, tc := range []struct {
		url, msg string
	}{
		{"http://acme.bitrix24.com/rest/1/abc/", "The URL must start with https:// (plain http:// only for http://127.0.0.1)"},
		{"http://127.0.0.1.example.com/rest/1/abc/", "plain http:// only for http://127.0.0.1"},
		{"acme.bitrix24.com/rest/1/abc/", "This is not a web address"},
		{"https://ann:pw@acme.bitrix24.com/rest/1/abc/", "The URL must not contain a user name or password"},
		{"http://127.0.0.1:8080/rest/1/abc/", ""},
		{"https://acme.bitrix24.com/rest/1/abc/", ""},
	} {
		d.entries[0].SetText("")
		test.Type(d.entries[0], tc.url)
		got := overlayText(w)
		if tc.msg == "" {
			if d.submit.Disabled() || d.message.Visible() {
				t.Errorf("%s: submit disabled %v, message %q", tc.url, d.submit.Disabled(), d.message.Text)
			}
			continue
		}
		if !strings.Contains(got, tc.msg) || !d.submit.Disabled() {
			t.Errorf("%s: submit disabled %v, dialog shows:\n%s\nwant %q", tc.url, d.submit.Disabled(), got, tc.msg)
		}
		if strings.Contains(got, "abc") {
			t.Errorf("%s: the message repeats the URL's secret part:\n%s", tc.url, got)
		}
	}
	test.Tap(d.submit)
	wantCalls(t, b, "SignIn(bitrix24, webhook=https://acme.bitrix24.com/rest/1/abc/)")
	if got, _ := v.accounts.notice.Get(); got != "Signed in to Bitrix24" {
		t.Errorf("notice = %q", got)
	}
}

// TestSignInCancel runs SignIn on a real goroutine: Cancel ends its context and
// closes the dialog.
func TestSignInCancel(t *testing.T) {
	started := make(chan struct{})
	b := &fakeBackend{signIn: func(ctx context.Context, _ string, _ Credentials) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	v := newTestView(t, b, nil)
	finished := make(chan struct{})
	v.async = func(f func()) {
		go func() {
			defer close(finished)
			f()
		}()
	}
	v.apply(signedOut)
	w := show(t, v.accounts.content)
	v.window = w
	test.Tap(buttons(v.accounts.content, "Sign in…")[1])
	d := v.accounts.dialog
	test.Type(d.entries[0], "tok")
	test.Tap(d.submit)
	<-started
	if !d.submit.Disabled() || !strings.Contains(overlayText(w), "Signing in to TimeLog…") {
		t.Errorf("while signing in: submit disabled %v, dialog:\n%s", d.submit.Disabled(), overlayText(w))
	}
	test.Tap(d.cancel)
	<-finished
	if got, _ := v.accounts.notice.Get(); got != "TimeLog: cancelled" {
		t.Errorf("notice = %q", got)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("Cancel left the dialog open")
	}
}

func TestValidateWebhook(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"https://acme.bitrix24.com/rest/1/abc/": true,
		"HTTPS://acme.bitrix24.com/rest/1/abc/": true,
		" https://b24.local/rest/7/x/ ":         true,
		"http://127.0.0.1:4000/rest/1/abc/":     true,
		"http://127.0.0.1/rest/1/abc/":          true,
		"http://localhost:4000/rest/1/abc/":     false,
		"http://127.0.0.1.evil.com/rest/1/x/":   false,
		"ftp://acme.bitrix24.com/":              false,
		"https://":                              false,
		"":                                      false,
	} {
		if err := validateWebhook(in); (err == nil) != ok {
			t.Errorf("validateWebhook(%q) = %v, want ok %v", in, err, ok)
		}
	}
}
