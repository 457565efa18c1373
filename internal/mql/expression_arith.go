package mql

import (
	"math"
	"math/big"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Numeric kinds in MongoDB's promotion order: an operation on two numbers
// happens in the wider kind of the two.
const (
	kindInt32 = iota
	kindInt64
	kindDouble
	kindDecimal
)

func numKind(v any) int {
	switch v.(type) {
	case int32:
		return kindInt32
	case int64:
		return kindInt64
	case float64:
		return kindDouble
	}
	return kindDecimal
}

// intResult narrows an int64 back to int32 when both operands were int32
// and the value fits, as MongoDB does.
func intResult(n int64, kind int) any {
	if kind == kindInt32 && n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// decimal is an exact decimal value: coef × 10^exp. nan and inf cover the
// special values.
type decimal struct {
	coef *big.Int
	exp  int
	nan  bool
	inf  int
}

func toDecimal(v any) decimal {
	switch x := v.(type) {
	case int32:
		return decimal{coef: big.NewInt(int64(x))}
	case int64:
		return decimal{coef: big.NewInt(x)}
	case float64:
		switch {
		case math.IsNaN(x):
			return decimal{nan: true}
		case math.IsInf(x, 0):
			if x > 0 {
				return decimal{inf: 1}
			}
			return decimal{inf: -1}
		}
		// MongoDB converts doubles to decimals with 15 significant digits.
		return parseDecimalString(strconv.FormatFloat(x, 'e', 14, 64))
	case bson.Decimal128:
		if x.IsNaN() {
			return decimal{nan: true}
		}
		if i := x.IsInf(); i != 0 {
			return decimal{inf: i}
		}
		coef, exp, err := x.BigInt()
		if err != nil {
			return decimal{nan: true}
		}
		return decimal{coef: coef, exp: exp}
	}
	return decimal{nan: true}
}

func parseDecimalString(s string) decimal {
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		return decimal{nan: true}
	}
	return toDecimal(d)
}

// toDecimal128 rounds to 34 significant digits (half to even) and packs.
func (d decimal) toDecimal128() bson.Decimal128 {
	switch {
	case d.nan:
		r, _ := bson.ParseDecimal128("NaN")
		return r
	case d.inf > 0:
		r, _ := bson.ParseDecimal128("Infinity")
		return r
	case d.inf < 0:
		r, _ := bson.ParseDecimal128("-Infinity")
		return r
	}
	coef := new(big.Int).Set(d.coef)
	exp := d.exp
	// Drop excess digits in one division, rounding half to even.
	if k := max(len(new(big.Int).Abs(coef).String())-34, -6176-exp); k > 0 {
		coef, exp = divRoundEven(coef, k), exp+k
		if len(new(big.Int).Abs(coef).String()) > 34 {
			coef, exp = divRoundEven(coef, 1), exp+1
		}
	}
	r, ok := bson.ParseDecimal128FromBigInt(coef, exp)
	if !ok {
		if coef.Sign() < 0 {
			return decimal{inf: -1}.toDecimal128()
		}
		return decimal{inf: 1}.toDecimal128()
	}
	return r
}

func (d decimal) rat() *big.Rat {
	r := new(big.Rat).SetInt(d.coef)
	if d.exp != 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d.exp))), nil)
		if d.exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(p))
		} else {
			r.Quo(r, new(big.Rat).SetInt(p))
		}
	}
	return r
}

func scaleCoef(c *big.Int, by int) *big.Int {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(by)), nil)
	return new(big.Int).Mul(c, p)
}

func decAdd(a, b decimal) decimal {
	switch {
	case a.nan || b.nan:
		return decimal{nan: true}
	case a.inf != 0 && b.inf != 0 && a.inf != b.inf:
		return decimal{nan: true}
	case a.inf != 0:
		return a
	case b.inf != 0:
		return b
	}
	exp := min(a.exp, b.exp)
	x := scaleCoef(a.coef, a.exp-exp)
	y := scaleCoef(b.coef, b.exp-exp)
	return decimal{coef: x.Add(x, y), exp: exp}
}

