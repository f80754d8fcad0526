package bitrix24test

import (
	"strconv"
)

// mix flips JSON types the way PHP replies vary with content (Options.Shapes
// "mixed"): digit strings become numbers and back, empty lists become empty
// objects, nulls become "". It is deterministic for a given Options.Seed.
// Called with no locks held.
func (s *Server) mix(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = s.mix(x)
		}
		return out
	case []any:
		if len(t) == 0 {
			if s.flip() {
				return map[string]any{}
			}
			return t
		}
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = s.mix(x)
		}
		return out
	case string:
		if n, err := strconv.ParseInt(t, 10, 64); err == nil && strconv.FormatInt(n, 10) == t && s.flip() {
			return n
		}
		return t
	case int:
		if s.flip() {
			return strconv.Itoa(t)
		}
		return t
	case nil:
		if s.flip() {
			return ""
		}
		return nil
	}
	return v
}

// flip is a deterministic coin (splitmix64 over a counter).
func (s *Server) flip() bool {
	s.fmu.Lock()
	s.mixN++
	x := s.mixN + s.opts.Seed*0x9e3779b97f4a7c15
	s.fmu.Unlock()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x&1 == 1
}
