package autostart

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The Windows login item: a value in the current user's Run key.
const (
	runKeyPath      = `Software\Microsoft\Windows\CurrentVersion\Run`
	approvedKeyPath = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	runValueName    = "timebridge"
)

// runKey is the slice of the registry the Windows login item needs. All values
// are under HKEY_CURRENT_USER; a missing value or key is not an error.
type runKey interface {
	// Get returns the Run value; ok is false when there is none.
	Get(name string) (value string, ok bool, err error)
	Set(name, value string) error
	Delete(name string) error
	// UserDisabled reports whether the user switched the item off in Task
	// Manager or Settings (StartupApproved\Run).
	UserDisabled(name string) (bool, error)
	// ClearUserChoice deletes the StartupApproved\Run value, so the item runs.
	ClearUserChoice(name string) error
}

// runValue is the command line stored in the Run key: the quoted binary and
// --autostart. Windows paths cannot contain double quotes, so no escaping is
// needed, only a check.
func runValue(exe string) (string, error) {
	if exe == "" {
		return "", fmt.Errorf("empty binary path")
	}
	if !utf8.ValidString(exe) {
		return "", fmt.Errorf("binary path %q: not valid UTF-8", exe)
	}
	if strings.ContainsRune(exe, '"') {
		return "", fmt.Errorf("binary path %q: contains a double quote", exe)
	}
	for _, r := range exe {
		if r < 0x20 {
			return "", fmt.Errorf("binary path %q: contains the control character %U", exe, r)
		}
	}
	return `"` + exe + `" ` + Flag, nil
}

// approvedDisabled reads a StartupApproved\Run value: its first byte is even
// (02, 06) while the item is enabled and odd (03, 07, …) once the user disabled it.
func approvedDisabled(data []byte) bool {
	return len(data) > 0 && data[0]&1 == 1
}

func (m *Manager) enableWindows(exe string) error {
	v, err := runValue(exe)
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := m.run.Set(runValueName, v); err != nil {
		return fmt.Errorf("autostart: write HKCU\\%s\\%s: %w", runKeyPath, runValueName, err)
	}
	// A choice made earlier in Task Manager would silently win over the new entry.
	if err := m.run.ClearUserChoice(runValueName); err != nil {
		return fmt.Errorf("autostart: reset HKCU\\%s\\%s: %w", approvedKeyPath, runValueName, err)
	}
	return nil
}

func (m *Manager) disableWindows() error {
	if err := m.run.Delete(runValueName); err != nil {
		return fmt.Errorf("autostart: delete HKCU\\%s\\%s: %w", runKeyPath, runValueName, err)
	}
	if err := m.run.ClearUserChoice(runValueName); err != nil {
		return fmt.Errorf("autostart: delete HKCU\\%s\\%s: %w", approvedKeyPath, runValueName, err)
	}
	return nil
}

func (m *Manager) enabledWindows() (bool, error) {
	_, ok, err := m.run.Get(runValueName)
	if err != nil {
		return false, fmt.Errorf("autostart: read HKCU\\%s\\%s: %w", runKeyPath, runValueName, err)
	}
	if !ok {
		return false, nil
	}
	off, err := m.run.UserDisabled(runValueName)
	if err != nil {
		return false, fmt.Errorf("autostart: read HKCU\\%s\\%s: %w", approvedKeyPath, runValueName, err)
	}
	return !off, nil
}
