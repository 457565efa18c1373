package embedded

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// CreateIndex creates a secondary index, building it over the existing
// documents in the same transaction (an existing duplicate fails a unique
// index with E11000 and nothing is created).
func (c *collection) CreateIndex(ctx context.Context, model store.IndexModel) (string, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return "", err
	}
	if isIDIndex(model.Keys) && len(model.PartialFilterExpression) == 0 {
		// The _id index always exists.
		return "_id_", nil
	}
	probe, err := newIndexMeta(0, model)
	if err != nil {
		return "", err
	}
	name := probe.name
	err = c.s.submit(ctx, func(w *wtx) error {
		m, err := w.collFor(c.db, c.name)
		if err != nil {
			return err
		}
		for _, x := range m.indexes {
			same := x.sameSpec(probe)
			switch {
			case x.name == probe.name && same:
				return nil
			case x.name == probe.name:
				return mqlErr(store.CodeIndexKeySpecsConflict, "An existing index has the same name as the requested index but different options or keys: %s", x.name)
			case same:
				return mqlErr(store.CodeIndexOptionsConflict, "Index already exists with a different name: %s", x.name)
			}
		}
		res, err := w.exec(`INSERT INTO indexes(coll_id, name, spec) VALUES(?, ?, ?)`, m.id, probe.name, probe.spec())
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		x, err := newIndexMeta(id, model)
		if err != nil {
			return err
		}
		if err := w.execRaw(`CREATE TABLE ` + x.table() + `(k BLOB NOT NULL, pk BLOB NOT NULL, PRIMARY KEY(k, pk)) WITHOUT ROWID`); err != nil {
			return err
		}
		// Build over the existing documents.
		hits, err := w.reader().find(bg, m, nil, 0, false)
		if err != nil {
			return err
		}
		for _, h := range hits {
			keys, err := indexKeys(x, h.doc)
			if err != nil {
				return err
			}
			if err := w.addIndexKeys(m, x, h.k, keys); err != nil {
				return err
			}
		}
		nm := *m
		nm.indexes = append(append([]*indexMeta(nil), m.indexes...), x)
		cat := w.st.cat.clone()
		cat.colls[nsKey(m.db, m.name)] = &nm
		w.st.cat = cat
		return nil
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

func isIDIndex(keys bson.D) bool {
	if len(keys) != 1 || keys[0].Key != "_id" {
		return false
	}
	switch v := keys[0].Value.(type) {
	case int32:
		return v == 1
	case int64:
		return v == 1
	case int:
		return v == 1
	case float64:
		return v == 1
	}
	return false
}

// ListIndexes lists the _id index first, then the others in creation
// order.
func (c *collection) ListIndexes(ctx context.Context) ([]store.IndexModel, error) {
	if err := validateNS(c.db, c.name); err != nil {
		return nil, err
	}
	m := c.s.catalogFor(ctx).get(c.db, c.name)
	if m == nil {
		// As the driver reports it: no collection, no indexes.
		return nil, nil
	}
	out := []store.IndexModel{{Name: "_id_", Keys: bson.D{{Key: "_id", Value: int32(1)}}}}
	for _, x := range m.indexes {
		out = append(out, x.model())
	}
	return out, nil
}

// DropIndex drops a secondary index; "_id_" cannot be dropped.
func (c *collection) DropIndex(ctx context.Context, name string) error {
	if err := validateNS(c.db, c.name); err != nil {
		return err
	}
	if name == "_id_" {
		return mqlErr(mql.CodeInvalidOptions, "cannot drop _id index")
	}
	return c.s.submit(ctx, func(w *wtx) error {
		m := w.st.cat.get(c.db, c.name)
		if m == nil {
			return mqlErr(store.CodeNamespaceNotFound, "ns not found %s.%s", c.db, c.name)
		}
		x := m.index(name)
		if x == nil {
			return mqlErr(store.CodeIndexNotFound, "index not found with name [%s]", name)
		}
		if err := w.execRaw(`DROP TABLE ` + x.table()); err != nil {
			return fmt.Errorf("embedded: drop index: %w", err)
		}
		w.forgetStmts(x.table())
		if _, err := w.exec(`DELETE FROM indexes WHERE id = ?`, x.id); err != nil {
			return err
		}
		nm := *m
		nm.indexes = nil
		for _, y := range m.indexes {
			if y != x {
				nm.indexes = append(nm.indexes, y)
			}
		}
		cat := w.st.cat.clone()
		cat.colls[nsKey(m.db, m.name)] = &nm
		w.st.cat = cat
		return nil
	})
}
