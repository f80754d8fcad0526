// Package engine is the reconcile cycle of timebridge: a pure plan (states in,
// actions out) and an apply step that executes the actions through the connectors,
// recording each result in the store before it moves on. The scheduler (Serve)
// runs one cycle at a time every interval ± jitter, on SyncNow, and after failures
// with a doubling backoff; it publishes Status snapshots that the command line and
// the window render.
package engine
