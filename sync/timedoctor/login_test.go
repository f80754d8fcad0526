package timedoctor

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

func TestLogin(t *testing.T) {
	cases := []struct {
		name      string
		opts      timedoctortest.Options
		wantPosts []string // login routes called, in order
		wantAuth  int      // GET /authorization calls
	}{
		{"AuthorizationLogin", timedoctortest.Options{}, []string{"/api/1.0/authorization/login"}, 0},
		{"LoginOnlyFallsBack", timedoctortest.Options{LoginRoutes: "login"}, []string{"/api/1.0/authorization/login", "/api/1.0/login"}, 1},
		{"ExpiresField", timedoctortest.Options{ExpiryField: "expires"}, []string{"/api/1.0/authorization/login"}, 0},
		{"BothExpiryFields", timedoctortest.Options{ExpiryField: "both", LoginRoutes: "login"}, []string{"/api/1.0/authorization/login", "/api/1.0/login"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := newEnv(t, tc.opts, func(c *Config) {
				c.Token, c.Company = "", ""
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			s, err := e.c.Login(context.Background(), "ANN@example.com ", "secret", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Token) != 44 || s.User.ID != e.user || s.User.Email != "ann@example.com" {
				t.Fatalf("session %+v", s)
			}
			if want := e.emu.Clock.Now().Add(180 * 24 * time.Hour); !s.ExpiresAt.Equal(want) {
				t.Fatalf("ExpiresAt = %v, want %v", s.ExpiresAt, want)
			}
			if len(s.Companies) != 1 || s.Companies[0].ID != e.company || s.Companies[0].TimeZone != "Europe/Berlin" {
				t.Fatalf("companies %+v", s.Companies)
			}
			var posts []string
			for _, r := range e.emu.Requests() {
				if r.Method == "POST" {
					posts = append(posts, r.Path)
					if !strings.Contains(r.Body, `"permissions":"write"`) || !strings.Contains(r.Body, `"deviceId"`) {
						t.Errorf("login body %s", r.Body)
					}
				}
			}
			if strings.Join(posts, ",") != strings.Join(tc.wantPosts, ",") {
				t.Fatalf("login posts %v, want %v", posts, tc.wantPosts)
			}
			if got := e.emu.Count("GET", "/api/1.0/authorization"); got != tc.wantAuth {
				t.Fatalf("%d GET /authorization, want %d", got, tc.wantAuth)
			}
			// The client now works with the new token and picked the only company.
			if _, err := e.c.FindProject(context.Background(), "x"); !errors.Is(err, connector.ErrNotFound) {
				t.Fatalf("after login: %v", err)
			}
			if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), s.Token) {
				t.Fatal("password or token in the log")
			}
			slog.New(slog.NewTextHandler(&logs, nil)).Info("session", "s", s)
			if strings.Contains(logs.String(), s.Token) {
				t.Fatal("Session logs its token")
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	cases := []struct {
		name           string
		opts           timedoctortest.Options
		password, totp string
		want           error
	}{
		{"TOTPStatus200", timedoctortest.Options{}, "secret", "", ErrTOTPRequired},
		{"TOTP401Message", timedoctortest.Options{TOTPSignal: "401message"}, "secret", "", ErrTOTPRequired},
		{"WrongCode", timedoctortest.Options{TOTPSignal: "401message"}, "secret", "000000", ErrBadCredentials},
		{"WrongPassword401", timedoctortest.Options{}, "wrong", "", ErrBadCredentials},
		{"WrongPassword403", timedoctortest.Options{BadLoginStatus: 403}, "wrong", "", ErrBadCredentials},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts, func(c *Config) { c.Token = "" })
			e.emu.AddUser(timedoctortest.User{Company: e.company, Role: "user", Name: "Ben", Email: "ben@example.com",
				Password: "secret", TOTP: "424242"})
			_, err := e.c.Login(context.Background(), "ben@example.com", tc.password, tc.totp)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.password) {
				t.Fatalf("error %q shows the password", err)
			}
			if n := len(e.emu.Requests()); n != 1 {
				t.Fatalf("%d requests, want 1 (no automatic retry)", n)
			}
			if tc.want == ErrTOTPRequired {
				s, err := e.c.Login(context.Background(), "ben@example.com", tc.password, "424242")
				if err != nil || s.Token == "" {
					t.Fatalf("with the code: %v", err)
				}
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "https://api2.timedoctor.com"},
		{"https://api2.timedoctor.com/api/1.0/", "https://api2.timedoctor.com"},
		{"https://api2.timedoctor.com/api/1.1", "https://api2.timedoctor.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:1/proxy/api/1.0", "http://localhost:1/proxy"},
		{"http://example.com", ""},
		{"ftp://example.com", ""},
	}
	for _, tc := range cases {
		got, err := normalizeBase(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("normalizeBase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
