package embedded

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// CodeDatabaseDifferCase is MongoDB's code for creating a database whose
// name differs from an existing one only in case.
const CodeDatabaseDifferCase = 13297

// database is a handle on one database.
type database struct {
	s    *Store
	name string
}

func (d *database) Name() string { return d.name }

func (d *database) ListCollections(ctx context.Context) ([]string, error) {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range d.s.catalogFor(ctx).collections(d.name) {
		out = append(out, m.name)
	}
	return out, nil
}

func (d *database) CreateCollection(ctx context.Context, name string, opts store.CreateCollectionOptions) error {
	if err := validateNS(d.name, name); err != nil {
		return err
	}
	return d.s.submit(ctx, func(w *wtx) error {
		if w.st.cat.get(d.name, name) != nil {
			return mqlErr(store.CodeNamespaceExists, "Collection %s.%s already exists.", d.name, name)
		}
		_, err := w.createCollection(d.name, name, opts)
		return err
	})
}

func (d *database) Collection(name string) store.Collection {
	return &collection{s: d.s, db: d.name, name: name}
}

func (d *database) Drop(ctx context.Context) error {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return err
	}
	return d.s.submit(ctx, func(w *wtx) error {
		colls := w.st.cat.collections(d.name)
		if len(colls) == 0 {
			return nil
		}
		for _, m := range colls {
			if err := w.dropCollection(m); err != nil {
				return err
			}
		}
		return w.logOp(d.name, "", "dropDatabase", nil)
	})
}

func (d *database) Watch(ctx context.Context, pipeline []bson.D, opts store.WatchOptions) (store.ChangeStream, error) {
	if err := store.ValidateDatabaseName(d.name); err != nil {
		return nil, err
	}
	return d.s.watch(ctx, d.name, "", pipeline, opts)
}

func validateNS(db, coll string) error {
	if err := store.ValidateDatabaseName(db); err != nil {
		return err
	}
	return store.ValidateCollectionName(db, coll)
}

// createCollection adds a collection to the catalog and creates its table.
func (w *wtx) createCollection(db, name string, opts store.CreateCollectionOptions) (*collMeta, error) {
	for _, other := range w.st.cat.databases() {
		if other != db && strings.EqualFold(other, db) {
			return nil, mqlErr(CodeDatabaseDifferCase, "db already exists with different case already have: [%s] trying to create [%s]", other, db)
		}
	}
	o, _ := bson.Marshal(bson.D{{Key: "preImages", Value: opts.ChangeStreamPreAndPostImages}})
	res, err := w.exec(`INSERT INTO collections(db, name, options) VALUES(?, ?, ?)`, db, name, o)
	if err != nil {
		return nil, fmt.Errorf("embedded: create collection: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	m := &collMeta{id: id, db: db, name: name, preImages: opts.ChangeStreamPreAndPostImages}
	if err := w.execRaw(`CREATE TABLE ` + m.table() + `(k BLOB PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID`); err != nil {
		return nil, fmt.Errorf("embedded: create collection table: %w", err)
	}
	cat := w.st.cat.clone()
	cat.colls[nsKey(db, name)] = m
	w.st.cat = cat
	return m, nil
}

// collFor returns the collection's metadata, creating it when absent.
func (w *wtx) collFor(db, name string) (*collMeta, error) {
	if m := w.st.cat.get(db, name); m != nil {
		return m, nil
	}
	if err := validateNS(db, name); err != nil {
		return nil, err
	}
	return w.createCollection(db, name, store.CreateCollectionOptions{})
}

// dropCollection removes a collection, its indexes and tables, and logs a
// drop event.
func (w *wtx) dropCollection(m *collMeta) error {
	for _, x := range m.indexes {
		if err := w.execRaw(`DROP TABLE IF EXISTS ` + x.table()); err != nil {
			return err
		}
		w.forgetStmts(x.table())
	}
	if err := w.execRaw(`DROP TABLE IF EXISTS ` + m.table()); err != nil {
		return err
	}
	w.forgetStmts(m.table())
	if _, err := w.exec(`DELETE FROM indexes WHERE coll_id = ?`, m.id); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM collections WHERE id = ?`, m.id); err != nil {
		return err
	}
	cat := w.st.cat.clone()
	delete(cat.colls, nsKey(m.db, m.name))
	w.st.cat = cat
	return w.logOp(m.db, m.name, "drop", nil)
}
