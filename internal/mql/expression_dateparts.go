package mql

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$dateToParts"] = opDateToParts
	operators["$dateFromParts"] = opDateFromParts
}

func opDateToParts(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"date"}, []string{"timezone", "iso8601"})
	if err != nil {
		return nil, err
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		dv, ok1, err := a.get(c, "date")
		if err != nil {
			return nil, err
		}
		loc, ok2, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		iso := false
		if fns["iso8601"] != nil {
			v, ok, err := a.get(c, "iso8601")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nil
			}
			b, isBool := v.(bool)
			if !isBool {
				return nil, Errorf(40521, "iso8601 must evaluate to a bool, found %s", TypeName(v))
			}
			iso = b
		}
		if !ok1 || !ok2 {
			return nil, nil
		}
		t, err := toDateValue(name, dv)
		if err != nil {
			return nil, err
		}
		t = t.In(loc)
		var out bson.D
		if iso {
			y, w := t.ISOWeek()
			wd := int32(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			out = bson.D{{Key: "isoWeekYear", Value: int32(y)}, {Key: "isoWeek", Value: int32(w)}, {Key: "isoDayOfWeek", Value: wd}}
		} else {
			out = bson.D{{Key: "year", Value: int32(t.Year())}, {Key: "month", Value: int32(t.Month())}, {Key: "day", Value: int32(t.Day())}}
		}
		return append(out,
			bson.E{Key: "hour", Value: int32(t.Hour())}, bson.E{Key: "minute", Value: int32(t.Minute())},
			bson.E{Key: "second", Value: int32(t.Second())}, bson.E{Key: "millisecond", Value: int32(t.Nanosecond() / 1e6)}), nil
	}, nil
}

func opDateFromParts(name string, arg any, depth int) (exprFn, error) {
	parts := []string{"year", "month", "day", "isoWeekYear", "isoWeek", "isoDayOfWeek", "hour", "minute", "second", "millisecond"}
	fns, err := namedArgs(name, arg, depth, nil, append(parts, "timezone"))
	if err != nil {
		return nil, err
	}
	iso := fns["isoWeekYear"] != nil
	switch {
	case iso && (fns["year"] != nil || fns["month"] != nil || fns["day"] != nil):
		return nil, Errorf(40489, "$dateFromParts does not allow mixing natural dates with ISO dates")
	case !iso && fns["year"] == nil:
		return nil, Errorf(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present")
	case !iso && (fns["isoWeek"] != nil || fns["isoDayOfWeek"] != nil):
		return nil, Errorf(40489, "$dateFromParts does not allow mixing natural dates with ISO dates")
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		vals := map[string]int64{"month": 1, "day": 1, "isoWeek": 1, "isoDayOfWeek": 1}
		null := false
		for _, p := range parts {
			if fns[p] == nil {
				continue
			}
			v, ok, err := a.get(c, p)
			if err != nil {
				return nil, err
			}
			if !ok {
				null = true
				continue
			}
			n, isInt := ToInt64(v)
			if !isInt {
				return nil, Errorf(40515, "'%s' must evaluate to an integer, found %s with value %s", p, TypeName(v), fmtValue(v))
			}
			if p == "year" || p == "isoWeekYear" {
				if n < 1 || n > 9999 {
					return nil, Errorf(40523, "'%s' must evaluate to an integer in the range 1 to 9999, found %d", p, n)
				}
			} else if n < -32768 || n > 32767 {
				return nil, Errorf(31034, "'%s' must evaluate to a value in the range [-32768, 32767]; value %d is not in range", p, n)
			}
			vals[p] = n
		}
		loc, ok, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		if null || !ok {
			return nil, nil
		}
		clock := time.Duration(vals["hour"])*time.Hour + time.Duration(vals["minute"])*time.Minute +
			time.Duration(vals["second"])*time.Second + time.Duration(vals["millisecond"])*time.Millisecond
		var day time.Time
		if iso {
			// ISO week 1 is the week holding January 4th; weeks start on Monday.
			jan4 := time.Date(int(vals["isoWeekYear"]), 1, 4, 0, 0, 0, 0, loc)
			wd := int(jan4.Weekday())
			if wd == 0 {
				wd = 7
			}
			day = jan4.AddDate(0, 0, 1-wd+int(vals["isoWeek"]-1)*7+int(vals["isoDayOfWeek"]-1))
		} else {
			day = time.Date(int(vals["year"]), time.Month(1), 1, 0, 0, 0, 0, loc).
				AddDate(0, int(vals["month"]-1), int(vals["day"]-1))
		}
		return bson.NewDateTimeFromTime(day.Add(clock)), nil
	}, nil
}
