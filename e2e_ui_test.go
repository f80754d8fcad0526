//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// TestE2EUIBrowserSignInAndSync drives the real binary's window on a real X display
// with the real keyring (run it under .ci/with-desktop.sh, as `make test` does):
// the window opens in the sign-in-needed state, a click on Accounts → Authorize
// sends the Bitrix24 authorize URL to the system browser (a fake xdg-open hands it
// to headless Chromium, which clicks Allow on the emulator's consent page), the
// token pair lands in the keyring, the engine starts and mirrors the seeded tasks
// into TimeLog, and the window shows it. SIGTERM quits the app.
func TestE2EUIBrowserSignInAndSync(t *testing.T) {
	uiRequireDesktop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// 1. The services: a Bitrix24 portal whose consent page must be clicked, and TimeLog.
	port := uiFreePort(t)
	b24 := bitrix24test.New(bitrix24test.Options{RealTime: true, Start: time.Now(), AuthorizeUser: 1,
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", port)})
	t.Cleanup(b24.Close)
	anna := b24.AddUser(bitrix24test.User{ID: 1, Name: "Anna", LastName: "Example", Email: "anna@example.com"})
	web := b24.AddGroup(bitrix24test.Group{Name: "Website relaunch", Members: []int{anna}, Project: true})
	seeded := []int{
		b24.AddTask(bitrix24test.Task{Title: "Design the landing page", GroupID: web, ResponsibleID: anna, CreatedBy: anna}),
		b24.AddTask(bitrix24test.Task{Title: "Quarterly planning", ResponsibleID: anna, CreatedBy: anna}),
	}
	tl := timelogtest.New(timelogtest.Options{Start: time.Now(),
		Owner: timelogtest.User{UserID: 29, FirstName: "Anna", LastName: "Example", Email: "anna@example.com"}})
	t.Cleanup(tl.Close)
	// TimeLog cannot create projects over its API: an administrator made them.
	tl.AddProject(timelogtest.Project{Name: "Website relaunch"})
	tl.AddProject(timelogtest.Project{Name: "Bitrix24"})

	// The home, configured and signed in to TimeLog through the binary; the
	// secrets go to the real keyring under the home's own service name.
	tb := &uiApp{home: t.TempDir()}
	tb.service = "timebridge " + tb.home
	t.Cleanup(func() { tb.cleanKeyring(t) })
	for _, kv := range [][2]string{
		{"bitrix24.portal", b24.URL},
		{"bitrix24.client_id", b24.ClientID()},
		{"bitrix24.token_url", b24.AuthURL + "/oauth/token/"},
		{"bitrix24.redirect_port", strconv.Itoa(port)},
		{"bitrix24.client_secret", b24.ClientSecret()},
		{"trackers", "timelog"},
		{"timelog.api_url", tl.URL},
		{"sync.time_zone", "UTC"}, // TimeLog's zone: the time tracked below stays on one day
	} {
		tb.must(t, "", "config", "set", kv[0], kv[1])
	}
	if out := tb.must(t, tl.Token+"\n", "authorize", "timelog"); !strings.Contains(out, "Signed in to TimeLog") {
		t.Fatalf("authorize timelog said %q", out)
	}
	if got := tb.keyring(t); !got["bitrix24.client_secret"] || !got["timelog.token"] || got["bitrix24.token"] {
		t.Fatalf("keyring %q before the sign-in holds %v, want bitrix24.client_secret and timelog.token only", tb.service, got)
	}

	// 2. The window, with a system browser that writes down the URL it is given.
	art := t.ArtifactDir()
	shots := &uiShots{dir: art}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots and logs in %s (kept with go test -artifacts): %s", art, strings.Join(shots.paths, ", "))
		}
	})
	bin := t.TempDir()
	urls := filepath.Join(bin, "opened-urls")
	xdgOpen := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$TB_E2E_OPENED\"\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(xdgOpen), 0o755); err != nil {
		t.Fatal(err)
	}
	gui := tb.startGUI(t, filepath.Join(art, "gui.log"),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TB_E2E_OPENED="+urls)
	win, w, h := gui.window(ctx, t)
	shots.win = win
	if w < 600 || h < 400 {
		t.Fatalf("window %s is %d×%d, want at least 600×400", win, w, h)
	}

	// The sign-in-needed state: the window opens on the Accounts tab by itself.
	first := shots.settle(ctx, t, "1-sign-in-needed", func(s *uiShot) bool { return s.selectedTab() == 1 })
	first.checkWindow(t, w, h)
	tabs := first.tabLabels()
	if len(tabs) < 2 {
		t.Fatalf("found %d tab labels (%v) in %s, want Status, Accounts, …", len(tabs), tabs, first.path)
	}

	// 3. Click Status, then Accounts, then Authorize on the Bitrix24 row (the first).
	uiClick(ctx, t, win, uiCenter(tabs[0]))
	before := shots.settle(ctx, t, "2-status-sign-in-needed", func(s *uiShot) bool { return s.selectedTab() == 0 })
	if !before.differs(first) {
		t.Fatalf("the Status tab (%s) looks like the Accounts tab (%s)", before.path, first.path)
	}
	uiClick(ctx, t, win, uiCenter(before.tabLabels()[1]))
	accounts := shots.settle(ctx, t, "3-accounts", func(s *uiShot) bool { return s.selectedTab() == 1 })
	buttons := accounts.buttons(w / 2)
	if len(buttons) != 2 {
		t.Fatalf("found %d buttons on the right of the Accounts tab (%v) in %s, want Authorize for Bitrix24 and TimeLog",
			len(buttons), buttons, accounts.path)
	}
	authorize := buttons[0]
	uiClick(ctx, t, win, uiCenter(authorize))
	authURL := uiWaitOpened(ctx, t, urls, gui)
	if !strings.HasPrefix(authURL, b24.URL+"/oauth/authorize/?") || !strings.Contains(authURL, "client_id="+b24.ClientID()) {
		t.Fatalf("the browser was asked to open %q, want the portal's authorize URL", uiRedactURL(authURL))
	}
	// While the browser is out, the Bitrix24 button reads Cancel (a narrower button).
	shots.settle(ctx, t, "4-signing-in", func(s *uiShot) bool {
		b := s.buttons(w / 2)
		return len(b) == 2 && b[0].Dx() != authorize.Dx() && b[1] == buttons[1]
	})

	// 4. The user allows access in the browser; the portal redirects to the app's listener.
	uiAllowInBrowser(ctx, t, authURL, fmt.Sprintf("http://127.0.0.1:%d/callback", port))

	if n := uiOAuthCalls(b24, "/oauth/authorize/allow"); n != 1 {
		t.Fatalf("the portal's consent page was allowed %d times, want 1", n)
	}

	// 5. The pair is in the keyring, a cycle mirrored the tasks, the window shows it.
	uiWaitFor(ctx, t, 20*time.Second, "the Bitrix24 token pair in the keyring", func() bool { return tb.keyring(t)["bitrix24.token"] })
	tb.checkToken(t)
	uiWaitFor(ctx, t, 30*time.Second, "the seeded tasks mirrored into TimeLog", func() bool { return uiMirrored(tl, seeded) == len(seeded) })
	// Both rows now offer Sign out, a button narrower than Authorize.
	signOut := func(s *uiShot) bool {
		b := s.buttons(w / 2)
		return len(b) == 2 && b[0].Dx() < authorize.Dx() && b[1].Dx() < buttons[1].Dx()
	}
	signedIn := shots.settle(ctx, t, "5-accounts-signed-in", func(s *uiShot) bool {
		return s.differs(accounts) && s.selectedTab() == 1 && (signOut(s) || !accountRowsRefresh)
	})
	if !signOut(signedIn) {
		t.Logf("known bug, see accountRowsRefresh: the Accounts rows (%s) still offer Authorize after the sign-in", signedIn.path)
	}
	uiClick(ctx, t, win, uiCenter(signedIn.tabLabels()[0]))
	synced := shots.settle(ctx, t, "6-status-synced", func(s *uiShot) bool { return s.selectedTab() == 0 && s.differs(before) })
	synced.checkWindow(t, w, h)
	if !synced.differs(first) {
		t.Errorf("the synced window (%s) looks like the sign-in-needed one (%s)", synced.path, first.path)
	}

	// 6. Paused, needs attention (a conflict), error / offline, each back to synced
	// (e2e_states_test.go).
	states := &uiStates{shots: shots, gui: gui, win: win, w: w, h: h, b24: b24, tl: tl, anna: anna, tasks: seeded}
	states.walk(ctx, t, synced)

	// 7. SIGTERM quits within 10 s, leaving no process behind.
	gui.mustRun(t)
	if err := gui.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case <-gui.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the app did not exit within 10 s of SIGTERM; log in %s", gui.logPath)
	}
	if code := gui.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the app exited with %d after SIGTERM, want 0; log in %s", code, gui.logPath)
	}
	if left := uiProcessesInGroup(gui.pgid); len(left) > 0 {
		t.Errorf("processes left in the app's process group: %v", left)
	}

	// Sign out through the binary; nothing of this home stays in the keyring.
	for _, s := range []string{"bitrix24", "timelog"} {
		if out := tb.must(t, "", "signout", s); !strings.Contains(out, "Signed out of "+s) {
			t.Errorf("signout %s said %q", s, out)
		}
	}
	tb.must(t, "", "config", "set", "bitrix24.client_secret", "")
	tb.signedOut = true
	if got := tb.keyring(t); len(got) > 0 {
		t.Errorf("keyring %q still holds %v after signing out", tb.service, got)
	}
}

