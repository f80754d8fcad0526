package bitrix24

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bitrix24 is PHP underneath: numbers arrive as strings or numbers, flags as
// "Y"/"N" or bools, empty maps as [] (spec §4). These types decode all forms.

var (
	jsonNull     = []byte("null")
	jsonEmptyArr = []byte("[]")
)

// FlexInt decodes 123, "123", "", null (0) and integral floats.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, jsonNull) {
		*f = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = FlexInt(n)
		return nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil {
		*f = FlexInt(x)
		return nil
	}
	if s == "true" || s == "false" {
		*f = map[string]FlexInt{"true": 1, "false": 0}[s]
		return nil
	}
	return fmt.Errorf("bitrix24: cannot read %s as a number", excerpt(b))
}

// String returns the decimal form ("" for 0 is not used: ids are never 0).
func (f FlexInt) String() string { return strconv.FormatInt(int64(f), 10) }

// FlexString decodes strings and numbers (ids, error codes) as a string; null → "".
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, jsonNull):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return fmt.Errorf("bitrix24: cannot read %s as a string", excerpt(b))
	default:
		*f = FlexString(b)
	}
	return nil
}

// FlexBool decodes true/false, "Y"/"N", "1"/"0", 1/0, "" and null (false).
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	switch strings.ToUpper(s) {
	case "Y", "TRUE", "1":
		*f = true
	case "N", "FALSE", "0", "", "NULL":
		*f = false
	default:
		return fmt.Errorf("bitrix24: cannot read %s as a flag", excerpt(b))
	}
	return nil
}

// FlexMap is a JSON object that PHP sends as [] when empty.
type FlexMap[T any] map[string]T

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexMap[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, jsonNull) || bytes.Equal(b, jsonEmptyArr) || (len(b) > 0 && b[0] == '[' && len(bytes.TrimSpace(b[1:len(b)-1])) == 0) {
		*f = FlexMap[T]{}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		// A PHP list where a map was expected: keys are the indexes.
		var list []T
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		m := FlexMap[T]{}
		for i, v := range list {
			m[strconv.Itoa(i)] = v
		}
		*f = m
		return nil
	}
	m := map[string]T{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*f = m
	return nil
}

// FlexObj is a JSON object that PHP sends as [] (or null) when absent.
type FlexObj[T any] struct {
	Set bool
	V   T
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexObj[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, jsonNull) || (len(b) > 0 && b[0] == '[') || bytes.Equal(b, []byte(`""`)) || bytes.Equal(b, []byte("false")) {
		*f = FlexObj[T]{}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = FlexObj[T]{Set: true, V: v}
	return nil
}

// FlexTime decodes an ISO date with offset; "", null and unparseable values
// become the zero time (task dates are never cursors, spec §4).
type FlexTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil || s == "" {
		f.Time = time.Time{}
		return nil
	}
	f.Time, _ = parseTime(s)
	return nil
}

// parseTime reads the formats Bitrix24 uses for instants (always with an offset).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02 15:04:05-07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bitrix24: date %q has no offset", s)
}

// isoLayout is what we send: full ISO with a numeric offset, never "Z" (spec §4).
const isoLayout = "2006-01-02T15:04:05-07:00"

func excerpt(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
