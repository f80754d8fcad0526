//go:build !windows

package autostart

import "errors"

// errNoRegistry is returned by the registry stub on systems other than Windows.
var errNoRegistry = errors.New("the Windows registry is only available on Windows")

// systemRunKey stands in for the registry on systems that have none.
type systemRunKey struct{}

func (systemRunKey) Get(string) (string, bool, error)  { return "", false, errNoRegistry }
func (systemRunKey) Set(string, string) error          { return errNoRegistry }
func (systemRunKey) Delete(string) error               { return errNoRegistry }
func (systemRunKey) UserDisabled(string) (bool, error) { return false, errNoRegistry }
func (systemRunKey) ClearUserChoice(string) error      { return errNoRegistry }
