// Package secrets keeps tokens, client secrets and webhook URLs out of files and logs.
//
// A [Secret] prints, logs and marshals as [redacted]; [Secret.Reveal] is the one way out.
// A [Store] holds secrets by key: [Keyring] is the OS keychain (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows) through github.com/zalando/go-keyring,
// with a timeout on every call and chunking of values too big for one keychain record;
// [Memory] keeps them in the process only (TIMEBRIDGE_KEYRING=memory: tests and the demo).
// [SetJSON] and [GetJSON] store a struct such as an OAuth token pair as one record, so that
// an access token and its single-use refresh token are always replaced together.
//
// Keys are the names the app uses for its records, e.g. the config keys of secret settings
// ("bitrix24.client_secret", "bitrix24.webhook") and one record per signed-in service
// ("bitrix24.token"). A key may not contain '#': "key#1", "key#2"… name the extra chunks.
package secrets
