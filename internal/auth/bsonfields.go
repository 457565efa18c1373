package auth

import (
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// lookup returns the value of a top-level field.
func lookup(d bson.D, key string) (any, bool) {
	for _, e := range d {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

func lookupString(d bson.D, key string) (string, bool) {
	v, ok := lookup(d, key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

func lookupBool(d bson.D, key string) bool {
	v, _ := lookup(d, key)
	b, _ := v.(bool)
	return b
}

func lookupDoc(d bson.D, key string) bson.D {
	v, _ := lookup(d, key)
	doc, _ := v.(bson.D)
	return doc
}

func lookupTime(d bson.D, key string) time.Time {
	v, _ := lookup(d, key)
	switch t := v.(type) {
	case bson.DateTime:
		return t.Time().UTC()
	case time.Time:
		return t.UTC()
	}
	return time.Time{}
}

func lookupOID(d bson.D, key string) (bson.ObjectID, bool) {
	v, _ := lookup(d, key)
	id, ok := v.(bson.ObjectID)
	return id, ok
}

func dt(t time.Time) bson.DateTime { return bson.NewDateTimeFromTime(t) }

func idFilter(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// setField replaces or appends a field.
func setField(d bson.D, key string, v any) bson.D {
	for i := range d {
		if d[i].Key == key {
			d[i].Value = v
			return d
		}
	}
	return append(d, bson.E{Key: key, Value: v})
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
