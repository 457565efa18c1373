package ejson

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// same reports whether two decoded values are identical: same types,
// same keys in the same order, doubles equal bit for bit (so NaN equals
// NaN and -0 differs from 0), nil slices apart from empty ones.
func same(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !same(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return reflect.DeepEqual(a, b)
}

// driverParse is the reference: the driver's reading of b.
func driverParse(b []byte) (bson.D, error) {
	var d bson.D
	err := bson.UnmarshalExtJSON(b, false, &d)
	return d, err
}

// checkParse fails t unless ParseDocument, and the fast path when it
// accepts b, give exactly what the driver gives.
func checkParse(t testing.TB, b []byte) {
	t.Helper()
	want, wantErr := driverParse(b)
	if fast, ok := parseFast(b); ok && (wantErr != nil || !same(fast, want)) {
		t.Fatalf("fast path on %q:\n got    %#v\n driver %#v, %v", b, fast, want, wantErr)
	}
	got, err := ParseDocument(b)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || !same(got, want) {
		t.Fatalf("%q:\n got    %#v, %v\n driver %#v, %v", b, got, err, want, wantErr)
	}
}

// parseKeys are the member names of random documents: plain ones,
// query and update operators, and every wrapper key, so that documents
// which look like wrappers without being well-formed ones are written.
var parseKeys = []string{"a", "name", "", "é", "q\"k", "nul\x00", "bad\xff", "$gt", "$in", "$set", "$or", "$regex",
	"$options", "$type", "$oid", "$numberInt", "$numberLong", "$numberDouble", "$date", "$undefined", "$binary",
	"$numberDecimal", "$timestamp", "$minKey", "$uuid", "$code", "$scope", "$symbol", "$regularExpression"}

// randomDoc builds a random document of the values requests carry,
// plus the other BSON types, which the fast path leaves to the driver.
func randomDoc(r *rand.Rand, depth int) bson.D {
	d := bson.D{}
	for i := r.IntN(6); i > 0; i-- {
		d = append(d, bson.E{Key: parseKeys[r.IntN(len(parseKeys))], Value: randomParseValue(r, depth+1)})
	}
	return d
}

func randomParseValue(r *rand.Rand, depth int) any {
	k := r.IntN(20)
	if depth > 5 && k < 3 {
		k = 3 + r.IntN(17)
	}
	switch k {
	case 0, 1:
		return randomDoc(r, depth)
	case 2:
		a := bson.A{}
		for i := r.IntN(5); i > 0; i-- {
			a = append(a, randomParseValue(r, depth+1))
		}
		return a
	case 3:
		return int32(r.IntN(600) - 300)
	case 4:
		return int64(r.Uint64()) >> r.IntN(64)
	case 5:
		return int32(r.Uint32())
	case 6:
		return bson.DateTime(int64(r.Uint64()) >> r.IntN(64))
	case 7:
		return bson.DateTime(1_700_000_000_000 + r.Int64N(1e12))
	case 8:
		return bson.Decimal128{}
	default:
		return randomValue(r, depth)
	}
}

// writings returns the texts a document is sent as: canonical (ours and
// the driver's) and relaxed.
func writings(t testing.TB, d bson.D) [][]byte {
	t.Helper()
	ours, err := Append(nil, d)
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		t.Fatal(err)
	}
	relaxed, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{ours, canonical, relaxed}
}

// mutationBytes are the bytes mutations insert: JSON syntax and the
// characters of numbers, escapes and wrapper keys.
const mutationBytes = "{}[]\":,\\ \t\n0123456789-+.eEu$tfnlxX\x00\xff"

// mutate changes a few random bytes of b.
func mutate(r *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	for n := 1 + r.IntN(3); n > 0 && len(b) > 0; n-- {
		i := r.IntN(len(b))
		c := mutationBytes[r.IntN(len(mutationBytes))]
		switch r.IntN(3) {
		case 0:
			b[i] = c
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			b = append(b[:i], append([]byte{c}, b[i:]...)...)
		}
	}
	return b
}

// TestParseMatchesDriver: for random documents written canonical and
// relaxed, and for random mutations of those texts, ParseDocument gives
// what the driver gives, failing exactly when it fails.
func TestParseMatchesDriver(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fast, mutants, failed := 0, 0, 0
	for i := 0; i < 4000; i++ {
		for _, text := range writings(t, randomDoc(r, 0)) {
			checkParse(t, text)
			if _, ok := parseFast(text); ok {
				fast++
			}
			for j := 0; j < 3; j++ {
				m := mutate(r, text)
				checkParse(t, m)
				mutants++
				if _, err := driverParse(m); err != nil {
					failed++
				}
			}
		}
	}
	// The generator must keep exercising both paths.
	t.Logf("fast path on %d of 12000 texts; driver failed on %d of %d mutants", fast, failed, mutants)
	if fast < 3000 || failed < mutants/4 {
		t.Fatalf("fast path on %d of 12000 texts; driver failed on %d of %d mutants", fast, failed, mutants)
	}
}