func decNeg(a decimal) decimal {
	if a.coef != nil {
		a.coef = new(big.Int).Neg(a.coef)
	}
	a.inf = -a.inf
	return a
}

func decMul(a, b decimal) decimal {
	switch {
	case a.nan || b.nan:
		return decimal{nan: true}
	case a.inf != 0 || b.inf != 0:
		sa, sb := a.sign(), b.sign()
		if sa == 0 || sb == 0 {
			return decimal{nan: true}
		}
		return decimal{inf: sa * sb}
	}
	return decimal{coef: new(big.Int).Mul(a.coef, b.coef), exp: a.exp + b.exp}
}

func (d decimal) sign() int {
	if d.inf != 0 {
		return d.inf
	}
	if d.coef == nil {
		return 0
	}
	return d.coef.Sign()
}

// decQuo divides with 34 significant digits, then drops trailing zeros
// down to the ideal exponent a.exp-b.exp as IEEE 754 decimal division does.
func decQuo(a, b decimal) decimal {
	switch {
	case a.nan || b.nan:
		return decimal{nan: true}
	case a.inf != 0 && b.inf != 0:
		return decimal{nan: true}
	case a.inf != 0:
		return decimal{inf: a.inf * signOr1(b.sign())}
	case b.inf != 0:
		return decimal{coef: big.NewInt(0)}
	case b.sign() == 0:
		if a.sign() == 0 {
			return decimal{nan: true}
		}
		return decimal{inf: a.sign()}
	}
	ideal := a.exp - b.exp
	// Scale the dividend so the integer quotient has at least 35 digits.
	shift := 40 + len(b.coef.String()) - len(a.coef.String())
	if shift < 0 {
		shift = 0
	}
	num := scaleCoef(a.coef, shift)
	q, r := new(big.Int).QuoRem(num, b.coef, new(big.Int))
	exp := ideal - shift
	if r.Sign() != 0 {
		// Inexact: keep a sticky digit so rounding sees the remainder.
		q = scaleCoef(q, 1)
		if q.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
		exp--
	} else {
		ten := big.NewInt(10)
		for exp < ideal {
			qq, rr := new(big.Int).QuoRem(q, ten, new(big.Int))
			if rr.Sign() != 0 {
				break
			}
			q = qq
			exp++
		}
	}
	d := decimal{coef: q, exp: exp}
	return toDecimal(d.toDecimal128())
}

func signOr1(s int) int {
	if s < 0 {
		return -1
	}
	return 1
}

func (d decimal) float() float64 {
	switch {
	case d.nan:
		return math.NaN()
	case d.inf != 0:
		return math.Inf(d.inf)
	}
	f, _ := d.rat().Float64()
	return f
}

// addNumbers adds two numbers with MongoDB's type promotion: int32
// overflows to int64, int64 overflows to double.
func addNumbers(a, b any) any {
	k := max(numKind(a), numKind(b))
	switch k {
	case kindInt32, kindInt64:
		x, _ := ToInt64(a)
		y, _ := ToInt64(b)
		s := x + y
		if (s > x) == (y > 0) {
			return intResult(s, k)
		}
		return float64(x) + float64(y)
	case kindDouble:
		x, _ := ToFloat64(a)
		y, _ := ToFloat64(b)
		return x + y
	}
	return decAdd(toDecimal(a), toDecimal(b)).toDecimal128()
}

func subNumbers(a, b any) any {
	k := max(numKind(a), numKind(b))
	switch k {
	case kindInt32, kindInt64:
		x, _ := ToInt64(a)
		y, _ := ToInt64(b)
		s := x - y
		if (s < x) == (y > 0) {
			return intResult(s, k)
		}
		return float64(x) - float64(y)
	case kindDouble:
		x, _ := ToFloat64(a)
		y, _ := ToFloat64(b)
		return x - y
	}
	return decAdd(toDecimal(a), decNeg(toDecimal(b))).toDecimal128()
}

