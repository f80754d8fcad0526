//go:build ignore

// Command benchemu serves the Bitrix24 and TimeLog emulators for the idle benchmark
// (.ci/bench-idle.sh), so that timebridge runs there signed in and synced: with
// no sign-in it opens its window by design, and the benchmark wants it hidden.
// It seeds one user with a project group and three tasks, then prints shell
// assignments (B24_WEBHOOK, TL_URL, TL_TOKEN) and "ready", and serves until killed.
// Test credentials only; they live as long as this process.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

func main() {
	now := time.Now()
	b24 := bitrix24test.New(bitrix24test.Options{RealTime: true, Start: now})
	defer b24.Close()
	tl := timelogtest.New(timelogtest.Options{Start: now, Zone: time.Local,
		Owner: timelogtest.User{UserID: 29, FirstName: "Ann", LastName: "Example", Email: "ann@example.com"}})
	defer tl.Close()

	ann := b24.AddUser(bitrix24test.User{Name: "Ann", LastName: "Example", Email: "ann@example.com"})
	web := b24.AddGroup(bitrix24test.Group{Name: "Website relaunch", Members: []int{ann}, Project: true})
	for _, title := range []string{"Design the new landing page", "Migrate blog posts", "SEO audit"} {
		b24.AddTask(bitrix24test.Task{Title: title, GroupID: web, ResponsibleID: ann, CreatedBy: ann})
	}
	tl.AddProject(timelogtest.Project{Name: "Website relaunch"})

	fmt.Printf("B24_WEBHOOK='%s'\nTL_URL='%s'\nTL_TOKEN='%s'\nready\n", b24.AddWebhook(ann), tl.URL, tl.Token)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
