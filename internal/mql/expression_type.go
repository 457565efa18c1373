package mql

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$type"] = unary(func(_ string, v any) (any, error) { return TypeName(v), nil })
	operators["$isNumber"] = unary(func(_ string, v any) (any, error) { return IsNumber(v), nil })
	for op, to := range map[string]string{
		"$toString": "string", "$toInt": "int", "$toLong": "long", "$toDouble": "double",
		"$toDecimal": "decimal", "$toBool": "bool", "$toObjectId": "objectId", "$toDate": "date",
	} {
		operators[op] = unary(func(name string, v any) (any, error) {
			if isNullish(v) {
				return nil, nil
			}
			r, err := convertValue(v, to)
			if err != nil {
				return nil, err
			}
			return r, nil
		})
	}
	operators["$convert"] = opConvert
	operators["$dateToString"] = opDateToString
	for _, op := range []string{"$year", "$month", "$dayOfMonth", "$hour", "$minute", "$second",
		"$millisecond", "$dayOfWeek", "$dayOfYear", "$week", "$isoWeek", "$isoWeekYear", "$isoDayOfWeek"} {
		operators[op] = opDatePart
	}
	// Operators MongoDB has that this package does not implement yet.
	for _, op := range []string{"$top", "$topN", "$bottom", "$bottomN", "$median", "$percentile",
		"$toHashedIndexKey", "$toUUID"} {
		unsupportedOperators[op] = true
	}
}

func conversionError(v any, to string) error {
	return Errorf(exprCodeConversion, "Unsupported conversion from %s to %s in $convert with no onError value", TypeName(v), to)
}

func parseError(s, to string, why string) error {
	return Errorf(exprCodeConversion, "Failed to parse %s '%s' in $convert with no onError value: %s", to, s, why)
}

// convertValue implements $convert's conversion table for a non-null input.
func convertValue(v any, to string) (any, error) {
	switch to {
	case "double":
		switch x := v.(type) {
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		case int32, int64, float64:
			f, _ := ToFloat64(x)
			return f, nil
		case bson.Decimal128:
			f, _ := ToFloat64(x)
			if math.IsInf(f, 0) && x.IsInf() == 0 {
				return nil, Errorf(exprCodeConversion, "Conversion would overflow target type in $convert with no onError value: %s", x.String())
			}
			return f, nil
		case string:
			f, why := parseNumberString(x)
			if why != "" {
				return nil, parseError(x, "number", why)
			}
			return f, nil
		case bson.DateTime:
			return float64(x), nil
		}
	case "int", "long":
		var n int64
		switch x := v.(type) {
		case bool:
			if x {
				n = 1
			}
		case int32:
			n = int64(x)
		case int64:
			n = x
		case float64, bson.Decimal128:
			f, _ := ToFloat64(x)
			if d, ok := x.(bson.Decimal128); ok && !d.IsNaN() && d.IsInf() == 0 && math.IsInf(f, 0) {
				f = 1e300 // finite but out of range: reported as overflow below
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, Errorf(exprCodeConversion, "Attempt to convert NaN or Infinity value to integer type in $convert with no onError value")
			}
			t := math.Trunc(f)
			if t < -9.223372036854775808e18 || t >= 9.223372036854775808e18 {
				return nil, Errorf(exprCodeConversion, "Conversion would overflow target type in $convert with no onError value: %s", fmtValue(v))
			}
			n = int64(t)
		case string:
			p, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return nil, parseError(x, "number", "Did not consume whole string.")
			}
			n = p
		case bson.DateTime:
			if to == "int" {
				return nil, conversionError(v, to)
			}
			n = int64(x)
		default:
			return nil, conversionError(v, to)
		}
		if to == "int" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, Errorf(exprCodeConversion, "Conversion would overflow target type in $convert with no onError value: %s", fmtValue(v))
			}
			return int32(n), nil
		}
		return n, nil
	case "decimal":
		switch x := v.(type) {
		case bool:
			if x {
				return decimal{coef: bigInt(1)}.toDecimal128(), nil
			}
			return decimal{coef: bigInt(0)}.toDecimal128(), nil
		case int32, int64, float64:
			return toDecimal(x).toDecimal128(), nil
		case bson.Decimal128:
			return x, nil
		case string:
			d, err := bson.ParseDecimal128(x)
			if err != nil {
				return nil, parseError(x, "number", err.Error())
			}
			return d, nil
		case bson.DateTime:
			return decimal{coef: bigInt(int64(x))}.toDecimal128(), nil
		}
	case "bool":
		return Truthy(v), nil
	case "string":
		s, err := convertToString(v)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "objectId":
		switch x := v.(type) {
		case bson.ObjectID:
			return x, nil
		case string:
			id, err := bson.ObjectIDFromHex(x)
			if err != nil {
				return nil, parseError(x, "objectId", "Invalid string length for parsing to OID, expected 24 but found "+strconv.Itoa(len(x)))
			}
			return id, nil
		}
	case "date":
		switch x := v.(type) {
		case bson.DateTime:
			return x, nil
		case int64:
			return bson.DateTime(x), nil
		case float64, bson.Decimal128:
			f, _ := ToFloat64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 9.2e18 {
				return nil, Errorf(exprCodeConversion, "Conversion would overflow target type in $convert with no onError value: %s", fmtValue(v))
			}
			return bson.DateTime(int64(f)), nil
		case bson.Timestamp:
			return bson.DateTime(int64(x.T) * 1000), nil
		case bson.ObjectID:
			return bson.NewDateTimeFromTime(x.Timestamp()), nil
		case string:
			t, err := parseDateString(x)
			if err != nil {
				return nil, Errorf(exprCodeConversion, "Error parsing date string '%s'; %v", x, err)
			}
			return bson.NewDateTimeFromTime(t), nil
		}
	case "null":
		return nil, nil
	default:
		return nil, errUnsupported("$convert target type", to)
	}
	return nil, conversionError(v, to)
}

