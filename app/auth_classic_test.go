package app

import (
	"context"
	"strings"
	"testing"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

func TestTimeDoctorClassicSignIn(t *testing.T) {
	td := timedoctortest.New(timedoctortest.Options{RealTime: true})
	defer td.Close()
	co := td.AddClassicCompany("Acme", "Europe/Berlin")
	ann := td.AddClassicUser(co, "admin", "Ann", "ann@example.com")
	td.SetClassicBrowserUser(ann)
	a := memApp(t)
	for k, v := range map[string]string{"timedoctor.edition": "classic", "timedoctor.api_url": td.URL,
		"timedoctor.client_id": "timebridge-classic", "timedoctor.client_secret": "classic-secret", "trackers": "timedoctor"} {
		if err := a.SetSetting(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	ctx := context.Background()
	var out strings.Builder
	if err := a.signInClassic(ctx, nil, follow, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Signed in to Time Doctor Classic as Ann") {
		t.Fatalf("output %q", out.String())
	}
	if ok, _ := a.hasSecret(ctx, keyTimeDoctorClassic); !ok {
		t.Fatal("the Classic pair was not stored")
	}
	c, err := a.classicClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tr connector.Tracker = c
	if me, err := tr.Me(ctx); err != nil || me.Email != "ann@example.com" {
		t.Fatalf("Me with the stored pair: %+v, %v", me, err)
	}
	if err := a.SignOut(ctx, "timedoctor"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.hasSecret(ctx, keyTimeDoctorClassic); ok {
		t.Fatal("sign-out left the Classic pair")
	}
}
