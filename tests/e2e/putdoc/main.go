// Command putdoc is an end-to-end test helper: it inserts one Extended
// JSON document into a collection of an embedded store directory. The
// realm-web tests use it to create custom user data documents while the
// server is stopped (the embedded store admits one process at a time), as
// no other way to write application data exists yet.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store/embedded"
)

func main() {
	data := flag.String("data", "", "embedded store directory")
	db := flag.String("db", "", "database")
	coll := flag.String("coll", "", "collection")
	doc := flag.String("doc", "", "document as Extended JSON")
	flag.Parse()
	if err := run(*data, *db, *coll, *doc); err != nil {
		fmt.Fprintln(os.Stderr, "putdoc:", err)
		os.Exit(1)
	}
}

func run(data, db, coll, doc string) error {
	if data == "" || db == "" || coll == "" || doc == "" {
		return fmt.Errorf("--data, --db, --coll and --doc are required")
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(doc), false, &d); err != nil {
		return fmt.Errorf("--doc: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := embedded.Open(ctx, data, embedded.Options{})
	if err != nil {
		return err
	}
	_, ierr := st.Database(db).Collection(coll).InsertOne(ctx, d)
	if cerr := st.Close(ctx); ierr == nil {
		ierr = cerr
	}
	return ierr
}
