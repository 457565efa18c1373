package mql

import (
	"math"
	"math/big"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// updZeroLike is the zero of v's numeric type: what $mul writes to a
// missing field.
func updZeroLike(v any) any {
	switch v.(type) {
	case int32:
		return int32(0)
	case int64:
		return int64(0)
	case bson.Decimal128:
		d, _ := bson.ParseDecimal128("0")
		return d
	}
	return float64(0)
}

// updAdd adds two numbers with MongoDB's type promotion: int32 overflows
// into int64, int64 overflow is an error (ok false), doubles win over
// integers and decimals over everything.
func updAdd(a, b any) (any, bool) {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return updNarrow(int64(x) + int64(y)), true
		case int64:
			return updAddInt64(int64(x), y)
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return updAddInt64(x, int64(y))
		case int64:
			return updAddInt64(x, y)
		}
	}
	if updIsDecimal(a) || updIsDecimal(b) {
		return updDecimalArith(a, b, false), true
	}
	fa, _ := ToFloat64(a)
	fb, _ := ToFloat64(b)
	return fa + fb, true
}

// updMul multiplies two numbers with the same promotion rules as updAdd.
func updMul(a, b any) (any, bool) {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return updNarrow(int64(x) * int64(y)), true
		case int64:
			return updMulInt64(int64(x), y)
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return updMulInt64(x, int64(y))
		case int64:
			return updMulInt64(x, y)
		}
	}
	if updIsDecimal(a) || updIsDecimal(b) {
		return updDecimalArith(a, b, true), true
	}
	fa, _ := ToFloat64(a)
	fb, _ := ToFloat64(b)
	return fa * fb, true
}

func updNarrow(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

func updAddInt64(x, y int64) (any, bool) {
	s := x + y
	if (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0) {
		return nil, false
	}
	return s, true
}

func updMulInt64(x, y int64) (any, bool) {
	if x == 0 || y == 0 {
		return int64(0), true
	}
	p := x * y
	if p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
		return nil, false
	}
	return p, true
}

func updIsDecimal(v any) bool { _, ok := v.(bson.Decimal128); return ok }

// updDecimalArith adds or multiplies where one side is a decimal: the
// other side converts to decimal (a double rounded to 15 significant
// digits, as MongoDB converts it) and the exact result is rounded to 34
// digits, half to even.
func updDecimalArith(a, b any, mul bool) bson.Decimal128 {
	xa, ok1 := updToDecParts(a)
	xb, ok2 := updToDecParts(b)
	if !ok1 || !ok2 {
		// NaN or an infinity is involved: doubles get the same answer.
		fa, _ := ToFloat64(a)
		fb, _ := ToFloat64(b)
		r := fa + fb
		if mul {
			r = fa * fb
		}
		return updDecimalSpecial(r)
	}
	var coef *big.Int
	var exp int
	if mul {
		coef = new(big.Int).Mul(xa.coef, xb.coef)
		exp = xa.exp + xb.exp
	} else {
		ca, cb := xa.coef, xb.coef
		exp = xa.exp
		if xb.exp < exp {
			exp = xb.exp
		}
		ca = updScale(ca, xa.exp-exp)
		cb = updScale(cb, xb.exp-exp)
		coef = new(big.Int).Add(ca, cb)
	}
	return updDecimalRound(coef, exp)
}

type updDecParts struct {
	coef *big.Int
	exp  int
}

func updToDecParts(v any) (updDecParts, bool) {
	switch x := v.(type) {
	case int32:
		return updDecParts{big.NewInt(int64(x)), 0}, true
	case int64:
		return updDecParts{big.NewInt(x), 0}, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return updDecParts{}, false
		}
		d, err := bson.ParseDecimal128(strconv.FormatFloat(x, 'e', 14, 64))
		if err != nil {
			return updDecParts{}, false
		}
		return updToDecParts(d)
	case bson.Decimal128:
		if x.IsNaN() || x.IsInf() != 0 {
			return updDecParts{}, false
		}
		c, e, err := x.BigInt()
		if err != nil {
			return updDecParts{}, false
		}
		return updDecParts{c, e}, true
	}
	return updDecParts{}, false
}

