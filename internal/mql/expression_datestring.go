package mql

import (
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$dateFromString"] = opDateFromString
}

func opDateFromString(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"dateString"}, []string{"format", "timezone", "onError", "onNull"})
	if err != nil {
		return nil, err
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		sv, ok, err := a.get(c, "dateString")
		if err != nil {
			return nil, err
		}
		loc, okLoc, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		format := ""
		if fns["format"] != nil {
			fv, okF, err := a.get(c, "format")
			if err != nil {
				return nil, err
			}
			if !okF {
				return nil, nil
			}
			s, isStr := fv.(string)
			if !isStr {
				return nil, Errorf(40684, "$dateFromString requires that 'format' be a string, found: %s", TypeName(fv))
			}
			format = s
		}
		if !ok {
			if fn := fns["onNull"]; fn != nil {
				return fn(c)
			}
			return nil, nil
		}
		if !okLoc {
			return nil, nil
		}
		fail := func(err error) (any, error) {
			if fn := fns["onError"]; fn != nil {
				return fn(c)
			}
			return nil, err
		}
		s, isStr := sv.(string)
		if !isStr {
			return fail(Errorf(exprCodeConversion, "$dateFromString requires that 'dateString' be a string, found: %s with value %s", TypeName(sv), fmtValue(sv)))
		}
		var t time.Time
		if format == "" {
			t, err = parseDateStringIn(s, loc)
		} else {
			t, err = parseDateFormat(s, format, loc)
		}
		if err != nil {
			return fail(Errorf(exprCodeConversion, "Error parsing date string '%s'; %v", s, err))
		}
		return bson.NewDateTimeFromTime(t), nil
	}, nil
}

// parseDateStringIn reads the ISO 8601 forms of parseDateString; strings
// without a zone are in loc.
func parseDateStringIn(s string, loc *time.Location) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognized date format")
}

// parseDateFormat parses s with a $dateToString-style format: %Y %m %d
// %H %M %S %L %j %z and %% are understood.
func parseDateFormat(s, format string, loc *time.Location) (time.Time, error) {
	year, month, day, hour, minute, sec, ms, yday := 1970, 1, 1, 0, 0, 0, 0, 0
	var zone *time.Location
	pos := 0
	num := func(width int, signed bool) (int, error) {
		start := pos
		if signed && pos < len(s) && (s[pos] == '+' || s[pos] == '-') {
			pos++
		}
		for pos < len(s) && pos-start < width && s[pos] >= '0' && s[pos] <= '9' {
			pos++
		}
		if pos == start {
			return 0, fmt.Errorf("expected a number at position %d", start)
		}
		return strconv.Atoi(s[start:pos])
	}
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			if pos >= len(s) || s[pos] != ch {
				return time.Time{}, fmt.Errorf("format does not match at position %d", pos)
			}
			pos++
			continue
		}
		i++
		if i >= len(format) {
			return time.Time{}, fmt.Errorf("unmatched '%%' at end of format")
		}
		var err error
		switch format[i] {
		case 'Y':
			year, err = num(4, false)
		case 'm':
			month, err = num(2, false)
		case 'd':
			day, err = num(2, false)
		case 'H':
			hour, err = num(2, false)
		case 'M':
			minute, err = num(2, false)
		case 'S':
			sec, err = num(2, false)
		case 'L':
			ms, err = num(3, false)
		case 'j':
			yday, err = num(3, false)
		case 'z':
			var off int
			if off, err = num(5, true); err == nil {
				sign := 1
				if off < 0 {
					sign, off = -1, -off
				}
				zone = time.FixedZone("", sign*(off/100*3600+off%100*60))
			}
		case '%':
			if pos >= len(s) || s[pos] != '%' {
				return time.Time{}, fmt.Errorf("format does not match at position %d", pos)
			}
			pos++
		default:
			return time.Time{}, Errorf(CodeNotImplemented, "unsupported format character '%%%c' in $dateFromString", format[i])
		}
		if err != nil {
			return time.Time{}, err
		}
	}
	if pos != len(s) {
		return time.Time{}, fmt.Errorf("trailing data at position %d", pos)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("a date part is out of range")
	}
	if zone != nil {
		loc = zone
	}
	if yday > 0 {
		return time.Date(year, 1, yday, hour, minute, sec, ms*1e6, loc), nil
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, loc), nil
}
