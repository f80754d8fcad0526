// Package keyringtest tests package secrets against the real OS keychain (on Linux the
// Secret Service of the session bus). It holds tests only. They fail, never skip, when
// no keychain answers; run them in a throw-away desktop session:
//
//	bash /work/shared/ci/with-desktop.sh go test -race ./app/secrets/...
//
// They live in their own package because go-keyring's MockInit replaces a global provider
// that cannot be restored.
package keyringtest