// accountRowsRefresh turns the check that the Accounts rows follow the snapshots
// (Authorize → Sign out after a sign-in) from a log line into a failure. Off until
// ui/accounts.go refreshes its list when a service's state changes: the rows are
// bound with NewListWithData, whose list only redraws when the number of services
// changes (Fyne's binding.List.Set notifies the items, not the list).
const accountRowsRefresh = true

// uiRequireDesktop fails (never skips) without the desktop of .ci/with-desktop.sh or
// the tools the test drives it with.
func uiRequireDesktop(t *testing.T) {
	t.Helper()
	for _, v := range []string{"DISPLAY", "DBUS_SESSION_BUS_ADDRESS"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: this end-to-end test needs an X display, a session bus and an unlocked keyring; "+
				"run it under .ci/with-desktop.sh (make test does)", v)
		}
	}
	for _, tool := range []string{"xdotool", "import", "secret-tool", uiChromium} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (%v): run .ci/setup-debian.sh", tool, err)
		}
	}
}

const uiChromium = "/usr/bin/chromium"

func uiFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// uiApp runs the binary (this test binary with TIMEBRIDGE_RUN_MAIN=1) in one home
// with the real keyring.
type uiApp struct {
	home      string
	service   string // the keyring service of the home
	signedOut bool   // the test signed out itself: nothing for the cleanup
}

