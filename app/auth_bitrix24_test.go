package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/auth"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// oauthApp is an App configured for the emulator's local application.
func oauthApp(t *testing.T, emu *bitrix24test.Server, port int) *App {
	t.Helper()
	a, err := open(Env{}.withDefaults(), t.TempDir(), "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	for k, v := range map[string]string{
		"bitrix24.portal":        emu.URL,
		"bitrix24.client_id":     emu.ClientID(),
		"bitrix24.token_url":     emu.AuthURL + "/oauth/token/",
		"bitrix24.redirect_port": fmt.Sprint(port),
		"bitrix24.client_secret": emu.ClientSecret(),
	} {
		if err := a.setConfig(ctx, k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	return a
}

// follow plays the browser: it follows the authorize URL and the consent redirect
// to the loopback listener.
func follow(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestBitrix24BrowserSignIn(t *testing.T) {
	port := freePort(t)
	emu := bitrix24test.New(bitrix24test.Options{RealTime: true, SkipConsent: true,
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", port)})
	defer emu.Close()
	emu.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com"})
	a := oauthApp(t, emu, port)
	var out bytes.Buffer
	var shown string
	if err := a.signInBitrix24(context.Background(), func(u string) { shown = u }, follow, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"client_id=" + emu.ClientID(), "state=", "code_challenge=", "redirect_uri=http%3A%2F%2F127.0.0.1%3A"} {
		if !strings.Contains(shown, want) {
			t.Errorf("authorize URL %q lacks %q", shown, want)
		}
	}
	if !strings.Contains(out.String(), "Signed in to Bitrix24 as Anna") {
		t.Fatalf("output %q", out.String())
	}
	var tok bitrix24Token
	if err := secrets.GetJSON(context.Background(), a.Secrets, keyBitrix24Token, &tok); err != nil || tok.Access == "" || tok.Refresh == "" {
		t.Fatalf("keychain record %v, err %v", tok.Access != "", err)
	}
	// The stored pair works for the next start.
	c, err := a.bitrix24Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me, err := c.Me(context.Background()); err != nil || me.Email != "anna@example.com" {
		t.Fatalf("Me with the stored pair: %+v, %v", me, err)
	}
}

func TestBitrix24BrowserSignInPortBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	emu := bitrix24test.New(bitrix24test.Options{RealTime: true, SkipConsent: true})
	defer emu.Close()
	a := oauthApp(t, emu, port)
	err = a.signInBitrix24(context.Background(), nil, follow, &bytes.Buffer{})
	if !errors.Is(err, auth.ErrPortInUse) || !strings.Contains(err.Error(), "bitrix24.redirect_port") ||
		!strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("error %v, want the busy port and its setting named", err)
	}
}

func TestBitrix24BrowserSignInAbandoned(t *testing.T) {
	port := freePort(t)
	emu := bitrix24test.New(bitrix24test.Options{RealTime: true})
	defer emu.Close()
	a := oauthApp(t, emu, port)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The browser shows the consent page and nobody clicks.
	err := a.signInBitrix24(ctx, nil, follow, &bytes.Buffer{})
	if err == nil {
		t.Fatal("an abandoned sign-in succeeded")
	}
	if ok, _ := a.hasSecret(context.Background(), keyBitrix24Token); ok {
		t.Fatal("a token was stored")
	}
}
