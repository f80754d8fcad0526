//go:build windows

package autostart

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// systemRunKey is HKEY_CURRENT_USER's Run key.
type systemRunKey struct{}

func (systemRunKey) Get(name string) (string, bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

func (systemRunKey) Set(name, value string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue(name, value)
}

func (systemRunKey) Delete(name string) error {
	return deleteValue(runKeyPath, name)
}

func (systemRunKey) UserDisabled(name string) (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, approvedKeyPath, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer k.Close()
	data, _, err := k.GetBinaryValue(name)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, registry.ErrUnexpectedType) {
		return false, nil // no choice recorded, or one Windows does not read either
	}
	if err != nil {
		return false, err
	}
	return approvedDisabled(data), nil
}

func (systemRunKey) ClearUserChoice(name string) error {
	return deleteValue(approvedKeyPath, name)
}

// deleteValue deletes a value under HKEY_CURRENT_USER; missing is fine.
func deleteValue(path, name string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}
