package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/auth/authtest"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// TestTimeLogOAuthSignInAndRefresh: with timelog.client_id set the app signs in
// through the login server (a public client with PKCE), and an expired access
// token is refreshed once and stored before it is used.
func TestTimeLogOAuthSignInAndRefresh(t *testing.T) {
	login := authtest.NewServer()
	defer login.Close()
	login.AllowPublicClient(true)
	tl := timelogtest.New(timelogtest.Options{Start: time.Now(),
		LoginServer: func(tok string) (int, bool) { return 29, login.AccessValid(tok) }})
	defer tl.Close()
	a := memApp(t)
	for k, v := range map[string]string{"timelog.api_url": tl.URL, "timelog.client_id": authtest.PublicClientID,
		"timelog.oauth_url": login.URL} {
		if err := a.SetSetting(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	ctx := context.Background()
	var out strings.Builder
	if err := a.signInTimeLogOAuth(ctx, nil, follow, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Signed in to TimeLog") {
		t.Fatalf("output %q", out.String())
	}
	var first oauthPair
	if err := getJSON(a, keyTimeLogOAuth, &first); err != nil || first.Refresh == "" {
		t.Fatalf("pair not stored: %v", err)
	}
	// An hour later the access token has expired: the client refreshes once.
	login.Clock.Advance(2 * time.Hour)
	c, err := a.timeLogClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("Me after expiry: %v", err)
	}
	var second oauthPair
	if err := getJSON(a, keyTimeLogOAuth, &second); err != nil || second.Refresh == first.Refresh {
		t.Fatalf("the refreshed pair was not stored (err %v)", err)
	}
	if n := login.CountRefreshes(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func getJSON(a *App, key string, v any) error {
	return secrets.GetJSON(context.Background(), a.Secrets, key, v)
}
