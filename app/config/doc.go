// Package config reads, checks and writes the settings of design §6: the file config.json
// in the home directory ($TIMEBRIDGE_HOME, else the OS config directory + "timebridge"),
// a JSON object keyed by dotted names such as "sync.interval". Missing keys take their
// defaults, so an administrator may pre-fill a few non-secret settings.
//
// One table of keys (Keys) drives parsing, validation, defaults, help text, `config list`,
// `config get` and `config set`. Unknown keys and bad values are rejected with a one-line
// *Error that names the key (and the file) and says what is allowed. A file that cannot be
// read or parsed is never rewritten by Load; Save replaces it atomically (temporary file,
// fsync, rename) with mode 0600 in a 0700 directory.
//
// Secret settings (bitrix24.client_secret, bitrix24.webhook, timedoctor.client_secret) are
// in the table but never in the file: Get and Set return an error wrapping ErrSecretKey
// for them, and the caller stores the value from Check in the keychain under the same key:
//
//	if err := cfg.Set(key, value); errors.Is(err, config.ErrSecretKey) {
//		v, _ := config.Check(key, value) // already validated by Set
//		err = store.Set(ctx, key, secrets.Secret(v)) // "" means: delete it
//	}
package config
