package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

const importUsage = `Usage: atoll import [--data DIR | --mongodb-uri URI] --db DB --collection COLL [--drop] FILE

Inserts the documents of FILE into DB.COLL as the system: the app's rules
and schemas do not apply (this is an administrator's tool, like
mongoimport). FILE holds Extended JSON, canonical or relaxed, either one
document per line (mongoexport's default) or one JSON array. "-" reads
standard input. --drop empties the collection first. The embedded store
admits one process at a time: against --data, run it while the server is
stopped.
`

// importBatch is how many documents go to the store per InsertMany.
const importBatch = 1000

// importCmd is `atoll import`.
func importCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	db := fs.String("db", "", "database to insert into (required)")
	coll := fs.String("collection", "", "collection to insert into (required)")
	drop := fs.Bool("drop", false, "drop the collection before inserting")
	if code := parseFlags(fs, args, 1); code >= 0 {
		return code
	}
	if *db == "" || *coll == "" {
		fmt.Fprintln(stderr, "atoll import: --db and --collection are required")
		return 2
	}
	in := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "atoll import: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	docs, err := readExtJSONDocs(in)
	if err != nil {
		fmt.Fprintf(stderr, "atoll import: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	return sf.withStore(context.Background(), stderr, func(ctx context.Context, st store.Store) error {
		c := st.Database(*db).Collection(*coll)
		if *drop {
			if err := c.Drop(ctx); err != nil {
				return fmt.Errorf("dropping %s.%s: %w", *db, *coll, err)
			}
		}
		for start := 0; start < len(docs); start += importBatch {
			end := min(start+importBatch, len(docs))
			if _, err := c.InsertMany(ctx, docs[start:end], store.InsertManyOptions{}); err != nil {
				return fmt.Errorf("inserting into %s.%s (documents %d to %d): %w", *db, *coll, start+1, end, err)
			}
		}
		fmt.Fprintf(stdout, "imported %d document(s) into %s.%s\n", len(docs), *db, *coll)
		return nil
	})
}

// readExtJSONDocs reads Extended JSON documents: a JSON array of them, or
// one per line (blank lines ignored). Errors name the line or element.
func readExtJSONDocs(r io.Reader) ([]bson.D, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// Wrapping the array in a document lets the driver's Extended
		// JSON reader decode it with every type intact.
		var wrapper struct {
			Docs []bson.D `bson:"docs"`
		}
		wrapped := append(append([]byte(`{"docs":`), trimmed...), '}')
		if err := bson.UnmarshalExtJSON(wrapped, false, &wrapper); err != nil {
			return nil, fmt.Errorf("reading the JSON array: %w", err)
		}
		return wrapper.Docs, nil
	}
	var docs []bson.D
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 17*1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(text), false, &d); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, errors.New("no documents")
	}
	return docs, nil
}
