//go:build windows

package instance

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// errLocked means another open file holds the lock.
var errLocked = errors.New("locked by another instance")

// lockFile opens path and locks its first byte exclusively without waiting. The
// lock belongs to the handle; Windows drops it when the process ends.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	var ol windows.Overlapped
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}

// isRefused reports a connection refused: a socket file nobody listens on.
func isRefused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }
