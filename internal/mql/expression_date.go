package mql

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	operators["$dateAdd"] = opDateAdd
	operators["$dateSubtract"] = opDateAdd
	operators["$dateDiff"] = opDateDiff
	operators["$dateTrunc"] = opDateTrunc
}

var dateUnits = map[string]bool{
	"year": true, "quarter": true, "month": true, "week": true, "day": true,
	"hour": true, "minute": true, "second": true, "millisecond": true,
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday, "monday": time.Monday, "mon": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday, "wednesday": time.Wednesday, "wed": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday, "friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday,
}

// dateArgs evaluates the named arguments of a date operator; it reports
// null when any of them is null or absent.
type dateArgs struct {
	fns map[string]exprFn
}

func (d dateArgs) get(c *evalCtx, name string) (any, bool, error) {
	fn := d.fns[name]
	if fn == nil {
		return Missing, false, nil
	}
	v, err := fn(c)
	if err != nil {
		return nil, false, err
	}
	return v, !isNullish(v), nil
}

func (d dateArgs) location(c *evalCtx, name string) (*time.Location, bool, error) {
	if d.fns["timezone"] == nil {
		return time.UTC, true, nil
	}
	v, ok, err := d.get(c, "timezone")
	if err != nil || !ok {
		return nil, false, err
	}
	loc, err := timezone(name, v)
	return loc, err == nil, err
}

func (d dateArgs) unit(c *evalCtx, name, key string) (string, bool, error) {
	v, ok, err := d.get(c, key)
	if err != nil || !ok {
		return "", false, err
	}
	s, isStr := v.(string)
	if !isStr || !dateUnits[s] {
		return "", false, Errorf(CodeFailedToParse, "%s requires '%s' to be a valid time unit, found %s", name, key, fmtValue(v))
	}
	return s, true, nil
}

func (d dateArgs) weekStart(c *evalCtx, name string) (time.Weekday, error) {
	v, ok, err := d.get(c, "startOfWeek")
	if err != nil || !ok {
		return time.Sunday, err
	}
	s, isStr := v.(string)
	wd, known := weekdays[strings.ToLower(s)]
	if !isStr || !known {
		return 0, Errorf(CodeFailedToParse, "%s requires 'startOfWeek' to be a valid day of the week, found %s", name, fmtValue(v))
	}
	return wd, nil
}

// addUnits adds n units to t in t's location; month-based units clamp the
// day to the end of the target month, as MongoDB does.
func addUnits(t time.Time, unit string, n int64) time.Time {
	switch unit {
	case "year", "quarter", "month":
		months := n
		switch unit {
		case "year":
			months *= 12
		case "quarter":
			months *= 3
		}
		y, m, d := t.Date()
		total := int64(y)*12 + int64(m-1) + months
		ny, nm := int(total/12), time.Month(total%12+1)
		if total < 0 && total%12 != 0 {
			ny, nm = int(total/12)-1, time.Month(total%12+13)
		}
		last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, t.Location()).Day()
		d = min(d, last)
		return time.Date(ny, nm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	case "week":
		return t.AddDate(0, 0, int(n*7))
	case "day":
		return t.AddDate(0, 0, int(n))
	case "hour":
		return t.Add(time.Duration(n) * time.Hour)
	case "minute":
		return t.Add(time.Duration(n) * time.Minute)
	case "second":
		return t.Add(time.Duration(n) * time.Second)
	}
	return t.Add(time.Duration(n) * time.Millisecond)
}

func opDateAdd(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"startDate", "unit", "amount"}, []string{"timezone"})
	if err != nil {
		return nil, err
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		sv, ok1, err := a.get(c, "startDate")
		if err != nil {
			return nil, err
		}
		unit, ok2, err := a.unit(c, name, "unit")
		if err != nil {
			return nil, err
		}
		av, ok3, err := a.get(c, "amount")
		if err != nil {
			return nil, err
		}
		loc, ok4, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, nil
		}
		t, err := toDateValue(name, sv)
		if err != nil {
			return nil, err
		}
		n, ok := ToInt64(av)
		if !ok {
			return nil, Errorf(5166405, "%s expects integer amount of time units, found %s", name, fmtValue(av))
		}
		if name == "$dateSubtract" {
			n = -n
		}
		return bson.NewDateTimeFromTime(addUnits(t.In(loc), unit, n)), nil
	}, nil
}

