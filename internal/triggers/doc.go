// Package triggers runs an app's triggers: authentication triggers on the
// auth service's events, database triggers on the store's change feed and
// scheduled triggers on a cron clock. Handlers are app functions called
// as system through the functions engine.
//
// Compile turns appconfig triggers into checked, ready-to-run definitions
// (cron parsed, match and project compiled), so a bad trigger fails at
// load with its file, key and reason instead of at the first event.
//
// Delivery is at least once across crashes: database triggers record
// their resume token under __atoll after handled events, scheduled
// triggers their last tick, and authentication events are recorded under
// __atoll before the auth request returns and removed once delivered.
// A clean shutdown (Runner.Close) lets running handlers finish, for up to
// Config.ShutdownGrace, so it redelivers nothing they completed.
// Processes sharing a store run each trigger (and authentication event
// delivery) in one process at a time, through leases that another process
// takes over when they expire (lease.go explains why they are insert-only).
package triggers