func (a *uiApp) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIMEBRIDGE_") {
			env = append(env, kv)
		}
	}
	// A -race binary sleeps 1 s at exit (atexit_sleep_ms): 10 commands, 10 s.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return append(append(env, "TIMEBRIDGE_RUN_MAIN=1", "TIMEBRIDGE_HOME="+a.home, "GORACE="+gorace), extra...)
}

// run runs one command line and returns its exit code and output.
func (a *uiApp) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = a.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("timebridge %s: %v", args[0], err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// must runs a command line that has to succeed and returns its stdout.
func (a *uiApp) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, stderr := a.run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("timebridge %s %s: exit %d\nstderr: %s", args[0], args[1], code, stderr)
	}
	return out
}

// keyring lists the entries (keys) of the home's keyring service, with secret-tool.
func (a *uiApp) keyring(t *testing.T) map[string]bool {
	t.Helper()
	// secret-tool prints the secrets on stdout and the attributes on stderr.
	out, err := exec.Command("secret-tool", "search", "--all", "service", a.service).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("secret-tool search: %v", err)
	}
	keys := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() { // never log out: it holds the secrets
		if k, ok := strings.CutPrefix(sc.Text(), "attribute.username = "); ok {
			keys[k] = true
		}
	}
	return keys
}

// checkToken reads the Bitrix24 record from the keyring: a whole access/refresh pair.
func (a *uiApp) checkToken(t *testing.T) {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", a.service, "username", "bitrix24.token").Output()
	if err != nil {
		t.Fatalf("secret-tool lookup bitrix24.token: %v", err)
	}
	var tok struct{ Access, Refresh, ClientEndpoint string }
	if err := json.Unmarshal(out, &tok); err != nil {
		t.Fatalf("the keyring's bitrix24.token is not the JSON record (%d bytes): %v", len(out), err)
	}
	if tok.Access == "" || tok.Refresh == "" || tok.ClientEndpoint == "" {
		t.Fatalf("the keyring's bitrix24.token lacks a part: access %v, refresh %v, client endpoint %q",
			tok.Access != "", tok.Refresh != "", tok.ClientEndpoint)
	}
}