// truncUnit floors t to the start of its unit in t's location.
func truncUnit(t time.Time, unit string, weekStart time.Weekday) time.Time {
	y, m, d := t.Date()
	loc := t.Location()
	switch unit {
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	case "quarter":
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, loc)
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case "week":
		back := (int(t.Weekday()) - int(weekStart) + 7) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case "hour":
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, loc)
	case "minute":
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc)
	case "second":
		return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc)
	}
	return t.Truncate(time.Millisecond)
}

// unitsBetween counts the unit boundaries crossed from a to b (both
// already floored to the unit).
func unitsBetween(a, b time.Time, unit string) int64 {
	switch unit {
	case "year":
		return int64(b.Year() - a.Year())
	case "quarter":
		return int64((b.Year()*12+int(b.Month())-1)/3 - (a.Year()*12+int(a.Month())-1)/3)
	case "month":
		return int64((b.Year()*12 + int(b.Month())) - (a.Year()*12 + int(a.Month())))
	case "week", "day":
		ad := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
		bd := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
		days := int64(bd.Sub(ad).Hours() / 24)
		if unit == "week" {
			return days / 7
		}
		return days
	case "hour":
		return int64(b.Sub(a) / time.Hour)
	case "minute":
		return int64(b.Sub(a) / time.Minute)
	case "second":
		return int64(b.Sub(a) / time.Second)
	}
	return int64(b.Sub(a) / time.Millisecond)
}

func opDateDiff(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"startDate", "endDate", "unit"}, []string{"timezone", "startOfWeek"})
	if err != nil {
		return nil, err
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		sv, ok1, err := a.get(c, "startDate")
		if err != nil {
			return nil, err
		}
		ev, ok2, err := a.get(c, "endDate")
		if err != nil {
			return nil, err
		}
		unit, ok3, err := a.unit(c, name, "unit")
		if err != nil {
			return nil, err
		}
		loc, ok4, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, nil
		}
		ws, err := a.weekStart(c, name)
		if err != nil {
			return nil, err
		}
		s, err := toDateValue(name, sv)
		if err != nil {
			return nil, err
		}
		e, err := toDateValue(name, ev)
		if err != nil {
			return nil, err
		}
		return unitsBetween(truncUnit(s.In(loc), unit, ws), truncUnit(e.In(loc), unit, ws), unit), nil
	}, nil
}

func opDateTrunc(name string, arg any, depth int) (exprFn, error) {
	fns, err := namedArgs(name, arg, depth, []string{"date", "unit"}, []string{"binSize", "timezone", "startOfWeek"})
	if err != nil {
		return nil, err
	}
	a := dateArgs{fns}
	return func(c *evalCtx) (any, error) {
		dv, ok1, err := a.get(c, "date")
		if err != nil {
			return nil, err
		}
		unit, ok2, err := a.unit(c, name, "unit")
		if err != nil {
			return nil, err
		}
		loc, ok3, err := a.location(c, name)
		if err != nil {
			return nil, err
		}
		bin := int64(1)
		if fns["binSize"] != nil {
			bv, ok, err := a.get(c, "binSize")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nil
			}
			n, isInt := ToInt64(bv)
			if !isInt || n <= 0 {
				return nil, Errorf(5439017, "$dateTrunc requires 'binSize' to be a positive 64-bit integer, found %s", fmtValue(bv))
			}
			bin = n
		}
		if !ok1 || !ok2 || !ok3 {
			return nil, nil
		}
		ws, err := a.weekStart(c, name)
		if err != nil {
			return nil, err
		}
		t, err := toDateValue(name, dv)
		if err != nil {
			return nil, err
		}
		t = truncUnit(t.In(loc), unit, ws)
		if bin > 1 {
			// Bins count from 2000-01-01 (the first startOfWeek day on or
			// after it for weeks), in the given zone.
			ref := time.Date(2000, 1, 1, 0, 0, 0, 0, loc)
			if unit == "week" {
				ref = ref.AddDate(0, 0, (int(ws)-int(ref.Weekday())+7)%7)
			}
			n := unitsBetween(ref, t, unit)
			off := n % bin
			if off < 0 {
				off += bin
			}
			t = addUnits(t, unit, -off)
		}
		return bson.NewDateTimeFromTime(t), nil
	}, nil
}