// parseNumberString parses a $convert string; the second result is
// MongoDB's reason when it fails.
func parseNumberString(s string) (float64, string) {
	switch s {
	case "Infinity", "inf", "infinity":
		return math.Inf(1), ""
	case "-Infinity", "-inf", "-infinity":
		return math.Inf(-1), ""
	case "NaN", "nan":
		return math.NaN(), ""
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, "xXpP_") {
		return 0, "Did not consume whole string."
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, "Out of range"
		}
		return 0, "Did not consume whole string."
	}
	return f, ""
}

// parseDateString accepts the ISO 8601 forms MongoDB's $toDate reads most
// often: a date, or a date and time with optional fraction and zone.
func parseDateString(s string) (time.Time, error) {
	layouts := []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognized date format")
}

// convertToString prints a value as $toString does.
func convertToString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 1):
			return "Infinity", nil
		case math.IsInf(x, -1):
			return "-Infinity", nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bson.Decimal128:
		return x.String(), nil
	case bson.ObjectID:
		return x.Hex(), nil
	case bson.DateTime:
		return x.Time().UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case bson.Timestamp:
		return bson.DateTime(int64(x.T) * 1000).Time().UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case bson.Symbol:
		return string(x), nil
	case bson.Binary:
		if x.Subtype == 4 && len(x.Data) == 16 {
			h := hex.EncodeToString(x.Data)
			return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
		}
	}
	return "", conversionError(v, "string")
}

// typeNameByCode maps the numeric 'to' of $convert to its alias.
func typeNameByCode(n int64) (string, bool) {
	for name, t := range typeAliases {
		if int64(t) == n {
			return name, true
		}
	}
	return "", false
}

