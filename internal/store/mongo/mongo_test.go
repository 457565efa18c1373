package mongo

import (
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/storetest"
)

const uriEnv = "ATOLL_TEST_MONGODB_URI"

// ferretDBSkips are the conformance tests FerretDB v1.24 (SQLite backend)
// cannot serve, with the FerretDB limitation behind each. They are skipped
// only when the server is FerretDB; docs/compat.md ("FerretDB in CI")
// lists them.
var ferretDBSkips = map[string]string{
	"DuplicateKeyMessage":               "FerretDB v1.24 ends the E11000 message after the namespace, without MongoDB's \"index: NAME dup key: { ... }\"",
	"UpdateOversize":                    "FerretDB v1.24 accepts an update that grows a document past 16 MiB (MongoDB refuses it, code 17419)",
	"ValueTypesDecimalMinMaxKey":        "FerretDB v1.24 does not support Decimal128, MinKey or MaxKey values (it drops the connection)",
	"Distinct":                          "FerretDB v1.24 rejects the maxTimeMS field the driver adds to distinct when the context has a deadline (\"distinct: unknown field maxTimeMS\")",
	"UpdateArrayFilters":                "FerretDB v1.24 does not implement arrayFilters",
	"UpdatePositional":                  "FerretDB v1.24 does not implement the positional $ update operator",
	"ReplaceOneNoChange":                "FerretDB v1.24 counts a replacement identical to the document as modified (MongoDB: nModified 0)",
	"FindOneAndModifyProjection":        "FerretDB v1.24 does not implement the fields (projection) option of findAndModify, nor arrayFilters",
	"AggregateExpressions":              "FerretDB v1.24 gives {$sum: 1} as 0 in $group and does not evaluate field paths in $project",
	"AggregateUnknownStage":             "FerretDB v1.24 reports an unknown stage with code 40234 instead of MongoDB's 40324",
	"IndexesUniqueUpdate":               "FerretDB v1.24 reports unique violations of updates as code 1 (InternalError), and lets UpdateMany and upserts break a unique index",
	"IndexesUniqueMissingField":         "FerretDB v1.24 does not index a missing field as null in a unique index (MongoDB allows one such document)",
	"IndexesUniqueOnExistingDuplicates": "FerretDB v1.24 reports a unique index build over duplicates as code 1 (InternalError) instead of 11000",
	"IndexesPartial":                    "FerretDB v1.24 does not implement partialFilterExpression",
}

// openTestStore opens the deployment named by ATOLL_TEST_MONGODB_URI or
// skips the test.
func openTestStore(t testing.TB) (*Store, string) {
	t.Helper()
	uri := os.Getenv(uriEnv)
	if uri == "" {
		t.Skipf("%s is not set: the MongoDB backend is tested only against a running deployment (scripts/test.sh starts FerretDB and sets it)", uriEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, uri)
	if err != nil {
		t.Fatalf("opening %s: %v", uriEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s, serverName(ctx, s)
}

// serverName tells FerretDB (whose buildInfo carries ferretdbVersion) from
// MongoDB.
func serverName(ctx context.Context, s *Store) string {
	var info bson.D
	if err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err == nil {
		if _, ok := lookup(info, "ferretdbVersion").(string); ok {
			return "ferretdb"
		}
	}
	return "mongodb"
}

func harness(t testing.TB) storetest.Harness {
	s, name := openTestStore(t)
	h := storetest.Harness{
		Name: name,
		Open: func(testing.TB) store.Store { return s },
	}
	if name == "ferretdb" {
		h.Skip = ferretDBSkips
	}
	return h
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness(t))
}

// BenchmarkStore measures the MongoDB backend (FerretDB in CI) with the
// same benchmarks as the embedded engine's.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, harness(b))
}
