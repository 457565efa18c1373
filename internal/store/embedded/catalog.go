package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

// catalog is an immutable snapshot of the collections and indexes. The
// writer builds a new one for every change (catalog changes are rare), so
// readers use it without locks and a rolled-back operation simply drops
// its copy.
type catalog struct {
	colls map[string]*collMeta // by "db.name"
}

// collMeta describes one collection.
type collMeta struct {
	id        int64
	db, name  string
	preImages bool
	indexes   []*indexMeta // secondary indexes, in creation order
}

// indexMeta describes one secondary index.
type indexMeta struct {
	id      int64
	name    string
	keys    bson.D
	paths   []string
	unique  bool
	partial bson.D
	filter  *mql.Filter // compiled partial filter, nil when none
}

func (c *collMeta) table() string  { return fmt.Sprintf("c_%d", c.id) }
func (x *indexMeta) table() string { return fmt.Sprintf("x_%d", x.id) }

func nsKey(db, coll string) string { return db + "." + coll }

func (c *catalog) get(db, coll string) *collMeta { return c.colls[nsKey(db, coll)] }

func (c *catalog) clone() *catalog {
	n := &catalog{colls: make(map[string]*collMeta, len(c.colls)+1)}
	for k, v := range c.colls {
		n.colls[k] = v
	}
	return n
}

func (c *catalog) databases() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range c.colls {
		if !seen[m.db] {
			seen[m.db] = true
			out = append(out, m.db)
		}
	}
	sort.Strings(out)
	return out
}

func (c *catalog) collections(db string) []*collMeta {
	var out []*collMeta
	for _, m := range c.colls {
		if m.db == db {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (m *collMeta) index(name string) *indexMeta {
	for _, x := range m.indexes {
		if x.name == name {
			return x
		}
	}
	return nil
}

// newIndexMeta validates an index model and builds its description.
func newIndexMeta(id int64, model store.IndexModel) (*indexMeta, error) {
	if len(model.Keys) == 0 {
		return nil, mql.Errorf(store.CodeInvalidIndexSpecification, "index key pattern must not be empty")
	}
	model.Keys = normD(model.Keys)
	model.PartialFilterExpression = normD(model.PartialFilterExpression)
	x := &indexMeta{id: id, name: model.Name, keys: model.Keys, unique: model.Unique, partial: model.PartialFilterExpression}
	seen := map[string]bool{}
	for _, k := range model.Keys {
		if k.Key == "" || strings.HasPrefix(k.Key, "$") || strings.Contains(k.Key, "..") || strings.HasSuffix(k.Key, ".") || strings.HasPrefix(k.Key, ".") {
			return nil, mql.Errorf(store.CodeInvalidIndexSpecification, "bad index key pattern field %q", k.Key)
		}
		if seen[k.Key] {
			return nil, mql.Errorf(store.CodeInvalidIndexSpecification, "index key pattern repeats field %q", k.Key)
		}
		seen[k.Key] = true
		switch v := mql.Normalize(k.Value).(type) {
		case int32, int64, float64:
			f, _ := mql.ToFloat64(v)
			if f != 1 && f != -1 {
				return nil, mql.Errorf(store.CodeCommandNotSupported, "index key direction for %q must be 1 or -1 (special index types are not supported by the embedded engine)", k.Key)
			}
		default:
			return nil, mql.Errorf(store.CodeCommandNotSupported, "index type %v for %q is not supported by the embedded engine", k.Value, k.Key)
		}
		x.paths = append(x.paths, k.Key)
	}
	if x.name == "" {
		x.name = defaultIndexName(model.Keys)
	}
	if x.name == "_id_" {
		return nil, mql.Errorf(store.CodeInvalidIndexSpecification, "the index name _id_ is reserved for the _id index")
	}
	if len(model.PartialFilterExpression) > 0 {
		f, err := mql.CompileFilter(model.PartialFilterExpression)
		if err != nil {
			return nil, mql.Errorf(store.CodeInvalidIndexSpecification, "bad partialFilterExpression: %v", err)
		}
		x.filter = f
	}
	return x, nil
}

// defaultIndexName is MongoDB's: field_direction joined by underscores.
func defaultIndexName(keys bson.D) string {
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s_%v", k.Key, k.Value))
	}
	return strings.Join(parts, "_")
}

func (x *indexMeta) model() store.IndexModel {
	return store.IndexModel{Name: x.name, Keys: x.keys, Unique: x.unique, PartialFilterExpression: x.partial}
}

func (x *indexMeta) spec() []byte {
	d := bson.D{{Key: "keys", Value: x.keys}, {Key: "unique", Value: x.unique}}
	if len(x.partial) > 0 {
		d = append(d, bson.E{Key: "partial", Value: x.partial})
	}
	b, _ := bson.Marshal(d)
	return b
}

// sameSpec reports whether two indexes are identical (so that creating
// the second is a no-op).
func (x *indexMeta) sameSpec(y *indexMeta) bool {
	a, _ := bson.Marshal(bson.D{{Key: "k", Value: x.keys}, {Key: "u", Value: x.unique}, {Key: "p", Value: x.partial}})
	b, _ := bson.Marshal(bson.D{{Key: "k", Value: y.keys}, {Key: "u", Value: y.unique}, {Key: "p", Value: y.partial}})
	return string(a) == string(b)
}

// loadCatalog reads the catalog tables.
func loadCatalog(ctx context.Context, db *sql.DB) (*catalog, error) {
	cat := &catalog{colls: map[string]*collMeta{}}
	byID := map[int64]*collMeta{}
	rows, err := db.QueryContext(ctx, `SELECT id, db, name, options FROM collections`)
	if err != nil {
		return nil, fmt.Errorf("embedded: read catalog: %w", err)
	}
	for rows.Next() {
		m := &collMeta{}
		var opts []byte
		if err := rows.Scan(&m.id, &m.db, &m.name, &opts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("embedded: read catalog: %w", err)
		}
		if len(opts) > 0 {
			var o bson.D
			if bson.Unmarshal(opts, &o) == nil {
				m.preImages, _ = mql.Get(o, "preImages").(bool)
			}
		}
		cat.colls[nsKey(m.db, m.name)] = m
		byID[m.id] = m
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT id, coll_id, name, spec FROM indexes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("embedded: read catalog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, cid int64
		var name string
		var spec []byte
		if err := rows.Scan(&id, &cid, &name, &spec); err != nil {
			return nil, fmt.Errorf("embedded: read catalog: %w", err)
		}
		var d bson.D
		if err := bson.Unmarshal(spec, &d); err != nil {
			return nil, fmt.Errorf("embedded: index %s: bad spec: %w", name, err)
		}
		model := store.IndexModel{Name: name}
		model.Keys, _ = mql.Get(d, "keys").(bson.D)
		model.Unique, _ = mql.Get(d, "unique").(bool)
		model.PartialFilterExpression, _ = mql.Get(d, "partial").(bson.D)
		x, err := newIndexMeta(id, model)
		if err != nil {
			return nil, fmt.Errorf("embedded: index %s: %w", name, err)
		}
		if m := byID[cid]; m != nil {
			m.indexes = append(m.indexes, x)
		}
	}
	return cat, rows.Err()
}
