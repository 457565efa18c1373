package embedded

import (
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/store"
)

func mqlErr(code int, format string, args ...any) error { return mql.Errorf(code, format, args...) }

// CodeCannotIndexParallelArrays is MongoDB's code for a compound index
// over two array fields of one document.
const CodeCannotIndexParallelArrays = 171

// prepareInsert normalizes a document for insertion: _id first (an
// ObjectId is generated when absent), _id and field names checked, depth
// checked. It returns the document and its _id.
func prepareInsert(doc bson.D) (bson.D, any, error) {
	d, _ := mql.Normalize(doc).(bson.D)
	idx := -1
	for i, e := range d {
		if e.Key == "_id" {
			if idx >= 0 {
				return nil, nil, mqlErr(mql.CodeBadValue, "document has more than one _id field")
			}
			idx = i
		}
		if strings.HasPrefix(e.Key, "$") {
			return nil, nil, mqlErr(mql.CodeDollarPrefixedFieldName, "top-level field name %q may not start with '$' (refused by the embedded engine)", e.Key)
		}
	}
	var id any
	switch {
	case idx < 0:
		id = bson.NewObjectID()
		d = append(bson.D{{Key: "_id", Value: id}}, d...)
	case idx == 0:
		id = d[0].Value
	default:
		id = d[idx].Value
		out := make(bson.D, 0, len(d))
		out = append(out, d[idx])
		out = append(out, d[:idx]...)
		d = append(out, d[idx+1:]...)
	}
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	if err := mql.CheckDepth(d); err != nil {
		return nil, nil, err
	}
	return d, id, nil
}

// checkID refuses the _id values MongoDB refuses.
func checkID(id any) error {
	switch id.(type) {
	case bson.A:
		return mqlErr(mql.CodeBadValue, "can't use an array for _id")
	case bson.Regex:
		return mqlErr(mql.CodeBadValue, "can't use a regex for _id")
	case bson.Undefined:
		return mqlErr(mql.CodeBadValue, "can't use undefined for _id")
	}
	if d, ok := id.(bson.D); ok {
		for _, e := range d {
			if strings.HasPrefix(e.Key, "$") {
				return mqlErr(mql.CodeDollarPrefixedFieldName, "_id fields may not start with '$': %q", e.Key)
			}
		}
	}
	return nil
}

// encodeDoc marshals a document and enforces the 16 MiB limit.
func encodeDoc(d bson.D) ([]byte, error) {
	b, err := bson.Marshal(d)
	if err != nil {
		return nil, mqlErr(mql.CodeBadValue, "cannot encode document: %v", err)
	}
	if len(b) > mql.MaxDocumentSize {
		return nil, mqlErr(mql.CodeBSONObjectTooLarge, "object to insert too large. size in bytes: %d, max size: %d", len(b), mql.MaxDocumentSize)
	}
	return b, nil
}

func decodeDoc(b []byte) (bson.D, error) {
	return decodeBSON(b)
}

// idxKey is one index entry of a document: its encoded key and the values
// it was built from (for duplicate key messages).
type idxKey struct {
	key  []byte
	vals []any
}

// indexKeys returns the index entries of doc for x (none when a partial
// filter excludes it).
func indexKeys(x *indexMeta, doc bson.D) ([]idxKey, error) {
	if x.filter != nil && !x.filter.Match(doc) {
		return nil, nil
	}
	per := make([][]any, len(x.paths))
	multi := -1
	for i, p := range x.paths {
		vals, isArr := valuesAt(doc, p)
		if isArr {
			if multi >= 0 {
				return nil, mqlErr(CodeCannotIndexParallelArrays, "cannot index parallel arrays [%s] [%s]", x.paths[multi], p)
			}
			multi = i
		}
		per[i] = vals
	}
	if multi < 0 {
		vals := make([]any, len(per))
		var k []byte
		for i, v := range per {
			vals[i] = v[0]
			k = appendKey(k, v[0])
		}
		return []idxKey{{key: k, vals: vals}}, nil
	}
	seen := map[string]bool{}
	var out []idxKey
	for _, mv := range per[multi] {
		vals := make([]any, len(per))
		var k []byte
		for i, v := range per {
			if i == multi {
				vals[i] = mv
			} else {
				vals[i] = v[0]
			}
			k = appendKey(k, vals[i])
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, idxKey{key: k, vals: vals})
		}
	}
	return out, nil
}

// valuesAt collects the values at a dotted path for indexing: arrays on
// the way are traversed, an array at the end contributes its elements
// (an empty array indexes as undefined), and a missing value as null. The
// second result tells whether an array was met.
func valuesAt(doc bson.D, path string) ([]any, bool) {
	var out []any
	arr := false
	collectPath(doc, strings.Split(path, "."), &out, &arr)
	if len(out) == 0 {
		out = []any{nil}
	}
	if len(out) > 1 {
		arr = true
	}
	return out, arr
}

func collectPath(v any, path []string, out *[]any, arr *bool) {
	if len(path) == 0 {
		if a, ok := v.(bson.A); ok {
			*arr = true
			if len(a) == 0 {
				*out = append(*out, bson.Undefined{})
			}
			*out = append(*out, a...)
			return
		}
		*out = append(*out, v)
		return
	}
	switch x := v.(type) {
	case bson.D:
		f := mql.Get(x, path[0])
		if !mql.IsMissing(f) {
			collectPath(f, path[1:], out, arr)
		}
	case bson.A:
		*arr = true
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(x) {
			collectPath(x[i], path[1:], out, arr)
		}
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				collectPath(d, path, out, arr)
			}
		}
	}
}

// dupKeyError builds MongoDB's E11000 error.
func dupKeyError(db, coll, index string, fields []string, vals []any) error {
	var b strings.Builder
	b.WriteString("{ ")
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f)
		b.WriteString(": ")
		b.WriteString(formatValue(vals[i]))
	}
	b.WriteString(" }")
	return &mql.Error{Code: store.CodeDuplicateKey, CodeName: "DuplicateKey",
		Message: fmt.Sprintf("E11000 duplicate key error collection: %s.%s index: %s dup key: %s", db, coll, index, b.String())}
}

// formatValue renders a value the way MongoDB's error messages do.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case int32, int64:
		return fmt.Sprint(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case bson.ObjectID:
		return "ObjectId('" + x.Hex() + "')"
	case bson.DateTime:
		return "new Date(" + strconv.FormatInt(int64(x), 10) + ")"
	case bson.D:
		var b strings.Builder
		b.WriteString("{ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.Key + ": " + formatValue(e.Value))
		}
		b.WriteString(" }")
		return b.String()
	case bson.A:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[ " + strings.Join(parts, ", ") + " ]"
	}
	return fmt.Sprint(v)
}