func mulNumbers(a, b any) any {
	k := max(numKind(a), numKind(b))
	switch k {
	case kindInt32, kindInt64:
		x, _ := ToInt64(a)
		y, _ := ToInt64(b)
		hi, lo := new(big.Int).Mul(big.NewInt(x), big.NewInt(y)), int64(0)
		if hi.IsInt64() {
			lo = hi.Int64()
			return intResult(lo, k)
		}
		return float64(x) * float64(y)
	case kindDouble:
		x, _ := ToFloat64(a)
		y, _ := ToFloat64(b)
		return x * y
	}
	return decMul(toDecimal(a), toDecimal(b)).toDecimal128()
}

func init() {
	operators["$add"] = opAdd
	operators["$subtract"] = nary(2, 2, evalSubtract)
	operators["$multiply"] = nary(0, -1, evalMultiply)
	operators["$divide"] = nary(2, 2, evalDivide)
	operators["$mod"] = nary(2, 2, evalMod)
	operators["$abs"] = unary(evalAbs)
	operators["$ceil"] = unary(func(n string, v any) (any, error) { return roundingFn(n, v, math.Ceil) })
	operators["$floor"] = unary(func(n string, v any) (any, error) { return roundingFn(n, v, math.Floor) })
	operators["$round"] = nary(1, 2, evalRound)
	operators["$trunc"] = nary(1, 2, evalRound)
	operators["$pow"] = nary(2, 2, evalPow)
	operators["$sqrt"] = unary(evalSqrt)
	operators["$exp"] = unary(evalExp)
	operators["$ln"] = unary(evalLn)
	operators["$log10"] = unary(evalLog10)
	operators["$log"] = nary(2, 2, evalLog)

	for _, op := range []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cmp"} {
		operators[op] = nary(2, 2, evalCompare)
	}
	operators["$and"] = opAndOr
	operators["$or"] = opAndOr
	operators["$not"] = unary(func(_ string, v any) (any, error) { return !Truthy(v), nil })
	operators["$cond"] = opCond
	operators["$ifNull"] = opIfNull
	operators["$switch"] = opSwitch
	operators["$literal"] = func(_ string, arg any, _ int) (exprFn, error) {
		return constant(Normalize(arg)), nil
	}
	operators["$let"] = opLet
}

func opAdd(name string, arg any, depth int) (exprFn, error) {
	fns, err := compileArgs(arg, depth)
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		vals, err := evalArgs(c, fns)
		if err != nil {
			return nil, err
		}
		return evalAdd(vals)
	}, nil
}

func evalAdd(vals []any) (any, error) {
	var sum any = int32(0)
	var date *bson.DateTime
	for _, v := range vals {
		switch x := v.(type) {
		case int32, int64, float64, bson.Decimal128:
			sum = addNumbers(sum, x)
		case bson.DateTime:
			if date != nil {
				return nil, Errorf(16612, "only one date allowed in an $add expression")
			}
			date = &x
		default:
			if isNullish(v) {
				return nil, nil
			}
			return nil, Errorf(CodeTypeMismatch, "$add only supports numeric or date types, not %s", TypeName(v))
		}
	}
	if date != nil {
		ms, err := dateOffset(sum)
		if err != nil {
			return nil, err
		}
		return bson.DateTime(int64(*date) + ms), nil
	}
	return sum, nil
}

// dateOffset turns a number added to a date into whole milliseconds,
// rounding doubles and decimals to the nearest integer.
func dateOffset(v any) (int64, error) {
	switch x := v.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	}
	f, _ := ToFloat64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
		return 0, Errorf(CodeOverflow, "date overflow in $add")
	}
	return int64(math.RoundToEven(f)), nil
}

