package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hiddenEntry is the user entry that switches a system-wide one off.
const hiddenEntry = `[Desktop Entry]
Type=Application
Name=timebridge
Hidden=true
`

// systemDesktopPaths are the system-wide autostart entries, most important first:
// $XDG_CONFIG_DIRS (default /etc/xdg), each with an autostart folder.
func systemDesktopPaths() []string {
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	var paths []string
	for _, d := range strings.Split(dirs, ":") {
		if filepath.IsAbs(d) {
			paths = append(paths, filepath.Join(d, "autostart", AppID+".desktop"))
		}
	}
	return paths
}

// readEntry returns the file's content; ok is false when there is none.
func readEntry(path string) (content string, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("autostart: %w", err)
	}
	return string(b), true, nil
}

// systemEntryActive reports whether a system-wide entry would start timebridge
// when the user has no entry of their own.
func systemEntryActive() (bool, error) {
	for _, p := range systemDesktopPaths() {
		c, ok, err := readEntry(p)
		if err != nil {
			return false, err
		}
		if ok {
			return desktopEntryActive(c), nil
		}
	}
	return false, nil
}

func (m *Manager) enabledXDG() (bool, error) {
	p, err := m.desktopPath()
	if err != nil {
		return false, err
	}
	c, ok, err := readEntry(p)
	if err != nil {
		return false, err
	}
	if ok {
		return desktopEntryActive(c), nil // the user's entry overrides system ones
	}
	return systemEntryActive()
}

func (m *Manager) disableXDG() error {
	if err := removeFile(m.desktopPath); err != nil {
		return err
	}
	on, err := systemEntryActive()
	if err != nil || !on {
		return err
	}
	return m.enableFile(m.desktopPath, func() (string, error) { return hiddenEntry, nil })
}