// cleanKeyring removes what the test stored, through the binary, whatever happened.
func (a *uiApp) cleanKeyring(t *testing.T) {
	if a.signedOut {
		return
	}
	for _, args := range [][]string{{"signout", "bitrix24"}, {"signout", "timelog"}, {"config", "set", "bitrix24.client_secret", ""}} {
		if code, _, stderr := a.run(t, "", args...); code != 0 {
			t.Logf("cleanup: timebridge %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
}

// uiGUI is the running window process, in its own process group.
type uiGUI struct {
	*exec.Cmd
	pgid    int
	logPath string
	done    chan struct{}
}

func (a *uiApp) startGUI(t *testing.T, logPath string, env ...string) *uiGUI {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = a.env(env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	g := &uiGUI{Cmd: cmd, pgid: cmd.Process.Pid, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(g.done)
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default: // the test failed half-way: end the group we started
			_ = syscall.Kill(-g.pgid, syscall.SIGKILL)
			<-g.done
		}
		if t.Failed() {
			t.Logf("app output (%s):\n%s", logPath, uiTail(logPath, 40))
			t.Logf("app log:\n%s", uiTail(filepath.Join(a.home, "logs", "timebridge.log"), 40))
		}
	})
	return g
}

// mustRun fails the test when the app has exited already.
func (g *uiGUI) mustRun(t *testing.T) {
	t.Helper()
	select {
	case <-g.done:
		t.Fatalf("the app exited before it was asked to (exit %d); log in %s", g.ProcessState.ExitCode(), g.logPath)
	default:
	}
}

// window waits for the app's visible window and returns its id and size.
func (g *uiGUI) window(ctx context.Context, t *testing.T) (string, int, int) {
	t.Helper()
	var id string
	uiWaitFor(ctx, t, 20*time.Second, "the app's window", func() bool {
		g.mustRun(t)
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--pid", strconv.Itoa(g.Process.Pid), "--name", "^timebridge$").Output()
		id, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
		return id != ""
	})
	out, err := exec.Command("xdotool", "getwindowgeometry", "--shell", id).Output()
	if err != nil {
		t.Fatalf("xdotool getwindowgeometry %s: %v", id, err)
	}
	var w, h int
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "WIDTH="); ok {
			w, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "HEIGHT="); ok {
			h, _ = strconv.Atoi(v)
		}
	}
	return id, w, h
}

// uiProcessesInGroup lists the live processes of process group pgid ("pid comm").
func uiProcessesInGroup(pgid int) []string {
	var left []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			left = append(left, fmt.Sprintf("%d %s", pid, stat[bytes.IndexByte(stat, '(')+1:i]))
		}
	}
	return left
}

// uiWaitOpened waits for the fake xdg-open to be called and returns the URL.
func uiWaitOpened(ctx context.Context, t *testing.T, file string, gui *uiGUI) string {
	t.Helper()
	var u string
	uiWaitFor(ctx, t, 15*time.Second, "the app to open the browser (xdg-open)", func() bool {
		gui.mustRun(t)
		b, _ := os.ReadFile(file)
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			u = line
		}
		return u != ""
	})
	return u
}

// uiAllowInBrowser opens authURL in headless Chromium, clicks Allow on the consent
// page and waits for the app's loopback listener to answer.
func uiAllowInBrowser(ctx context.Context, t *testing.T, authURL, callback string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(uiChromium), chromedp.UserDataDir(profile),
		chromedp.Flag("disable-gpu", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS("a#allow")),
		chromedp.Click(chromedp.CSS("a#allow")),
	); err != nil {
		t.Fatalf("consent page in Chromium: %v", err)
	}
	var loc string
	uiWaitFor(ctx, t, 15*time.Second, "the redirect to "+callback, func() bool {
		loc, _ = chromedp.Run(bctx, chromedp.Location())
		return strings.HasPrefix(loc, callback+"?")
	})
	title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || title != "Signed in" {
		t.Fatalf("the app's callback page says %q (%v), want \"Signed in\"", title, err)
	}
	bcancel()
	acancel()
	for _, p := range uiProcessesWithArg(profile) {
		t.Errorf("a browser process is left: %s", p)
	}
}

// uiProcessesWithArg lists the live processes whose command line contains arg.
func uiProcessesWithArg(arg string) []string {
	var out []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(arg)) {
			out = append(out, d.Name()+" "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// uiOAuthCalls counts the requests to one OAuth path of the emulator.
func uiOAuthCalls(b24 *bitrix24test.Server, path string) int {
	n := 0
	for _, c := range b24.Calls() {
		if strings.TrimSuffix(c.Path, "/") == strings.TrimSuffix(path, "/") && c.Status < 400 {
			n++
		}
	}
	return n
}

// uiMirrored counts the Bitrix24 tasks that have a TimeLog task with their key.
func uiMirrored(tl *timelogtest.Server, ids []int) int {
	n := 0
	for _, id := range ids {
		for _, task := range tl.Tasks() {
			if strings.HasSuffix(task.Name, fmt.Sprintf(" [B24-%d]", id)) {
				n++
				break
			}
		}
	}
	return n
}

// uiWaitFor polls cond every 100 ms until it holds, and fails after d.
func uiWaitFor(ctx context.Context, t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uiClick moves the pointer to p in the window, clicks, and parks the pointer in
// the window's bottom-left corner so that no hover shading stays in screenshots.
func uiClick(ctx context.Context, t *testing.T, win string, p [2]int) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "xdotool",
		"mousemove", "--window", win, strconv.Itoa(p[0]), strconv.Itoa(p[1]), "sleep", "0.15",
		"click", "1", "sleep", "0.1",
		"mousemove", "--window", win, "2", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool click at %v: %v: %s", p, err, out)
	}
}

func uiRedactURL(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base + "?…"
}

// uiTail returns the last n lines of a file.
func uiTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