func evalSubtract(name string, vals []any) (any, error) {
	a, b := vals[0], vals[1]
	if isNullish(a) || isNullish(b) {
		return nil, nil
	}
	if da, ok := a.(bson.DateTime); ok {
		switch y := b.(type) {
		case bson.DateTime:
			return int64(da) - int64(y), nil
		case int32, int64, float64, bson.Decimal128:
			ms, err := dateOffset(y)
			if err != nil {
				return nil, err
			}
			return bson.DateTime(int64(da) - ms), nil
		}
		return nil, Errorf(16613, "can't $subtract %s from Date", TypeName(b))
	}
	if !IsNumber(a) || !IsNumber(b) {
		return nil, Errorf(16556, "can't $subtract %s from %s", TypeName(b), TypeName(a))
	}
	return subNumbers(a, b), nil
}

func evalMultiply(name string, vals []any) (any, error) {
	var prod any = int32(1)
	for _, v := range vals {
		if isNullish(v) {
			return nil, nil
		}
		if !IsNumber(v) {
			return nil, Errorf(16555, "$multiply only supports numeric types, not %s", TypeName(v))
		}
		prod = mulNumbers(prod, v)
	}
	return prod, nil
}

func evalDivide(name string, vals []any) (any, error) {
	a, b := vals[0], vals[1]
	if isNullish(a) || isNullish(b) {
		return nil, nil
	}
	if !IsNumber(a) || !IsNumber(b) {
		return nil, Errorf(16609, "$divide only supports numeric types, not %s and %s", TypeName(a), TypeName(b))
	}
	if numKind(a) == kindDecimal || numKind(b) == kindDecimal {
		db := toDecimal(b)
		if db.sign() == 0 && !db.nan && db.inf == 0 {
			return nil, Errorf(CodeBadValue, "can't $divide by zero")
		}
		return decQuo(toDecimal(a), db).toDecimal128(), nil
	}
	x, _ := ToFloat64(a)
	y, _ := ToFloat64(b)
	if y == 0 {
		return nil, Errorf(CodeBadValue, "can't $divide by zero")
	}
	return x / y, nil
}

func evalMod(name string, vals []any) (any, error) {
	a, b := vals[0], vals[1]
	if isNullish(a) || isNullish(b) {
		return nil, nil
	}
	if !IsNumber(a) || !IsNumber(b) {
		return nil, Errorf(16611, "$mod only supports numeric types, not %s and %s", TypeName(a), TypeName(b))
	}
	k := max(numKind(a), numKind(b))
	switch k {
	case kindInt32, kindInt64:
		x, _ := ToInt64(a)
		y, _ := ToInt64(b)
		if y == 0 {
			return nil, Errorf(16610, "can't $mod by zero")
		}
		if y == -1 {
			return intResult(0, k), nil
		}
		return intResult(x%y, k), nil
	case kindDouble:
		x, _ := ToFloat64(a)
		y, _ := ToFloat64(b)
		if y == 0 {
			return nil, Errorf(16610, "can't $mod by zero")
		}
		return math.Mod(x, y), nil
	}
	da, db := toDecimal(a), toDecimal(b)
	if db.sign() == 0 && db.coef != nil {
		return nil, Errorf(16610, "can't $mod by zero")
	}
	if da.nan || db.nan || da.inf != 0 {
		return decimal{nan: true}.toDecimal128(), nil
	}
	if db.inf != 0 {
		return da.toDecimal128(), nil
	}
	// a - b*trunc(a/b), exact.
	q := new(big.Rat).Quo(da.rat(), db.rat())
	t := new(big.Int).Quo(q.Num(), q.Denom())
	prod := decMul(db, decimal{coef: t})
	return decAdd(da, decNeg(prod)).toDecimal128(), nil
}

func numericArg(name string, v any) error {
	return Errorf(28765, "%s only supports numeric types, not %s", name, TypeName(v))
}

