package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/backend"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

func memApp(t *testing.T) *App {
	t.Helper()
	a, err := open(Env{}.withDefaults(), t.TempDir(), "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestSignInTimeDoctorWithTwoFactor(t *testing.T) {
	td := timedoctortest.New(timedoctortest.Options{RealTime: true})
	defer td.Close()
	co := td.AddCompany("Acme", "Europe/Berlin")
	td.AddUser(timedoctortest.User{Company: co, Role: "user", Name: "Ann", Email: "ann@example.com", Password: "pw", TOTP: "123456"})
	a := memApp(t)
	if err := a.SetSetting("timedoctor.api_url", td.URL); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out strings.Builder
	if err := a.signInTimeDoctor(ctx, "ann@example.com", "wrong", "000000", &out); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if ok, _ := a.hasSecret(ctx, keyTimeDoctorToken); ok {
		t.Fatal("a refused sign-in stored a token")
	}
	err := a.signInTimeDoctor(ctx, "ann@example.com", "pw", "", &out)
	if !errors.Is(err, backend.ErrTOTPRequired) {
		t.Fatalf("without the code: %v, want ErrTOTPRequired", err)
	}
	if err := a.signInTimeDoctor(ctx, "ann@example.com", "pw", "123456", &out); err != nil {
		t.Fatal(err)
	}
	var tok timeDoctorToken
	if err := secrets.GetJSON(ctx, a.Secrets, keyTimeDoctorToken, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token not stored: %v", err)
	}
	if a.Config.TimeDoctor.Company != co {
		t.Fatalf("company %q, want the only one %q chosen", a.Config.TimeDoctor.Company, co)
	}
	if strings.Contains(out.String(), "pw") {
		t.Fatal("the password was printed")
	}
}

func TestSignInTimeLogRejectsBadToken(t *testing.T) {
	tl := timelogtest.New(timelogtest.Options{Start: time.Now()})
	defer tl.Close()
	a := memApp(t)
	if err := a.SetSetting("timelog.api_url", tl.URL); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.signInTimeLog(ctx, "not-a-token", &strings.Builder{}); err == nil {
		t.Fatal("a bad token was accepted")
	}
	if ok, _ := a.hasSecret(ctx, keyTimeLogToken); ok {
		t.Fatal("a rejected token was stored")
	}
	if err := a.signInTimeLog(ctx, secrets.Secret(tl.Token), &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.hasSecret(ctx, keyTimeLogToken); !ok {
		t.Fatal("the token was not stored")
	}
}

func TestSettingsRows(t *testing.T) {
	a := memApp(t)
	rows := a.Settings()
	byKey := map[string]backend.Setting{}
	for _, r := range rows {
		byKey[r.Key] = r
	}
	if r := byKey["sync.interval"]; r.Value != "15m" || r.Kind != "duration" || r.Label == "" || r.Help == "" {
		t.Fatalf("sync.interval row %+v", r)
	}
	if r := byKey["trackers"]; r.Kind != "choice" || len(r.Choices) != 3 {
		t.Fatalf("trackers row %+v", r)
	}
	if err := a.SetSetting("sync.interval", "5x"); err == nil || !strings.Contains(err.Error(), "sync.interval") {
		t.Fatalf("bad value: %v", err)
	}
	if err := a.SetSetting("sync.interval", "30m"); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Config.Get("sync.interval"); v != "30m" {
		t.Fatalf("interval %q after SetSetting", v)
	}
	if a.ZoneWarning() != "" || a.Journal(10) != nil || !a.NotificationsEnabled() {
		t.Fatal("defaults without an engine")
	}
}
