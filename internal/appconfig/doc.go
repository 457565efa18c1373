// Package appconfig reads and writes App Services app directories: the
// export format of the App Services CLI and of the realm-cli and stitch-cli
// versions before it.
//
// Every generation (root_config.json, realm_config.json, config.json,
// stitch.json) loads into one typed App, the source of truth the server is
// built from, much as Caddy adapts each config format into its JSON config.
// App.Write always writes the current layout, so an export is also a
// migration. Keys this package does not know are kept in each object's
// Extra and written back, so nothing a user wrote is silently lost; rules,
// schemas and other documents owned by later stages stay raw JSON with the
// file they came from, for those stages to parse and report against.
//
// Loading never stops at the first mistake: Load returns Problems, every
// problem with its file, JSON path and reason, so `atoll app validate` can
// show a user everything to fix in one run.
//
// Secret values never come from the app directory (exports do not contain
// them); they are supplied through Options.Secrets, typically from
// environment variables (SecretsFromEnv) or a secrets file
// (ReadSecretsFile). Config templates `%(%%environment.values.x)` are
// resolved at load time against the active environment, as App Services
// resolves them at import.
//
// The package depends on nothing else in Atoll.
package appconfig
