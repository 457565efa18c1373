package appconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Object is embedded in every typed configuration object. App Services has
// added keys to its files for a decade and will not tell us about them, so
// whatever a typed struct does not name is kept in Extra and written back
// unchanged; the order in which keys were read is kept too, so that an
// exported file reads like the file it came from.
type Object struct {
	// Extra holds the keys this package does not know, with their raw JSON.
	Extra map[string]json.RawMessage `json:"-"`
	// keys is the key order as read; nil for objects built in code.
	keys []string
}

// forget drops key from the remembered key order, for normalisations that
// move a value elsewhere (a key that was present is otherwise written even
// when its field is empty).
func (o *Object) forget(key string) {
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			return
		}
	}
}

// remove drops an unknown key that a normalisation has dealt with.
func (o *Object) remove(key string) {
	delete(o.Extra, key)
	if len(o.Extra) == 0 {
		o.Extra = nil
	}
	o.forget(key)
}

var (
	objectType  = reflect.TypeFor[Object]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	unmarshaler = reflect.TypeFor[json.Unmarshaler]()
	marshaler   = reflect.TypeFor[json.Marshaler]()
)

// field describes one JSON-tagged field of a config struct.
type field struct {
	name      string
	index     int
	omitEmpty bool
}

// structFields lists the JSON fields of t in declaration order and the index
// of its embedded Object (-1 when there is none).
func structFields(t reflect.Type) (fields []field, object int) {
	object = -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == objectType && f.Anonymous {
			object = i
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fields = append(fields, field{name: name, index: i, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	return fields, object
}

// decoder turns raw JSON into typed config, recording every problem it meets
// instead of stopping at the first, so one run of `atoll app validate` shows
// all of them.
type decoder struct {
	file  string
	probs *problemList
}

func (d decoder) fail(path, reason string, args ...any) {
	d.probs.add(d.file, path, fmt.Sprintf(reason, args...))
}

// decode fills v (a pointer) from raw. It reports whether no problem was
// found.
func (d decoder) decode(raw json.RawMessage, path string, v any) bool {
	before := d.probs.len()
	d.value(raw, path, reflect.ValueOf(v).Elem())
	return d.probs.len() == before
}

func (d decoder) value(raw json.RawMessage, path string, v reflect.Value) {
	raw = bytes.TrimSpace(raw)
	t := v.Type()
	switch {
	case t == rawType:
		// Kept compact, so that two files that differ only in layout load
		// into equal models.
		v.SetBytes(compact(raw))
		return
	case t.Kind() == reflect.Pointer:
		if string(raw) == "null" {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.value(raw, path, p.Elem())
		v.Set(p)
		return
	case reflect.PointerTo(t).Implements(unmarshaler):
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			d.fail(path, "%s", err.Error())
		}
		return
	case t.Kind() == reflect.Struct:
		d.object(raw, path, v)
		return
	case t.Kind() == reflect.Slice:
		if string(raw) == "null" {
			v.SetZero()
			return
		}
		var items []json.RawMessage
		if kindOf(raw) != "array" {
			d.fail(path, "expected an array, got %s", kindOf(raw))
			return
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			d.fail(path, "%s", err.Error())
			return
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			d.value(item, path+"["+strconv.Itoa(i)+"]", s.Index(i))
		}
		v.Set(s)
		return
	case t.Kind() == reflect.Map:
		if string(raw) == "null" {
			v.SetZero()
			return
		}
		pairs, ok := d.pairs(raw, path)
		if !ok {
			return
		}
		m := reflect.MakeMapWithSize(t, len(pairs))
		for _, p := range pairs {
			e := reflect.New(t.Elem()).Elem()
			d.value(p.value, joinPath(path, p.key), e)
			m.SetMapIndex(reflect.ValueOf(p.key).Convert(t.Key()), e)
		}
		v.Set(m)
		return
	}
	// Scalars: strings, booleans, numbers.
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		d.fail(path, "expected %s, got %s", jsonKindOf(t), describe(raw))
	}
}

// object decodes a JSON object into a struct that embeds Object.
func (d decoder) object(raw json.RawMessage, path string, v reflect.Value) {
	fields, objIdx := structFields(v.Type())
	pairs, ok := d.pairs(raw, path)
	if !ok {
		return
	}
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	var obj *Object
	if objIdx >= 0 {
		obj = v.Field(objIdx).Addr().Interface().(*Object)
		obj.keys = make([]string, 0, len(pairs))
	}
	for _, p := range pairs {
		if obj != nil {
			obj.keys = append(obj.keys, p.key)
		}
		if f, ok := byName[p.key]; ok {
			d.value(p.value, joinPath(path, p.key), v.Field(f.index))
			continue
		}
		if obj != nil {
			if obj.Extra == nil {
				obj.Extra = make(map[string]json.RawMessage)
			}
			obj.Extra[p.key] = compact(p.value)
		}
	}
}

type pair struct {
	key   string
	value json.RawMessage
}

// pairs splits a JSON object into its members in document order, reporting
// a non-object and duplicate keys.
func (d decoder) pairs(raw json.RawMessage, path string) ([]pair, bool) {
	if kindOf(raw) != "object" {
		d.fail(path, "expected an object, got %s", describe(raw))
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		d.fail(path, "%s", err.Error())
		return nil, false
	}
	var out []pair
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			d.fail(path, "%s", err.Error())
			return nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			d.fail(path, "%s", err.Error())
			return nil, false
		}
		if seen[key] {
			d.fail(joinPath(path, key), "duplicate key")
			continue
		}
		seen[key] = true
		out = append(out, pair{key, val})
	}
	return out, true
}