const oidHex = "6745d1c2a1b2c3d4e5f60718"

// Request bodies the client API sees most, used by the fast-path test
// and the benchmarks.
var (
	callBody    = []byte(`{"name":"trivial","arguments":[]}`)
	findOneBody = []byte(`{"database":"db","collection":"items","filter":{"owner_id":"` + oidHex +
		`","n":{"$numberInt":"42"}}}`)
	insertManyBody = func() []byte {
		var docs bson.A
		for i := 0; i < 20; i++ {
			docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner_id", Value: oidHex},
				{Key: "n", Value: int32(i)}, {Key: "score", Value: float64(i) / 4},
				{Key: "at", Value: bson.DateTime(1_700_000_000_000 + int64(i))}, {Key: "title", Value: "item title"},
				{Key: "tags", Value: bson.A{"a", bson.A{int32(1), int64(1) << 40}}}, {Key: "gone", Value: bson.Undefined{}}})
		}
		b, err := Append(nil, bson.D{{Key: "database", Value: "db"}, {Key: "collection", Value: "items"},
			{Key: "documents", Value: docs}})
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// TestFastPathTaken: the common request bodies are read without the
// driver, and bodies with wrappers the reader leaves alone are not.
func TestFastPathTaken(t *testing.T) {
	for name, b := range map[string][]byte{"call": callBody, "findone": findOneBody, "insertmany": insertManyBody,
		"operators": []byte(`{"filter":{"n":{"$gt":1,"$in":[1,2]},"$or":[{"a":{"$regex":"^x","$options":"i"}}]},` +
			`"update":{"$set":{"when":{"$date":{"$numberLong":"-5"}}}}}`),
		"relaxed": []byte(`{"n":1,"big":12345678901,"f":-1.5e3,"s":"\u00e9\ud83c\udf89\n","t":true,"z":null}`),
	} {
		if _, ok := parseFast(b); !ok {
			t.Errorf("%s: fast path refused %s", name, b)
		}
		checkParse(t, b)
	}
	for name, b := range map[string][]byte{
		"binary":       []byte(`{"b":{"$binary":{"base64":"AQID","subType":"00"}}}`),
		"decimal":      []byte(`{"d":{"$numberDecimal":"1.5"}}`),
		"relaxed date": []byte(`{"at":{"$date":"2024-01-02T03:04:05Z"}}`),
		"numeric date": []byte(`{"at":{"$date":1}}`),
	} {
		if _, ok := parseFast(b); ok {
			t.Errorf("%s: fast path took %s", name, b)
		}
		checkParse(t, b)
	}
}

