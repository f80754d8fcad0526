package secrets

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret shows instead of its value.
const Redacted = "[redacted]"

// Secret is a token, password, client secret or webhook URL. It prints, logs and
// marshals as [redacted] whatever the verb or encoder; Reveal is the one way out.
type Secret string

// Reveal returns the secret value. Call it only where the value goes on the wire or into
// the keychain; it is easy to grep for.
func (s Secret) Reveal() string { return string(s) }

// IsEmpty reports whether the secret has no value.
func (s Secret) IsEmpty() bool { return s == "" }

// String returns [redacted].
func (Secret) String() string { return Redacted }

// GoString returns [redacted], so %#v does not show the value either.
func (Secret) GoString() string { return Redacted }

// Format writes [redacted] for every fmt verb (%s, %v, %q, %x, %d…).
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes log/slog record [redacted].
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the secret as the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as [redacted] for encoding/xml and other text encoders.
// (encoding/json writes a map key of type Secret as it is: do not key maps by secrets.)
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
