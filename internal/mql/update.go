package mql

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Update is a compiled update: either a document of update operators or a
// replacement document.
type Update struct{}

// UpdateOptions are the compile-time options of an update.
type UpdateOptions struct {
	// ArrayFilters are the filters named by $[<identifier>] in the update.
	ArrayFilters []bson.D
}

// ApplyOptions are the per-document options of Update.Apply.
type ApplyOptions struct {
	// Position is the array index the positional $ operator refers to
	// (from Filter.MatchPosition), or -1.
	Position int
	// Insert is true when the update applies to the seed document of an
	// upsert, so that $setOnInsert takes effect.
	Insert bool
	// Now is the time $currentDate writes; zero means time.Now().
	Now time.Time
}

// CompileUpdate parses and validates an update document.
func CompileUpdate(update bson.D, opts UpdateOptions) (*Update, error) {
	return nil, errUnsupported("update", "updates are not implemented yet")
}

// IsReplacement reports whether the update is a replacement document.
func (u *Update) IsReplacement() bool { return false }

// Apply applies the update to doc and returns the new document, whether it
// differs from doc, or an error. doc is not modified.
func (u *Update) Apply(doc bson.D, opts ApplyOptions) (bson.D, bool, error) {
	return nil, false, errUnsupported("update", "updates are not implemented yet")
}

// UpsertSeed builds the document an upsert starts from: the equality
// clauses of filter (top-level and inside $and), with dotted paths
// expanded into embedded documents.
func UpsertSeed(filter bson.D) (bson.D, error) {
	return nil, errUnsupported("update", "upserts are not implemented yet")
}
