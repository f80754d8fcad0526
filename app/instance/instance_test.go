package instance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait is how long a test waits for something that should happen at once.
const wait = 5 * time.Second

func acquire(t *testing.T, home string) *Instance {
	t.Helper()
	in, err := Acquire(home)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func expectShow(t *testing.T, in *Instance) {
	t.Helper()
	select {
	case _, ok := <-in.Show():
		if !ok {
			t.Fatal("Show channel closed")
		}
	case <-time.After(wait):
		t.Fatal("no show request arrived")
	}
}

func expectNoShow(t *testing.T, in *Instance) {
	t.Helper()
	if n := len(in.Show()); n != 0 {
		t.Fatalf("%d show requests queued, want none", n)
	}
}

func TestSecondLaunchHandsOver(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home with spaces")
	if p := filepath.Join(home, "instance.sock"); len(p) <= maxSocketPath && socketPath(home) != p {
		t.Errorf("socketPath = %q, want %q", socketPath(home), p)
	}
	first := acquire(t, home)
	expectNoShow(t, first)

	second, err := Acquire(home)
	if !errors.Is(err, ErrRunning) || second != nil {
		t.Fatalf("second Acquire = %v, %v; want ErrRunning", second, err)
	}
	if err.Error() != "timebridge is already running; its window was brought to front" {
		t.Errorf("message %q", err)
	}
	expectShow(t, first)
	expectNoShow(t, first)

	if err := Notify(home); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	expectShow(t, first)

	if fi, err := os.Stat(socketPath(home)); err != nil {
		t.Fatal(err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestStaleSocketTakenOver(t *testing.T) {
	tests := []struct {
		name  string
		stale func(t *testing.T, path string)
	}{
		{"socket nobody listens on", func(t *testing.T, path string) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			ln.SetUnlinkOnClose(false) // as if the process had been killed
			ln.Close()
		}},
		{"junk file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			sock := socketPath(home)
			tt.stale(t, sock)
			if _, err := os.Lstat(sock); err != nil {
				t.Fatalf("stale file missing: %v", err)
			}
			if err := Notify(home); tt.name != "junk file" && !errors.Is(err, ErrNotRunning) {
				t.Errorf("Notify to a stale socket = %v, want ErrNotRunning", err)
			}
			in := acquire(t, home)
			if err := Notify(home); err != nil {
				t.Fatalf("Notify after take-over: %v", err)
			}
			expectShow(t, in)
		})
	}
}

func TestCloseThenReacquire(t *testing.T) {
	home := t.TempDir()
	sock := socketPath(home)
	for round := range 3 {
		in, err := Acquire(home)
		if err != nil {
			t.Fatalf("round %d: Acquire: %v", round, err)
		}
		if err := Notify(home); err != nil {
			t.Fatalf("round %d: Notify: %v", round, err)
		}
		if err := in.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if err := in.Close(); err != nil {
			t.Fatalf("round %d: second Close: %v", round, err)
		}
		if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("round %d: socket still there after Close: %v", round, err)
		}
		if err := Notify(home); !errors.Is(err, ErrNotRunning) {
			t.Errorf("round %d: Notify after Close = %v, want ErrNotRunning", round, err)
		}
		// The request made before Close is still readable, then the channel is closed.
		n := 0
		for range in.Show() {
			n++
		}
		if n != 1 {
			t.Errorf("round %d: %d show values before the channel closed, want 1", round, n)
		}
	}
}

func TestConcurrentAcquireOneWins(t *testing.T) {
	const n = 8
	for round := range 10 {
		home := t.TempDir()
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results [n]error
			insts   [n]*Instance
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				insts[i], results[i] = Acquire(home)
			}()
		}
		close(start)
		wg.Wait()
		var winner *Instance
		for i, err := range results {
			switch {
			case err == nil:
				if winner != nil {
					t.Fatalf("round %d: two instances acquired the same home", round)
				}
				winner = insts[i]
			case !errors.Is(err, ErrRunning):
				t.Fatalf("round %d: Acquire: %v", round, err)
			}
		}
		if winner == nil {
			t.Fatalf("round %d: nobody acquired the home", round)
		}
		// Each loser returned only after the winner had queued its request.
		if got := len(winner.Show()); got != n-1 {
			t.Errorf("round %d: %d show requests queued, want %d", round, got, n-1)
		}
		if err := winner.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShowNeverBlocksServer(t *testing.T) {
	home := t.TempDir()
	in := acquire(t, home)
	for i := range 3 * showBuffer {
		if err := Notify(home); err != nil {
			t.Fatalf("Notify %d with nobody reading: %v", i, err)
		}
	}
	if got := len(in.Show()); got != showBuffer {
		t.Errorf("%d queued, want %d (the rest dropped)", got, showBuffer)
	}
}

func TestSilentAndBadClients(t *testing.T) {
	home := t.TempDir()
	in := acquire(t, home)
	sock := socketPath(home)

	silent, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	bad, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.SetDeadline(time.Now().Add(wait))
	fmt.Fprint(bad, "launch-missiles\n")
	reply, err := bufio.NewReader(bad).ReadString('\n')
	if err != nil || !strings.HasPrefix(reply, "error") {
		t.Errorf("reply to an unknown request = %q, %v", reply, err)
	}
	expectNoShow(t, in)

	// The silent client holds up nobody, not even Close.
	if err := Notify(home); err != nil {
		t.Fatalf("Notify beside a silent client: %v", err)
	}
	expectShow(t, in)
	done := make(chan error, 1)
	go func() { done <- in.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout / 2):
		t.Fatal("Close waited for a silent client")
	}
	silent.SetDeadline(time.Now().Add(wait))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Error("silent client's connection still open after Close")
	}
}

