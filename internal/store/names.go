package store

import (
	"strings"

	"github.com/atollhq/atoll/internal/mql"
)

// SystemDatabase is the reserved database where Atoll keeps its own state
// (users, sessions, trigger positions, ...). Application callers never
// reach it.
const SystemDatabase = "__atoll"

// Namespace length limit: MongoDB allows 255 bytes for "db.collection".
const maxNamespaceLen = 255

// ValidateDatabaseName checks a database name against MongoDB's rules:
// non-empty, at most 63 bytes, none of `/\. "$*<>:|?` and no NUL.
func ValidateDatabaseName(name string) error {
	if name == "" {
		return mql.Errorf(CodeInvalidNamespace, "database name cannot be empty")
	}
	if len(name) > 63 {
		return mql.Errorf(CodeInvalidNamespace, "database name %q is longer than 63 bytes", name)
	}
	if i := strings.IndexAny(name, "/\\. \"$*<>:|?\x00"); i >= 0 {
		return mql.Errorf(CodeInvalidNamespace, "database name %q contains an invalid character %q", name, name[i])
	}
	return nil
}

// ValidateCollectionName checks a collection name against MongoDB's
// rules: non-empty, no `$` or NUL, not starting with "system." (reserved
// for the server) or ".", and "db.collection" at most 255 bytes.
func ValidateCollectionName(db, name string) error {
	switch {
	case name == "":
		return mql.Errorf(CodeInvalidNamespace, "collection name cannot be empty")
	case strings.ContainsAny(name, "$\x00"):
		return mql.Errorf(CodeInvalidNamespace, "collection name %q contains an invalid character", name)
	case strings.HasPrefix(name, "system."):
		return mql.Errorf(CodeInvalidNamespace, "collection name %q is reserved: names starting with \"system.\" belong to the server", name)
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, "."):
		return mql.Errorf(CodeInvalidNamespace, "collection name %q may not start or end with '.'", name)
	case len(db)+1+len(name) > maxNamespaceLen:
		return mql.Errorf(CodeInvalidNamespace, "namespace %s.%s is longer than %d bytes", db, name, maxNamespaceLen)
	}
	return nil
}
