// Package app is timebridge's composition root: it reads the config, opens the
// keychain, the log and the state file, builds the service clients and the engine,
// runs the command line (sync, status, authorize, signout, config, demo) and maps
// errors to the documented exit codes. Only main imports it; the window (package
// ui) receives an *App through the Backend interface.
package app