func opConvert(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"input", "to"}, []string{"onError", "onNull", "format", "base"})
	if err != nil {
		return nil, err
	}
	if args["format"] != nil || args["base"] != nil {
		return nil, errUnsupported("$convert option", "format/base")
	}
	return func(c *evalCtx) (any, error) {
		in, err := args["input"](c)
		if err != nil {
			return nil, err
		}
		tv, err := args["to"](c)
		if err != nil {
			return nil, err
		}
		var to string
		switch x := tv.(type) {
		case string:
			if _, ok := TypeByAlias(x); !ok {
				return nil, Errorf(CodeBadValue, "Unknown type name: %s", x)
			}
			to = x
		case int32, int64, float64, bson.Decimal128:
			n, ok := ToInt64(x)
			name, known := typeNameByCode(n)
			if !ok || !known {
				return nil, Errorf(CodeFailedToParse, "In $convert, numeric 'to' argument is not an integer or not a valid type: %s", fmtValue(x))
			}
			to = name
		case bson.D:
			return nil, errUnsupported("$convert 'to' form", "document")
		default:
			if isNullish(tv) {
				return nil, nil
			}
			return nil, Errorf(CodeFailedToParse, "$convert's 'to' argument must be a string or number, but is %s", TypeName(tv))
		}
		if isNullish(in) {
			if f := args["onNull"]; f != nil {
				return f(c)
			}
			return nil, nil
		}
		r, err := convertValue(in, to)
		if err != nil {
			var me *Error
			if f := args["onError"]; f != nil && asError(err, &me) && me.Code == exprCodeConversion {
				return f(c)
			}
			return nil, err
		}
		return r, nil
	}, nil
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// toDateValue reads the date of a date, timestamp or ObjectId.
func toDateValue(name string, v any) (time.Time, error) {
	switch x := v.(type) {
	case bson.DateTime:
		return x.Time().UTC(), nil
	case bson.Timestamp:
		return time.Unix(int64(x.T), 0).UTC(), nil
	case bson.ObjectID:
		return x.Timestamp().UTC(), nil
	}
	return time.Time{}, Errorf(16006, "can't convert from BSON type %s to Date", TypeName(v))
}

// timezone parses "UTC", an Olson name or an offset such as "+05:30",
// "+0530" or "-03".
func timezone(name string, v any) (*time.Location, error) {
	s, ok := v.(string)
	if !ok {
		return nil, Errorf(40517, "timezone must evaluate to a string, found %s", TypeName(v))
	}
	if s == "UTC" || s == "GMT" || s == "Z" {
		return time.UTC, nil
	}
	if len(s) >= 3 && (s[0] == '+' || s[0] == '-') {
		digits := strings.ReplaceAll(s[1:], ":", "")
		var h, m int
		var err error
		switch len(digits) {
		case 2:
			h, err = strconv.Atoi(digits)
		case 4:
			h, err = strconv.Atoi(digits[:2])
			if err == nil {
				m, err = strconv.Atoi(digits[2:])
			}
		default:
			err = fmt.Errorf("bad offset")
		}
		if err == nil && h <= 99 && m < 60 {
			off := h*3600 + m*60
			if s[0] == '-' {
				off = -off
			}
			return time.FixedZone(s, off), nil
		}
	}
	loc, err := time.LoadLocation(s)
	if err != nil || s == "" || s == "Local" {
		return nil, Errorf(40485, "unrecognized time zone identifier: \"%s\"", s)
	}
	return loc, nil
}

