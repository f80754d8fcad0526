//go:build !windows

package autostart

import (
	"errors"
	"testing"
)

func TestWindowsStubOffWindows(t *testing.T) {
	m := New(Options{GOOS: "windows", Executable: `C:\tb.exe`})
	if err := m.Enable(); !errors.Is(err, errNoRegistry) {
		t.Errorf("Enable off Windows = %v, want errNoRegistry", err)
	}
}