func updScale(c *big.Int, digits int) *big.Int {
	if digits == 0 {
		return c
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	return new(big.Int).Mul(c, p)
}

var updMaxCoef = new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(34), nil), big.NewInt(1))

// updDecimalRound rounds coef·10^exp to a Decimal128 (34 digits, half to
// even), overflowing to an infinity.
func updDecimalRound(coef *big.Int, exp int) bson.Decimal128 {
	ten := big.NewInt(10)
	for new(big.Int).Abs(coef).Cmp(updMaxCoef) > 0 || exp < bson.MinDecimal128Exp {
		q, r := new(big.Int).QuoRem(coef, ten, new(big.Int))
		r.Abs(r)
		switch {
		case r.Int64() > 5, r.Int64() == 5 && q.Bit(0) == 1:
			if coef.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		coef = q
		exp++
		if coef.Sign() == 0 && exp >= bson.MinDecimal128Exp {
			break
		}
	}
	if d, ok := bson.ParseDecimal128FromBigInt(coef, exp); ok {
		return d
	}
	if coef.Sign() < 0 {
		return updDecimalSpecial(math.Inf(-1))
	}
	return updDecimalSpecial(math.Inf(1))
}

func updDecimalSpecial(f float64) bson.Decimal128 {
	s := "NaN"
	switch {
	case math.IsInf(f, 1):
		s = "Infinity"
	case math.IsInf(f, -1):
		s = "-Infinity"
	case !math.IsNaN(f):
		s = strconv.FormatFloat(f, 'e', 14, 64)
	}
	d, _ := bson.ParseDecimal128(s)
	return d
}

// updBSONSize measures v encoded as BSON without encoding it; ok is false
// when v nests deeper than MaxDepth as CheckDepth counts it (the walk
// stops there).
func updBSONSize(v any, depth int) (int, bool) {
	switch x := v.(type) {
	case bson.D:
		if len(x) > 0 && depth >= MaxDepth {
			return 0, false
		}
		n := 5
		for _, e := range x {
			s, ok := updBSONSize(e.Value, depth+1)
			if !ok {
				return 0, false
			}
			n += 2 + len(e.Key) + s
		}
		return n, true
	case bson.A:
		if len(x) > 0 && depth >= MaxDepth {
			return 0, false
		}
		n := 5
		for i, e := range x {
			s, ok := updBSONSize(e, depth+1)
			if !ok {
				return 0, false
			}
			n += 2 + updDigits(i) + s
		}
		return n, true
	case string:
		return 5 + len(x), true
	case bson.Symbol:
		return 5 + len(x), true
	case bson.JavaScript:
		return 5 + len(x), true
	case int32:
		return 4, true
	case int64, float64, bson.DateTime, bson.Timestamp:
		return 8, true
	case bool:
		return 1, true
	case bson.ObjectID:
		return 12, true
	case bson.Decimal128:
		return 16, true
	case bson.Binary:
		if x.Subtype == 2 {
			return 9 + len(x.Data), true
		}
		return 5 + len(x.Data), true
	case bson.Regex:
		return len(x.Pattern) + len(x.Options) + 2, true
	case bson.DBPointer:
		return 5 + len(x.DB) + 12, true
	case bson.CodeWithScope:
		s := 5
		ok := true
		if d, isDoc := x.Scope.(bson.D); isDoc {
			s, ok = updBSONSize(d, depth+1)
		}
		return 4 + 5 + len(x.Code) + s, ok
	}
	return 0, true
}

func updDigits(i int) int {
	n := 1
	for i >= 10 {
		i /= 10
		n++
	}
	return n
}
