package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

var twoServices = engine.Status{Services: []engine.ServiceState{
	{Service: "bitrix24", SignedIn: true, Account: "Ann (ann@acme.com) — acme.bitrix24.com"},
	{Service: "timelog", Problem: "token revoked — sign in again"},
}}

// signedOut is a first start: nothing signed in yet.
var signedOut = engine.Status{State: engine.StateSignInNeeded, Services: []engine.ServiceState{
	{Service: "bitrix24"}, {Service: "timedoctor"}, {Service: "timelog"},
}}

func TestAccountsTab(t *testing.T) {
	cases := []struct {
		name   string
		button string
		err    error
		call   string
		notice string
	}{
		{"sign out", "Sign out", nil, "SignOut(bitrix24)", "Signed out of Bitrix24"},
		{"authorize", "Authorize", nil, "Authorize(bitrix24)", "Signed in to Bitrix24"},
		{"authorize fails", "Authorize", errors.New("the browser sign-in timed out after 5m0s"), "Authorize(bitrix24)",
			"Sign-in to Bitrix24 failed: the browser sign-in timed out after 5m0s"},
		{"sign out fails", "Sign out", errors.New("keychain locked"), "SignOut(bitrix24)", "Sign-out of Bitrix24 failed: keychain locked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{err: tc.err}
			v := newTestView(t, b, nil)
			st := twoServices
			if tc.button == "Authorize" {
				st.Services = []engine.ServiceState{{Service: "bitrix24"}, twoServices.Services[1]}
			}
			v.apply(st)
			show(t, v.accounts.content)
			got := texts(v.accounts.content)
			for _, want := range []string{"Bitrix24", "TimeLog", "not signed in · token revoked — sign in again"} {
				if !strings.Contains(got, want) {
					t.Errorf("Accounts tab lacks %q; it shows:\n%s", want, got)
				}
			}
			bs := buttons(v.accounts.content, tc.button)
			if len(bs) != 1 {
				t.Fatalf("%d %q buttons, want 1", len(bs), tc.button)
			}
			test.Tap(bs[0])
			wantCalls(t, b, tc.call)
			if got, _ := v.accounts.notice.Get(); got != tc.notice {
				t.Errorf("notice = %q, want %q", got, tc.notice)
			}
			if len(v.accounts.busy) != 0 {
				t.Errorf("still busy after the call returned: %v", v.accounts.busy)
			}
		})
	}
}

// TestAccountsCancel runs Authorize on a real goroutine: while it waits for the
// browser the button reads Cancel, and tapping it ends the call's context.
func TestAccountsCancel(t *testing.T) {
	started := make(chan struct{})
	b := &fakeBackend{authorize: func(ctx context.Context, _ string) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	v := newTestView(t, b, nil)
	finished := make(chan struct{})
	v.async = func(f func()) {
		go func() {
			defer close(finished)
			f() // its fyne.Do runs inline in the test driver, before finished closes
		}()
	}
	v.apply(signedOut)
	show(t, v.accounts.content)

	test.Tap(buttons(v.accounts.content, "Authorize")[0])
	<-started
	if got, _ := v.accounts.notice.Get(); got != "Signing in to Bitrix24 — finish in your browser… If no browser opened, run: timebridge authorize bitrix24" {
		t.Errorf("notice while signing in = %q", got)
	}
	cancel := buttons(v.accounts.content, "Cancel")
	if len(cancel) != 1 {
		t.Fatalf("%d Cancel buttons while signing in, want 1", len(cancel))
	}
	test.Tap(cancel[0])
	<-finished

	wantCalls(t, b, "Authorize(bitrix24)")
	if got, _ := v.accounts.notice.Get(); got != "Bitrix24: cancelled" {
		t.Errorf("notice after Cancel = %q", got)
	}
	if n := len(buttons(v.accounts.content, "Authorize")); n != 1 {
		t.Errorf("%d Authorize buttons after Cancel, want 1", n)
	}
}

func TestAccountAction(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s    engine.ServiceState
		busy bool
		want string
	}{
		{engine.ServiceState{Service: "bitrix24"}, false, "Authorize"},
		{engine.ServiceState{Service: "timedoctor"}, false, "Sign in…"},
		{engine.ServiceState{Service: "timelog"}, false, "Sign in…"},
		{engine.ServiceState{Service: "timelog", SignedIn: true}, false, "Sign out"},
		{engine.ServiceState{Service: "bitrix24", SignedIn: true}, true, "Cancel"},
		{engine.ServiceState{Service: "bitrix24"}, true, "Cancel"},
	}
	for _, tc := range cases {
		if got := accountAction(tc.s, tc.busy); got != tc.want {
			t.Errorf("accountAction(%+v, %v) = %q, want %q", tc.s, tc.busy, got, tc.want)
		}
	}
}

// urlBackend reports the sign-in URL like the app does.
type urlBackend struct {
	*fakeBackend
	url string
}

func (u urlBackend) AuthorizeURL(ctx context.Context, service string, url func(string)) error {
	url(u.url)
	return u.Authorize(ctx, service)
}

func TestAccountsSignInLinkCopy(t *testing.T) {
	started := make(chan struct{})
	fb := &fakeBackend{authorize: func(ctx context.Context, _ string) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	b := urlBackend{fakeBackend: fb, url: "https://acme.bitrix24.com/oauth/authorize/?client_id=x&state=y"}
	v := newTestView(t, b, nil)
	finished := make(chan struct{})
	v.async = func(f func()) {
		go func() {
			defer close(finished)
			f()
		}()
	}
	v.apply(signedOut)
	show(t, v.accounts.content)
	if v.accounts.urlRow.Visible() {
		t.Fatal("the sign-in link shows before a sign-in started")
	}
	test.Tap(buttons(v.accounts.content, "Authorize")[0])
	<-started
	if !v.accounts.urlRow.Visible() || v.accounts.urlLabel.Text != b.url {
		t.Fatalf("link row visible=%v text=%q, want the sign-in URL", v.accounts.urlRow.Visible(), v.accounts.urlLabel.Text)
	}
	test.Tap(v.accounts.copyURL)
	if got := fyne.CurrentApp().Clipboard().Content(); got != b.url {
		t.Fatalf("clipboard %q, want the sign-in URL", got)
	}
	test.Tap(buttons(v.accounts.content, "Cancel")[0])
	<-finished
	if v.accounts.urlRow.Visible() {
		t.Fatal("the sign-in link still shows after the sign-in ended")
	}
}