func TestLockHeldButNoAnswer(t *testing.T) {
	defer func(d time.Duration) { handOverWait = d }(handOverWait)
	handOverWait = 100 * time.Millisecond

	home := t.TempDir()
	lock, err := lockFile(filepath.Join(home, "instance.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	_, err = Acquire(home)
	if !errors.Is(err, ErrRunning) || !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Acquire = %v, want ErrRunning wrapping ErrNotRunning", err)
	}
	if !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("message %q does not say it did not answer", err)
	}

	// The holder quits while a second launch waits: the second one takes over.
	handOverWait = wait
	go func() {
		time.Sleep(50 * time.Millisecond)
		lock.Close()
	}()
	in := acquire(t, home)
	if err := Notify(home); err != nil {
		t.Fatal(err)
	}
	expectShow(t, in)
}

func TestLongHomeUsesShortSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	home := filepath.Join(t.TempDir(), strings.Repeat("deep-folder-", 12))
	sock := socketPath(home)
	if len(sock) > maxSocketPath || strings.HasPrefix(sock, home) {
		t.Fatalf("socketPath = %q", sock)
	}
	if other := socketPath(home + "2"); other == sock {
		t.Fatal("two homes share a socket")
	}
	in := acquire(t, home)
	if _, err := Acquire(home); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Acquire = %v", err)
	}
	expectShow(t, in)
	in.Close()
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket %s left after Close: %v", sock, err)
	}
}

func TestNotifyWithoutInstance(t *testing.T) {
	if err := Notify(t.TempDir()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Notify = %v, want ErrNotRunning", err)
	}
}

// TestCrashedProcess runs an instance in a child process, hands over to it, kills
// it (no clean-up runs) and takes over the home it left behind.
func TestCrashedProcess(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "TIMEBRIDGE_INSTANCE_HELPER="+home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // the child lives until this closes or it is killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(wait):
			t.Fatal("the child said nothing")
			return ""
		}
	}
	if l := next(); l != "acquired" {
		t.Fatalf("child: %q", l)
	}
	if _, err := Acquire(home); !errors.Is(err, ErrRunning) {
		t.Fatalf("Acquire beside a live child = %v, want ErrRunning", err)
	}
	if l := next(); l != "show" {
		t.Fatalf("child: %q, want show", l)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Lstat(socketPath(home)); err != nil {
		t.Fatalf("the killed child left no socket file (%v); the test proves nothing", err)
	}
	in := acquire(t, home)
	if err := Notify(home); err != nil {
		t.Fatal(err)
	}
	expectShow(t, in)
}

// TestHelperProcess is the child of TestCrashedProcess; run directly it does nothing.
func TestHelperProcess(t *testing.T) {
	home := os.Getenv("TIMEBRIDGE_INSTANCE_HELPER")
	if home == "" {
		return
	}
	in, err := Acquire(home)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("acquired")
	go func() {
		for range in.Show() {
			fmt.Println("show")
		}
	}()
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}