// parseEdges are hand-picked inputs, each checked against the driver.
var parseEdges = []string{
	`{}`, ` {} `, "\t{\n}\r\n", `{"a":{}}`, `{"a":[]}`, `{"a":[{}, [], [[]]]}`,
	` { "a" : [ 1 , { "b" : null } ] , "c" : { "$numberInt" : "7" } } `,
	`{"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83c\udf89"}`, `{"\u0000":"\u0000"}`, "{\"raw\":\"\x01\x1f\"}",
	"{\"bad\":\"\xff\xc3\"}", `{"lone":"\ud800"}`, `{"lone":"\udc00\ud800"}`, `{"lone":"\udc00\ud800\udc00"}`, `{"half":"\ud800x"}`,
	`{"pair":"\ud800\u0041"}`, `{"hex":"\u00zz"}`, `{"short":"\u00"}`, `{"esc":"\x"}`,
	`{"a":1,"a":2}`, `{"$oid":"` + oidHex + `"}`, `{"n":{"$gt":5}}`, `{"$or":[{"a":1},{"b":{"$in":[1,2]}}]}`,
	`{"a":{"$regex":"x","$options":"i"}}`, `{"a":{"$type":"string"}}`, `{"a":{"x":1,"$oid":"` + oidHex + `"}}`,
	`{"a":{"\u0024oid":"` + oidHex + `"}}`, `{"a":{"$date":{"\u0024numberLong":"1"}}}`, `{"a":{"$oid":1}}`,
	`{"a":{"$oid":"` + strings.ToUpper(oidHex) + `"}}`, `{"a":{"$oid":"` + oidHex[1:] + `"}}`,
	`{"a":{"$oid":"` + oidHex + `","x":1}}`, `{"a":{"$oid":"` + oidHex + `",}}`,
	`{"a":{"$numberInt":"+42"}}`, `{"a":{"$numberInt":"042"}}`, `{"a":{"$numberInt":"2147483648"}}`,
	`{"a":{"$numberInt":"-2147483648"}}`, `{"a":{"$numberInt":"4\u0032"}}`, `{"a":{"$numberInt":42}}`,
	`{"a":{"$numberLong":"9223372036854775807"}}`, `{"a":{"$numberLong":"9223372036854775808"}}`,
	`{"a":{"$numberLong":"1_0"}}`, `{"a":{"$numberDouble":"1.5"}}`, `{"a":{"$numberDouble":"-0.0"}}`,
	`{"a":{"$numberDouble":"Infinity"}}`, `{"a":{"$numberDouble":"-Infinity"}}`, `{"a":{"$numberDouble":"NaN"}}`,
	`{"a":{"$numberDouble":"inf"}}`, `{"a":{"$numberDouble":"0x1p-2"}}`, `{"a":{"$numberDouble":"1e400"}}`,
	`{"a":{"$numberDouble":1.5}}`, `{"a":{"$date":{"$numberLong":"1700000000000"}}}`,
	`{"a":{"$date":{"$numberLong":"1"},"x":1}}`, `{"a":{"$date":{"$numberLong":"1","x":1}}}`,
	`{"a":{"$date":{"$numberInt":"1"}}}`, `{"a":{"$date":"2024-01-02T03:04:05.678Z"}}`, `{"a":{"$date":-1}}`,
	`{"a":{"$undefined":true}}`, `{"a":{"$undefined":false}}`, `{"a":{"$undefined":1}}`,
	`{"a":{"$binary":{"base64":"AQID","subType":"04"}}}`, `{"a":{"$uuid":"00000000-0000-0000-0000-000000000000"}}`,
	`{"a":{"$minKey":1}}`, `{"a":{"$timestamp":{"t":1,"i":2}}}`, `{"a":{"$code":"x","$scope":{}}}`,
	`{"a":-0}`, `{"a":-0.0}`, `{"a":0}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e5}`, `{"a":1E+5}`, `{"a":1e-400}`,
	`{"a":1e400}`, `{"a":-1e400}`, `{"a":2147483647}`, `{"a":2147483648}`, `{"a":-2147483649}`,
	`{"a":9223372036854775807}`, `{"a":9223372036854775808}`, `{"a":-9223372036854775809}`,
	`{"a":123456789012345678901234567890}`, `{"a":-}`, `{"a":+1}`, `{"a":1x}`, `{"a":truex}`, `{"a":nul}`,
	`{"a":true,"b":false,"c":null}`, `{"a":1}x`, `{"a":1} {}`, `{"a":1}}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":[1,]}`,
	`[1]`, `[]`, `1`, `"s"`, `null`, ``, ` `, `{`, `{"a"`, `{"a":`, `{"a":"`, "\ufeff{}",
	strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth),
	strings.Repeat(`{"a":`, MaxDepth+1) + `1` + strings.Repeat(`}`, MaxDepth+1),
	`{"a":` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300) + `}`,
	strings.Repeat(`{"a":`, MaxDepth-1) + `{"$date":{"$numberLong":"1"}}` + strings.Repeat(`}`, MaxDepth-1),
}

// The driver reads its input in 512-byte chunks; these put literals,
// numbers and escapes across the first boundary.
func init() {
	for pad := 490; pad <= 520; pad++ {
		parseEdges = append(parseEdges, `{"p":"`+strings.Repeat("x", pad)+
			`","t":true,"n":-12.5e1,"u":"\u00e9\ud83c\udf89","f":false,"z":null,"i":7,"o":{"$numberInt":"3"}}`)
	}
}

// TestParseEdges: hand-picked inputs read exactly as the driver reads
// them.
func TestParseEdges(t *testing.T) {
	for _, s := range parseEdges {
		checkParse(t, []byte(s))
	}
}

// FuzzParseDocument: any input reads exactly as the driver reads it.
func FuzzParseDocument(f *testing.F) {
	for _, s := range parseEdges {
		f.Add([]byte(s))
	}
	for _, b := range [][]byte{callBody, findOneBody, insertManyBody} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
	})
}

var benchBodies = []struct {
	name string
	body []byte
}{{"call", callBody}, {"findone", findOneBody}, {"insertmany", insertManyBody}}

// BenchmarkParseDocument and BenchmarkParseDriver read the same request
// bodies with this package and with the driver.
func BenchmarkParseDocument(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseDocument(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseDriver(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := driverParse(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
