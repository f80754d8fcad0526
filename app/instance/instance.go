// Package instance keeps one timebridge app per user and home directory. The
// first launch takes an exclusive lock on home/instance.lock (the system drops it
// when the process ends, even on a crash) and listens on the unix-domain socket
// home/instance.sock; a second launch finds the lock taken, asks the first to
// bring its window to front over the socket, and exits. A socket file left by a
// crashed instance is removed by the next one that holds the lock.
//
// Unix-domain sockets work on Linux, macOS and Windows 10 (1803) and later. When
// home is too deep for a socket address (about 100 bytes), the socket goes to
// $XDG_RUNTIME_DIR or the temporary folder under a name derived from home.
//
// The protocol is one line each way: the client sends "show", the instance
// answers "ok" once the request is queued.
package instance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrRunning is returned by Acquire when another instance runs for the same home;
// it has been asked to bring its window to front. Commands exit with code 4.
var ErrRunning = errors.New("timebridge is already running; its window was brought to front")

// ErrNotRunning is returned by Notify when no instance listens for the home.
var ErrNotRunning = errors.New("timebridge is not running")

// File names in the home directory.
const (
	socketName = "instance.sock"
	lockName   = "instance.lock"
)

const (
	// maxSocketPath is the longest socket path every system takes (macOS: 104
	// bytes with the terminating NUL; Linux and Windows: 108).
	maxSocketPath = 103
	// ioTimeout bounds one request, on both sides.
	ioTimeout = 2 * time.Second
	// showBuffer show requests wait for the window before new ones are dropped;
	// raising a window is idempotent, so a dropped one loses nothing.
	showBuffer = 8
)

// handOverWait is how long a second launch keeps asking the instance that holds
// the lock (it may still be starting, or quitting) before it gives up.
var handOverWait = 3 * time.Second

// Instance is the running app's claim on its home. Close it on quit.
type Instance struct {
	ln   net.Listener
	lock *os.File
	show chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// runningError is ErrRunning when the running instance did not answer.
type runningError struct{ err error }

func (e *runningError) Error() string {
	return "timebridge is already running, but it did not answer the request to bring its window to front: " + e.err.Error()
}
func (e *runningError) Is(target error) bool { return target == ErrRunning }
func (e *runningError) Unwrap() error        { return e.err }

// Acquire makes this process the instance for home, creating home when needed.
// When another live instance holds home, Acquire asks it to show its window and
// returns an error that matches ErrRunning (errors.Is); the message says whether
// the window was brought to front.
func Acquire(home string) (*Instance, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	lockPath := filepath.Join(home, lockName)
	deadline := time.Now().Add(handOverWait)
	for {
		lock, err := lockFile(lockPath)
		if err == nil {
			return listen(home, lock)
		}
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("instance: lock %s: %w", lockPath, err)
		}
		// Another process holds the lock: hand over to it. If it does not answer
		// yet, it is starting or quitting; try both again for a moment.
		nerr := Notify(home)
		if nerr == nil {
			return nil, ErrRunning
		}
		if time.Now().After(deadline) {
			return nil, &runningError{nerr}
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// listen serves the socket once the lock is held; it removes a stale socket file.
func listen(home string, lock *os.File) (*Instance, error) {
	fail := func(err error) (*Instance, error) {
		lock.Close()
		return nil, fmt.Errorf("instance: %w", err)
	}
	sock := socketPath(home)
	if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(fmt.Errorf("remove stale socket: %w", err))
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fail(err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(sock, 0o600); err != nil {
			ln.Close()
			return fail(err)
		}
	}
	in := &Instance{
		ln:    ln,
		lock:  lock,
		show:  make(chan struct{}, showBuffer),
		conns: make(map[net.Conn]struct{}),
	}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

// Show delivers a value for each request of a later launch to bring the window to
// front. It is buffered: requests never wait for the reader, and ones beyond the
// buffer are dropped. Close closes it.
func (in *Instance) Show() <-chan struct{} { return in.show }

// Close stops answering, removes the socket and releases the lock. It is safe to
// call more than once.
func (in *Instance) Close() error {
	in.closeOnce.Do(func() {
		in.mu.Lock()
		in.closed = true
		for c := range in.conns {
			c.Close()
		}
		in.mu.Unlock()
		err := in.ln.Close() // removes the socket file
		in.wg.Wait()
		close(in.show)
		if lerr := in.lock.Close(); err == nil {
			err = lerr
		}
		if err != nil {
			in.closeErr = fmt.Errorf("instance: %w", err)
		}
	})
	return in.closeErr
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			if in.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		in.mu.Lock()
		if in.closed {
			in.mu.Unlock()
			c.Close()
			return
		}
		in.conns[c] = struct{}{}
		in.wg.Add(1)
		in.mu.Unlock()
		go in.handle(c)
	}
}

func (in *Instance) isClosed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.closed
}

// handle answers one request.
func (in *Instance) handle(c net.Conn) {
	defer in.wg.Done()
	defer func() {
		in.mu.Lock()
		delete(in.conns, c)
		in.mu.Unlock()
		c.Close()
	}()
	c.SetDeadline(time.Now().Add(ioTimeout))
	req, err := readLine(c)
	if err != nil {
		return
	}
	switch req {
	case "show":
		select {
		case in.show <- struct{}{}:
		default: // the window has requests queued already
		}
		io.WriteString(c, "ok\n")
	default:
		io.WriteString(c, "error unknown request\n")
	}
}

// Notify asks the instance running for home to bring its window to front. It
// returns an error matching ErrNotRunning when nobody listens.
func Notify(home string) error {
	home, err := filepath.Abs(home)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	sock := socketPath(home)
	c, err := net.DialTimeout("unix", sock, ioTimeout)
	if err != nil {
		if _, serr := os.Lstat(sock); errors.Is(serr, fs.ErrNotExist) || isRefused(err) {
			return fmt.Errorf("%w (%s)", ErrNotRunning, sock)
		}
		return fmt.Errorf("instance: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "show\n"); err != nil {
		return fmt.Errorf("instance: send show request: %w", err)
	}
	reply, err := readLine(c)
	if err != nil {
		return fmt.Errorf("instance: read reply to show request: %w", err)
	}
	if reply != "ok" {
		return fmt.Errorf("instance: show request refused: %q", reply)
	}
	return nil
}

// readLine reads one short line.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 256)).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// socketPath is home/instance.sock, or, when that is too long for a socket
// address, a per-home name in the runtime or temporary folder.
func socketPath(home string) string {
	p := filepath.Join(home, socketName)
	if len(p) <= maxSocketPath {
		return p
	}
	dir := os.TempDir()
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		dir = x
	}
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(dir, "timebridge-"+hex.EncodeToString(sum[:8])+".sock")
}
