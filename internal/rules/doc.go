// Package rules is the App Services rules engine: it loads every rule format
// the product ever shipped (per-collection rules.json and default_rule.json,
// the 2018-2023 legacy roles, the 2022 Flexible Sync defaultRoles/applyWhen
// permissions and partition-sync permissions) into one model, and decides
// what an application user may read and write.
//
// The life cycle follows the performance plan of the house: a Set is loaded
// and validated once per config version (so a typo fails the deploy, not a
// request); a View binds one caller to one namespace once per request,
// specialising every expression to that caller; the View then decides each
// document the store returns without re-reading the caller. Whatever the
// rules can say as a MongoDB filter is pushed into the query (View.PushDown),
// and the per-document decider (View.Decide, View.Redact) runs after it, so
// the pushed filter only has to be broad enough, never exact.
//
// Semantics are those of spec §4 (rules-and-config.md); where the spec leaves a
// choice open, the recommendation is taken and the choice is named next to the
// code and held by a W-case test.
//
// The package is a leaf of the core: it imports internal/expr, internal/mql and
// the bson package only. The data-access layer calls it; it never calls out.
package rules