func evalAbs(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	switch x := v.(type) {
	case int32:
		if x == math.MinInt32 {
			return -int64(x), nil
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case int64:
		if x == math.MinInt64 {
			return nil, Errorf(28680, "can't take $abs of long long min")
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	case bson.Decimal128:
		d := toDecimal(x)
		if d.sign() < 0 {
			d = decNeg(d)
		}
		return d.toDecimal128(), nil
	}
	return nil, numericArg(name, v)
}

func roundingFn(name string, v any, f func(float64) float64) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	switch x := v.(type) {
	case int32, int64:
		return x, nil
	case float64:
		return f(x), nil
	case bson.Decimal128:
		d := toDecimal(x)
		if d.nan || d.inf != 0 || d.exp >= 0 {
			return x, nil
		}
		r := d.rat()
		q := new(big.Int).Quo(r.Num(), r.Denom()) // truncated
		exact := new(big.Rat).SetInt(q).Cmp(r) == 0
		if !exact {
			if name == "$ceil" && r.Sign() > 0 {
				q.Add(q, big.NewInt(1))
			}
			if name == "$floor" && r.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			}
		}
		return decimal{coef: q}.toDecimal128(), nil
	}
	return nil, numericArg(name, v)
}

// evalRound implements $round (half to even) and $trunc with an optional
// place in [-20, 100].
func evalRound(name string, vals []any) (any, error) {
	v := vals[0]
	place := int64(0)
	if len(vals) == 2 {
		p := vals[1]
		if isNullish(p) {
			return nil, nil
		}
		n, ok := ToInt64(p)
		if !ok {
			return nil, Errorf(51081, "%s requires \"place\" argument to be an integral value, but found %s", name, fmtValue(p))
		}
		if n < -20 || n > 100 {
			return nil, Errorf(51083, "cannot apply %s with precision value %d value must be in [-20, 100]", name, n)
		}
		place = n
	}
	if isNullish(v) {
		return nil, nil
	}
	if !IsNumber(v) {
		return nil, Errorf(51081, "%s only supports numeric types, not %s", name, TypeName(v))
	}
	trunc := name == "$trunc"
	switch x := v.(type) {
	case int32, int64:
		if place >= 0 {
			return x, nil
		}
		n, _ := ToInt64(x)
		p := int64(1)
		for i := int64(0); i < -place && p < 1e18; i++ {
			p *= 10
		}
		if -place > 18 {
			return intResult(0, numKind(x)), nil
		}
		q, r := n/p, n%p
		if !trunc {
			switch {
			case 2*abs64(r) > p, 2*abs64(r) == p && q%2 != 0:
				if n < 0 {
					q--
				} else {
					q++
				}
			}
		}
		return intResult(q*p, numKind(x)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x, nil
		}
		d := toDecimalExact(x)
		return roundDecimal(d, place, trunc).float(), nil
	}
	d := toDecimal(v)
	if d.nan || d.inf != 0 {
		return v, nil
	}
	return roundDecimal(d, place, trunc).toDecimal128(), nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// toDecimalExact converts a double by its shortest round-trip decimal
// form, which is what a user who wrote 2.675 means.
func toDecimalExact(f float64) decimal {
	return parseDecimalString(strconv.FormatFloat(f, 'g', -1, 64))
}

func roundDecimal(d decimal, place int64, trunc bool) decimal {
	target := int(-place)
	if d.exp >= target {
		return d
	}
	drop := target - d.exp
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(drop)), nil)
	q, r := new(big.Int).QuoRem(d.coef, p, new(big.Int))
	if !trunc {
		r2 := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
		c := r2.Cmp(p)
		if c > 0 || (c == 0 && q.Bit(0) == 1) {
			if d.coef.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return decimal{coef: q, exp: target}
}

func evalPow(name string, vals []any) (any, error) {
	b, e := vals[0], vals[1]
	if isNullish(b) || isNullish(e) {
		return nil, nil
	}
	if !IsNumber(b) {
		return nil, Errorf(28762, "$pow's base must be numeric, not %s", TypeName(b))
	}
	if !IsNumber(e) {
		return nil, Errorf(28763, "$pow's exponent must be numeric, not %s", TypeName(e))
	}
	bf, _ := ToFloat64(b)
	ef, _ := ToFloat64(e)
	if bf == 0 && ef < 0 {
		return nil, Errorf(28764, "$pow cannot take a base of 0 and a negative exponent")
	}
	k := max(numKind(b), numKind(e))
	switch k {
	case kindInt32, kindInt64:
		bi, _ := ToInt64(b)
		ei, _ := ToInt64(e)
		if ei < 0 {
			switch bi {
			case 1:
				return intResult(1, k), nil
			case -1:
				if ei%2 == 0 {
					return intResult(1, k), nil
				}
				return intResult(-1, k), nil
			}
			return math.Pow(bf, ef), nil
		}
		if r, ok := intPow(bi, ei); ok {
			return intResult(r, k), nil
		}
		return math.Pow(bf, ef), nil
	case kindDouble:
		return math.Pow(bf, ef), nil
	}
	if ei, ok := ToInt64(e); ok && ei >= 0 && ei <= 1000 {
		res := decimal{coef: big.NewInt(1)}
		base := toDecimal(b)
		for i := int64(0); i < ei; i++ {
			res = decMul(res, base)
			res = toDecimal(res.toDecimal128())
		}
		return res.toDecimal128(), nil
	}
	return toDecimal(math.Pow(bf, ef)).toDecimal128(), nil
}

// floatOrDecimal applies f in double precision, returning a decimal when
// the input was one.
func floatOrDecimal(v any, f float64) any {
	if _, ok := v.(bson.Decimal128); ok {
		return toDecimal(f).toDecimal128()
	}
	return f
}

func evalSqrt(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	f, ok := ToFloat64(v)
	if !ok {
		return nil, numericArg(name, v)
	}
	if f < 0 {
		return nil, Errorf(28714, "$sqrt's argument must be greater than or equal to 0")
	}
	return floatOrDecimal(v, math.Sqrt(f)), nil
}

func evalExp(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	f, ok := ToFloat64(v)
	if !ok {
		return nil, numericArg(name, v)
	}
	return floatOrDecimal(v, math.Exp(f)), nil
}

func evalLn(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	f, ok := ToFloat64(v)
	if !ok {
		return nil, numericArg(name, v)
	}
	if !(f > 0) && !math.IsNaN(f) {
		return nil, Errorf(28766, "$ln's argument must be a positive number, but is %s", fmtValue(v))
	}
	return floatOrDecimal(v, math.Log(f)), nil
}

func evalLog10(name string, v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	f, ok := ToFloat64(v)
	if !ok {
		return nil, numericArg(name, v)
	}
	if !(f > 0) && !math.IsNaN(f) {
		return nil, Errorf(28761, "$log10's argument must be a positive number, but is %s", fmtValue(v))
	}
	return floatOrDecimal(v, math.Log10(f)), nil
}

func evalLog(name string, vals []any) (any, error) {
	v, b := vals[0], vals[1]
	if isNullish(v) || isNullish(b) {
		return nil, nil
	}
	if !IsNumber(v) {
		return nil, Errorf(28756, "$log's argument must be numeric, not %s", TypeName(v))
	}
	if !IsNumber(b) {
		return nil, Errorf(28757, "$log's base must be numeric, not %s", TypeName(b))
	}
	f, _ := ToFloat64(v)
	bf, _ := ToFloat64(b)
	if !(f > 0) && !math.IsNaN(f) {
		return nil, Errorf(28758, "$log's argument must be a positive number, but is %s", fmtValue(v))
	}
	if (!(bf > 0) || bf == 1) && !math.IsNaN(bf) {
		return nil, Errorf(28759, "$log's base must be a positive number not equal to 1, but is %s", fmtValue(b))
	}
	r := math.Log(f) / math.Log(bf)
	if numKind(v) == kindDecimal || numKind(b) == kindDecimal {
		return toDecimal(r).toDecimal128(), nil
	}
	return r, nil
}

// aggCompare is Compare with aggregation's view of absent values:
// Missing (and undefined) sort below null instead of equal to it, so
// {$eq: ["$absent", null]} is false.
func aggCompare(a, b any) int {
	am, bm := isAbsent(a), isAbsent(b)
	switch {
	case am && bm:
		return 0
	case am:
		if _, ok := b.(bson.MinKey); ok {
			return 1
		}
		return -1
	case bm:
		if _, ok := a.(bson.MinKey); ok {
			return -1
		}
		return 1
	}
	return Compare(a, b)
}

func isAbsent(v any) bool {
	switch v.(type) {
	case missingType, bson.Undefined:
		return true
	}
	return false
}

func evalCompare(name string, vals []any) (any, error) {
	c := aggCompare(vals[0], vals[1])
	switch name {
	case "$eq":
		return c == 0, nil
	case "$ne":
		return c != 0, nil
	case "$gt":
		return c > 0, nil
	case "$gte":
		return c >= 0, nil
	case "$lt":
		return c < 0, nil
	case "$lte":
		return c <= 0, nil
	}
	return int32(c), nil
}

// opAndOr short-circuits like MongoDB: $and stops at the first falsy
// argument, $or at the first truthy one.
func opAndOr(name string, arg any, depth int) (exprFn, error) {
	fns, err := compileArgs(arg, depth)
	if err != nil {
		return nil, err
	}
	isAnd := name == "$and"
	return func(c *evalCtx) (any, error) {
		for _, fn := range fns {
			v, err := fn(c)
			if err != nil {
				return nil, err
			}
			if Truthy(v) != isAnd {
				return !isAnd, nil
			}
		}
		return isAnd, nil
	}, nil
}

func opCond(name string, arg any, depth int) (exprFn, error) {
	var ifFn, thenFn, elseFn exprFn
	if d, ok := Normalize(arg).(bson.D); ok {
		for _, e := range d {
			fn, err := compileExpr(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			switch e.Key {
			case "if":
				ifFn = fn
			case "then":
				thenFn = fn
			case "else":
				elseFn = fn
			default:
				return nil, Errorf(17083, "Unrecognized parameter to $cond: %s", e.Key)
			}
		}
		switch {
		case ifFn == nil:
			return nil, Errorf(17080, "Missing 'if' parameter to $cond")
		case thenFn == nil:
			return nil, Errorf(17081, "Missing 'then' parameter to $cond")
		case elseFn == nil:
			return nil, Errorf(17082, "Missing 'else' parameter to $cond")
		}
	} else {
		fns, err := compileArgs(arg, depth)
		if err != nil {
			return nil, err
		}
		if err := checkArity(name, len(fns), 3, 3); err != nil {
			return nil, err
		}
		ifFn, thenFn, elseFn = fns[0], fns[1], fns[2]
	}
	return func(c *evalCtx) (any, error) {
		v, err := ifFn(c)
		if err != nil {
			return nil, err
		}
		if Truthy(v) {
			return thenFn(c)
		}
		return elseFn(c)
	}, nil
}

func opIfNull(name string, arg any, depth int) (exprFn, error) {
	fns, err := compileArgs(arg, depth)
	if err != nil {
		return nil, err
	}
	if len(fns) < 2 {
		return nil, Errorf(exprCodeArity, "$ifNull needs at least two arguments, had: %d", len(fns))
	}
	return func(c *evalCtx) (any, error) {
		for _, fn := range fns[:len(fns)-1] {
			v, err := fn(c)
			if err != nil {
				return nil, err
			}
			if !isNullish(v) {
				return v, nil
			}
		}
		return fns[len(fns)-1](c)
	}, nil
}

func opSwitch(name string, arg any, depth int) (exprFn, error) {
	d, ok := Normalize(arg).(bson.D)
	if !ok {
		return nil, Errorf(40060, "$switch requires an object as an argument, found: %s", TypeName(arg))
	}
	type branch struct{ cond, then exprFn }
	var branches []branch
	var def exprFn
	for _, e := range d {
		switch e.Key {
		case "branches":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, Errorf(40061, "$switch expected an array for 'branches', found: %s", TypeName(e.Value))
			}
			for _, b := range arr {
				bd, ok := Normalize(b).(bson.D)
				if !ok {
					return nil, Errorf(40062, "$switch expected each branch to be an object, found: %s", TypeName(b))
				}
				var br branch
				for _, be := range bd {
					fn, err := compileExpr(be.Value, depth+1)
					if err != nil {
						return nil, err
					}
					switch be.Key {
					case "case":
						br.cond = fn
					case "then":
						br.then = fn
					default:
						return nil, Errorf(40063, "$switch found an unknown argument to a branch: %s", be.Key)
					}
				}
				if br.cond == nil {
					return nil, Errorf(40064, "$switch requires each branch have a 'case' expression")
				}
				if br.then == nil {
					return nil, Errorf(40065, "$switch requires each branch have a 'then' expression.")
				}
				branches = append(branches, br)
			}
		case "default":
			fn, err := compileExpr(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			def = fn
		default:
			return nil, Errorf(40067, "$switch found an unknown argument: %s", e.Key)
		}
	}
	if len(branches) == 0 {
		return nil, Errorf(40068, "$switch requires at least one branch.")
	}
	return func(c *evalCtx) (any, error) {
		for _, b := range branches {
			v, err := b.cond(c)
			if err != nil {
				return nil, err
			}
			if Truthy(v) {
				return b.then(c)
			}
		}
		if def == nil {
			return nil, Errorf(40066, "$switch could not find a matching branch for an input, and no default was specified.")
		}
		return def(c)
	}, nil
}

func opLet(name string, arg any, depth int) (exprFn, error) {
	d, ok := Normalize(arg).(bson.D)
	if !ok {
		return nil, Errorf(16874, "$let only supports an object as its argument")
	}
	var varsSpec bson.D
	var in exprFn
	haveVars := false
	for _, e := range d {
		switch e.Key {
		case "vars":
			vd, ok := Normalize(e.Value).(bson.D)
			if !ok {
				return nil, Errorf(10065, "invalid parameter: expected an object (vars)")
			}
			varsSpec, haveVars = vd, true
		case "in":
			fn, err := compileExpr(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			in = fn
		default:
			return nil, Errorf(16875, "Unrecognized parameter to $let: %s", e.Key)
		}
	}
	if !haveVars {
		return nil, Errorf(16876, "Missing 'vars' parameter to $let")
	}
	if in == nil {
		return nil, Errorf(16877, "Missing 'in' parameter to $let")
	}
	names := make([]string, len(varsSpec))
	fns := make([]exprFn, len(varsSpec))
	for i, e := range varsSpec {
		// $let may rebind CURRENT, which re-roots "$field" paths.
		if err := checkVarName(e.Key, false); err != nil && e.Key != "CURRENT" {
			return nil, err
		}
		fn, err := compileExpr(e.Value, depth+1)
		if err != nil {
			return nil, err
		}
		names[i], fns[i] = e.Key, fn
	}
	return func(c *evalCtx) (any, error) {
		// All vars are evaluated in the outer scope, then bound together.
		vals, err := evalArgs(c, fns)
		if err != nil {
			return nil, err
		}
		inner := c
		for i, n := range names {
			inner = inner.bind(n, vals[i])
			if n == "CURRENT" {
				inner.current = vals[i]
			}
		}
		return in(inner)
	}, nil
}

func bigInt(n int64) *big.Int { return big.NewInt(n) }

// divRoundEven divides c by 10^k, rounding half to even.
func divRoundEven(c *big.Int, k int) *big.Int {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
	q, r := new(big.Int).QuoRem(c, p, new(big.Int))
	r2 := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	if cmp := r2.Cmp(p); cmp > 0 || (cmp == 0 && q.Bit(0) == 1) {
		if c.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// intPow computes b^e (e >= 0) when it fits in an int64.
func intPow(b, e int64) (int64, bool) {
	switch b {
	case 0:
		if e == 0 {
			return 1, true
		}
		return 0, true
	case 1:
		return 1, true
	case -1:
		if e%2 == 0 {
			return 1, true
		}
		return -1, true
	}
	if e > 63 { // |b| >= 2: 2^64 and beyond overflow
		return 0, false
	}
	r := new(big.Int).Exp(big.NewInt(b), big.NewInt(e), nil)
	if !r.IsInt64() {
		return 0, false
	}
	return r.Int64(), true
}
