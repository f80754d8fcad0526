package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SetJSON stores v, JSON-encoded, as one secret under key, so that related values (an
// access token and its refresh token) are always replaced together. Fields of type Secret
// would be encoded as [redacted], so SetJSON refuses them: use plain strings in v.
func SetJSON(ctx context.Context, s Store, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode secret %q: %w", key, err)
	}
	if strings.Contains(string(b), `"`+Redacted+`"`) {
		return fmt.Errorf("encode secret %q: %w", key, errRedactedField)
	}
	return s.Set(ctx, key, Secret(b))
}

var errRedactedField = errors.New("the value holds a secrets.Secret, which encodes as [redacted]; use a string field")

// GetJSON decodes the secret under key into v. A missing key gives an error wrapping
// ErrNotFound; a record that is not valid JSON gives an error that does not quote it.
func GetJSON(ctx context.Context, s Store, key string, v any) error {
	sec, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(sec.Reveal()), v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("decode secret %q: not valid JSON at byte %d", key, se.Offset)
		case errors.As(err, &te):
			return fmt.Errorf("decode secret %q: field %q has the wrong type", key, te.Field)
		}
		return fmt.Errorf("decode secret %q: not the expected JSON", key)
	}
	return nil
}
