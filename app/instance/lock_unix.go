//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package instance

import (
	"errors"
	"os"
	"syscall"
)

// errLocked means another open file holds the lock.
var errLocked = errors.New("locked by another instance")

// lockFile opens path and takes an exclusive flock on it without waiting. The
// lock belongs to the open file, so it also excludes other goroutines of this
// process, and the kernel drops it when the process dies.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}

// isRefused reports a connection refused: a socket file nobody listens on.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
