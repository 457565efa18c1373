package dataaccess

import (
	"context"
	"os"
	"testing"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/store/mongo"
)

// TestOnMongoDB runs the rules and write tests on the MongoDB backend when
// ATOLL_TEST_MONGODB_URI names one (scripts/test.sh starts FerretDB, which
// has neither $expr in every form nor transactions nor change streams: the
// field-equality guard and non-transactional commits are exercised). It
// drops the databases "tracker" before each fixture.
func TestOnMongoDB(t *testing.T) {
	uri := useMongoDB(t)
	t.Run("NamespaceErrors", TestNamespaceErrors)
	t.Run("TrackerReads", TestTrackerReads)
	t.Run("TrackerWrites", TestTrackerWrites)
	t.Run("TrackerWriteEffects", TestTrackerWriteEffects)
	t.Run("RedactedReads", TestRedactedReads)
	t.Run("BadInput", TestBadInput)
	t.Run("ManagerUpdatesSalary", TestManagerUpdatesSalary)
	t.Run("HiddenFieldUpdateIsNoOracle", TestHiddenFieldUpdateIsNoOracle)
	t.Run("HiddenFilterIsNoOracle", TestHiddenFilterIsNoOracle)
	t.Run("FindOneReadsPastWithheldBatches", TestFindOneReadsPastWithheldBatches)
	if probe, err := mongo.Open(context.Background(), uri); err == nil {
		// A standalone FerretDB applies a conditional update as a read
		// followed by a write, not atomically, so concurrent guarded
		// writes can both succeed there; the test needs a real
		// deployment (docs/compat.md).
		if probe.Capabilities().Transactions {
			t.Run("ConcurrentUpdates", TestConcurrentUpdatesLoseNothing)
		}
		probe.Close(context.Background())
	}
	t.Run("ConcurrentOwnerChange", TestConcurrentOwnerChangeIsDecidedOnTheCurrentDocument)
}

// useMongoDB makes the fixtures of the calling test open the MongoDB
// deployment named by ATOLL_TEST_MONGODB_URI (dropping "tracker" first)
// instead of an embedded store, until the test ends, and returns its URI;
// without a deployment the test is skipped.
func useMongoDB(t *testing.T) string {
	t.Helper()
	uri := os.Getenv("ATOLL_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("ATOLL_TEST_MONGODB_URI is not set: the MongoDB-backend variant runs only against a running deployment (scripts/test.sh starts FerretDB and sets it)")
	}
	saved := openStore
	t.Cleanup(func() { openStore = saved })
	openStore = func(t testing.TB, ctx context.Context) store.Store {
		t.Helper()
		st, err := mongo.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Database("tracker").Drop(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close(context.Background()) })
		return st
	}
	return uri
}
