// Package triggers runs an app's triggers: authentication triggers on the
// auth service's events, database triggers on the store's change feed and
// scheduled triggers on a cron clock. Handlers are app functions called
// as system through the functions engine.
//
// Compile turns appconfig triggers into checked, ready-to-run definitions
// (cron parsed, match and project compiled), so a bad trigger fails at
// load with its file, key and reason instead of at the first event.
package triggers