func opDatePart(name string, arg any, depth int) (exprFn, error) {
	var dateFn, tzFn exprFn
	d, isDoc := Normalize(arg).(bson.D)
	if isDoc && len(d) > 0 && !strings.HasPrefix(d[0].Key, "$") {
		args, err := namedArgs(name, d, depth, []string{"date"}, []string{"timezone"})
		if err != nil {
			return nil, err
		}
		dateFn, tzFn = args["date"], args["timezone"]
	} else {
		fns, err := compileArgs(arg, depth)
		if err != nil {
			return nil, err
		}
		if err := checkArity(name, len(fns), 1, 1); err != nil {
			return nil, err
		}
		dateFn = fns[0]
	}
	return func(c *evalCtx) (any, error) {
		dv, err := dateFn(c)
		if err != nil {
			return nil, err
		}
		loc := time.UTC
		if tzFn != nil {
			tv, err := tzFn(c)
			if err != nil {
				return nil, err
			}
			if isNullish(tv) {
				return nil, nil
			}
			if loc, err = timezone(name, tv); err != nil {
				return nil, err
			}
		}
		if isNullish(dv) {
			return nil, nil
		}
		t, err := toDateValue(name, dv)
		if err != nil {
			return nil, err
		}
		t = t.In(loc)
		switch name {
		case "$year":
			return int32(t.Year()), nil
		case "$month":
			return int32(t.Month()), nil
		case "$dayOfMonth":
			return int32(t.Day()), nil
		case "$hour":
			return int32(t.Hour()), nil
		case "$minute":
			return int32(t.Minute()), nil
		case "$second":
			return int32(t.Second()), nil
		case "$millisecond":
			return int32(t.Nanosecond() / 1e6), nil
		case "$dayOfWeek":
			return int32(t.Weekday()) + 1, nil
		case "$dayOfYear":
			return int32(t.YearDay()), nil
		case "$week":
			return int32(weekOfYear(t)), nil
		case "$isoWeek":
			_, w := t.ISOWeek()
			return int32(w), nil
		case "$isoWeekYear":
			y, _ := t.ISOWeek()
			return int32(y), nil
		}
		// $isoDayOfWeek: Monday 1 … Sunday 7.
		wd := int32(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return wd, nil
	}, nil
}

// weekOfYear is strftime's %U: weeks start on Sunday; days before the
// year's first Sunday are in week 0.
func weekOfYear(t time.Time) int {
	return (t.YearDay() + 6 - int(t.Weekday())) / 7
}

var monthAbbrev = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func opDateToString(name string, arg any, depth int) (exprFn, error) {
	args, err := namedArgs(name, arg, depth, []string{"date"}, []string{"format", "timezone", "onNull"})
	if err != nil {
		return nil, err
	}
	return func(c *evalCtx) (any, error) {
		dv, err := args["date"](c)
		if err != nil {
			return nil, err
		}
		format := "%Y-%m-%dT%H:%M:%S.%LZ"
		loc := time.UTC
		custom := false
		if f := args["format"]; f != nil {
			fv, err := f(c)
			if err != nil {
				return nil, err
			}
			if isNullish(fv) {
				return nil, nil
			}
			s, ok := fv.(string)
			if !ok {
				return nil, Errorf(18533, "$dateToString requires that 'format' be a string, found: %s with value %s", TypeName(fv), fmtValue(fv))
			}
			format, custom = s, true
		}
		if f := args["timezone"]; f != nil {
			tv, err := f(c)
			if err != nil {
				return nil, err
			}
			if isNullish(tv) {
				return nil, nil
			}
			if loc, err = timezone(name, tv); err != nil {
				return nil, err
			}
			// Since MongoDB 7.1 the default format drops the Z for a
			// non-UTC zone.
			if !custom && loc != time.UTC {
				format = "%Y-%m-%dT%H:%M:%S.%L"
			}
		}
		if isNullish(dv) {
			if f := args["onNull"]; f != nil {
				return f(c)
			}
			return nil, nil
		}
		t, err := toDateValue(name, dv)
		if err != nil {
			return nil, err
		}
		return formatDate(format, t.In(loc))
	}, nil
}

func formatDate(format string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		if i+1 >= len(format) {
			return "", Errorf(18535, "Unmatched '%%' at end of format string")
		}
		i++
		switch format[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'G':
			y, _ := t.ISOWeek()
			fmt.Fprintf(&b, "%04d", y)
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'L':
			fmt.Fprintf(&b, "%03d", t.Nanosecond()/1e6)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday())+1)
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			fmt.Fprintf(&b, "%d", wd)
		case 'U':
			fmt.Fprintf(&b, "%02d", weekOfYear(t))
		case 'V':
			_, w := t.ISOWeek()
			fmt.Fprintf(&b, "%02d", w)
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			fmt.Fprintf(&b, "%c%02d%02d", sign, off/3600, off%3600/60)
		case 'Z':
			_, off := t.Zone()
			fmt.Fprintf(&b, "%d", off/60)
		case 'b':
			b.WriteString(monthAbbrev[t.Month()-1])
		case 'B':
			b.WriteString(t.Month().String())
		case '%':
			b.WriteByte('%')
		default:
			return "", Errorf(18536, "Invalid format character '%%%c' in format string", format[i])
		}
	}
	return b.String(), nil
}
