//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package instance

import (
	"errors"
	"os"
	"runtime"
)

// errLocked means another open file holds the lock.
var errLocked = errors.New("locked by another instance")

// lockFile is not available here: timebridge runs on Linux, macOS, Windows and the BSDs.
func lockFile(string) (*os.File, error) {
	return nil, errors.New("single-instance lock not supported on " + runtime.GOOS)
}

func isRefused(error) bool { return false }
