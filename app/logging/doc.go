// Package logging sets up the app's log/slog logger: JSON lines in
// $TIMEBRIDGE_HOME/logs/timebridge.log, rotated by size, plus optional text lines on stderr
// for commands. Tokens, secrets, passwords and webhook paths never reach either: attributes
// whose key names a secret are replaced by [redacted] (ReplaceAttr), and every string, error
// and message is scrubbed by Redact as a backstop for secrets inside URLs, headers and
// response excerpts. Values of type secrets.Secret redact themselves.
package logging
