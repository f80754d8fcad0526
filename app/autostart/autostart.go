// Package autostart turns timebridge's start at login on and off for the current
// user, without any helper module: an XDG autostart desktop entry on Linux and the
// other free Unixes, a LaunchAgent property list on macOS, and a value under
// HKCU\Software\Microsoft\Windows\CurrentVersion\Run on Windows. Every entry starts
// the binary with --autostart, so it starts hidden in the tray.
//
// Enable rewrites the entry each time, so calling it at every start while the
// setting is on keeps the entry pointing at the binary even after it moved.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// AppID names the entry on every system; it is the Fyne application id.
const AppID = "app.timebridge.desktop"

// Flag is the argument the login item passes to the binary.
const Flag = "--autostart"

// ErrUnsupported means the system has no autostart mechanism timebridge knows.
var ErrUnsupported = errors.New("starting timebridge at login is not supported on this system")

// Options configure a Manager. The zero value manages the running binary for the
// current user on this system.
type Options struct {
	// Executable is the absolute path of the binary to start; os.Executable when
	// empty (on Linux inside an AppImage, the AppImage file named by $APPIMAGE).
	Executable string
	// HomeDir replaces os.UserHomeDir (macOS: ~/Library/LaunchAgents is under it;
	// Linux: ~/.config when neither ConfigDir nor $XDG_CONFIG_HOME is set).
	HomeDir string
	// ConfigDir replaces the XDG config directory ($XDG_CONFIG_HOME or ~/.config);
	// the entry goes into its autostart folder. Linux and other Unixes only.
	ConfigDir string
	// GOOS replaces runtime.GOOS: which system's entry to manage. Tests use it to
	// write the Linux and macOS files anywhere.
	GOOS string
	// Icon is the desktop entry's Icon value; AppID when empty. Linux only.
	Icon string
}

// Manager turns the login item on and off. Its methods may be called from any
// goroutine, but concurrent Enable and Disable calls race like any two writers.
type Manager struct {
	opts Options
	goos string
	run  runKey // the Windows Run key; a fake in tests
}

// New returns a Manager for opts. It does no I/O: paths are resolved per call.
func New(opts Options) *Manager {
	goos := opts.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	return &Manager{opts: opts, goos: goos, run: systemRunKey{}}
}

// Enable creates or rewrites the login item.
func (m *Manager) Enable() error {
	exe, err := m.executable()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	switch {
	case m.goos == "windows":
		return m.enableWindows(exe)
	case m.goos == "darwin":
		return m.enableFile(m.plistPath, func() (string, error) { return launchAgent(exe) })
	case isXDG(m.goos):
		return m.enableFile(m.desktopPath, func() (string, error) { return desktopEntry(exe, m.icon()) })
	}
	return fmt.Errorf("autostart: %w (%s)", ErrUnsupported, m.goos)
}

// Disable removes the login item; it is not an error when there is none. On Linux,
// when a package installed a system-wide entry, it writes a user entry with
// Hidden=true instead, which switches the system one off.
func (m *Manager) Disable() error {
	switch {
	case m.goos == "windows":
		return m.disableWindows()
	case m.goos == "darwin":
		return removeFile(m.plistPath)
	case isXDG(m.goos):
		return m.disableXDG()
	}
	return fmt.Errorf("autostart: %w (%s)", ErrUnsupported, m.goos)
}

// Enabled reports whether the login item is there and not switched off by the
// user elsewhere (Linux: Hidden=true or X-GNOME-Autostart-enabled=false in the
// entry, or a system-wide entry in $XDG_CONFIG_DIRS when the user has none;
// Windows: disabled in Task Manager or Settings › Startup apps).
func (m *Manager) Enabled() (bool, error) {
	switch {
	case m.goos == "windows":
		return m.enabledWindows()
	case m.goos == "darwin":
		p, err := m.plistPath()
		if err != nil {
			return false, err
		}
		_, err = os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("autostart: %w", err)
		}
		return true, nil
	case isXDG(m.goos):
		return m.enabledXDG()
	}
	return false, fmt.Errorf("autostart: %w (%s)", ErrUnsupported, m.goos)
}

// Location says where the login item lives: a file path, or the registry value
// on Windows. For logs and the settings tab.
func (m *Manager) Location() (string, error) {
	switch {
	case m.goos == "windows":
		return `HKCU\` + runKeyPath + `\` + runValueName, nil
	case m.goos == "darwin":
		return m.plistPath()
	case isXDG(m.goos):
		return m.desktopPath()
	}
	return "", fmt.Errorf("autostart: %w (%s)", ErrUnsupported, m.goos)
}

// isXDG reports whether goos follows the XDG autostart specification.
func isXDG(goos string) bool {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "illumos", "solaris":
		return true
	}
	return false
}

func (m *Manager) icon() string {
	if m.opts.Icon != "" {
		return m.opts.Icon
	}
	return AppID
}

func (m *Manager) executable() (string, error) {
	exe := m.opts.Executable
	if exe == "" {
		if p := os.Getenv("APPIMAGE"); p != "" && m.goos == "linux" && runtime.GOOS == "linux" {
			exe = p
		} else {
			p, err := os.Executable()
			if err != nil {
				return "", fmt.Errorf("find the timebridge binary: %w", err)
			}
			exe = p
		}
	}
	if m.goos == runtime.GOOS {
		abs, err := filepath.Abs(exe)
		if err != nil {
			return "", fmt.Errorf("find the timebridge binary: %w", err)
		}
		exe = abs
	}
	return exe, nil
}

func (m *Manager) homeDir() (string, error) {
	if m.opts.HomeDir != "" {
		return m.opts.HomeDir, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return h, nil
}

// desktopPath is $XDG_CONFIG_HOME/autostart/app.timebridge.desktop.desktop. A
// relative $XDG_CONFIG_HOME is ignored, as the base directory specification says.
func (m *Manager) desktopPath() (string, error) {
	dir := m.opts.ConfigDir
	if dir == "" {
		if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
			dir = x
		} else {
			h, err := m.homeDir()
			if err != nil {
				return "", err
			}
			dir = filepath.Join(h, ".config")
		}
	}
	return filepath.Join(dir, "autostart", AppID+".desktop"), nil
}

// plistPath is ~/Library/LaunchAgents/app.timebridge.desktop.plist.
func (m *Manager) plistPath() (string, error) {
	h, err := m.homeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "Library", "LaunchAgents", AppID+".plist"), nil
}

// enableFile writes the content built by build to the file at path, atomically:
// a login manager reading it never sees half a file.
func (m *Manager) enableFile(path func() (string, error), build func() (string, error)) error {
	p, err := path()
	if err != nil {
		return err
	}
	content, err := build()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := writeFileAtomic(p, []byte(content)); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func removeFile(path func() (string, error)) error {
	p, err := path()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}