// kindOf names the JSON type of raw from its first byte.
func kindOf(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// describe names the JSON type of raw for a problem message, quoting short
// strings so that a mistyped template or word is recognisable.
func describe(raw []byte) string {
	k := kindOf(raw)
	if k == "string" && len(raw) <= 40 {
		return "string " + string(bytes.TrimSpace(raw))
	}
	if k == "array" || k == "object" || k == "null" {
		return "an " + k
	}
	return "a " + k
}

func jsonKindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	}
	return t.String()
}

// joinPath extends a JSON path with an object key; keys that are not plain
// identifiers are quoted so that the path stays unambiguous.
func joinPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r == '%' || r == '$' || r == '/' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			plain = false
			break
		}
	}
	if !plain {
		key = "[" + strconv.Quote(key) + "]"
		return path + key
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// encodeJSON writes v as indented JSON the way exports look: four-space
// indentation, no HTML escaping, known keys in the order they were read.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "    "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func encodeValue(buf *bytes.Buffer, v reflect.Value) error {
	if !v.IsValid() {
		buf.WriteString("null")
		return nil
	}
	t := v.Type()
	switch {
	case t == rawType:
		if v.Len() == 0 {
			buf.WriteString("null")
			return nil
		}
		return json.Compact(buf, v.Bytes())
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeValue(buf, v.Elem())
	case t.Implements(marshaler):
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return err
		}
		return json.Compact(buf, b)
	case t.Kind() == reflect.Struct:
		return encodeObject(buf, v)
	case t.Kind() == reflect.Slice:
		buf.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, v.Index(i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case t.Kind() == reflect.Map:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			if err := encodeValue(buf, v.MapIndex(reflect.ValueOf(k).Convert(t.Key()))); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case t.Kind() == reflect.String:
		writeString(buf, v.String())
		return nil
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

func encodeObject(buf *bytes.Buffer, v reflect.Value) error {
	fields, objIdx := structFields(v.Type())
	var obj Object
	if objIdx >= 0 {
		obj = v.Field(objIdx).Interface().(Object)
	}
	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	done := map[string]bool{}
	first := true
	emit := func(key string, write func() error) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		done[key] = true
		writeString(buf, key)
		buf.WriteByte(':')
		return write()
	}
	buf.WriteByte('{')
	// Keys as read first, so a round trip keeps the file's order.
	for _, k := range obj.keys {
		if done[k] {
			continue
		}
		if f, ok := byName[k]; ok {
			if err := emit(k, func() error { return encodeValue(buf, v.Field(f.index)) }); err != nil {
				return err
			}
		} else if raw, ok := obj.Extra[k]; ok {
			if err := emit(k, func() error { return encodeValue(buf, reflect.ValueOf(raw)) }); err != nil {
				return err
			}
		}
	}
	for _, f := range fields {
		if done[f.name] {
			continue
		}
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if fv.Kind() == reflect.Slice && fv.IsNil() && fv.Type() != rawType {
			// A list written for its own sake is an empty list, not null.
			if err := emit(f.name, func() error { buf.WriteString("[]"); return nil }); err != nil {
				return err
			}
			continue
		}
		if err := emit(f.name, func() error { return encodeValue(buf, fv) }); err != nil {
			return err
		}
	}
	rest := make([]string, 0, len(obj.Extra))
	for k := range obj.Extra {
		if !done[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		raw := obj.Extra[k]
		if err := emit(k, func() error { return encodeValue(buf, reflect.ValueOf(raw)) }); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Struct:
		if om, ok := v.Interface().(json.Marshaler); ok {
			b, err := om.MarshalJSON()
			return err == nil && (string(b) == "null" || string(b) == "[]")
		}
	}
	return v.IsZero()
}

// writeString writes s as a JSON string without the HTML escaping that
// encoding/json applies by default (exports contain URLs with '&').
func writeString(buf *bytes.Buffer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
}

// compact returns raw without insignificant whitespace (raw is valid JSON).
func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// rewriteObject returns the JSON object raw with the members in set
// replaced (or appended when absent) and those in drop removed, keeping
// the order of the rest.
func rewriteObject(raw []byte, set map[string]json.RawMessage, drop map[string]bool) []byte {
	var probs problemList
	pairs, ok := decoder{probs: &probs}.pairs(raw, "")
	if !ok {
		return raw
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(k string, v []byte) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		writeString(&b, k)
		b.WriteByte(':')
		b.Write(v)
	}
	done := map[string]bool{}
	for _, p := range pairs {
		if drop[p.key] {
			continue
		}
		if v, ok := set[p.key]; ok {
			put(p.key, v)
			done[p.key] = true
			continue
		}
		put(p.key, compact(p.value))
	}
	for _, k := range sortedKeys(set) {
		if !done[k] {
			put(k, set[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}
