package triggers

import (
	"math"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/plexus-ml/plexus/specs"
)

// Grace is how late a fire may be looked at and still be on time under
// catchUp: skip. A fire looked at later than this after its nominal time
// is missed, and skip drops it.
const Grace = time.Minute

// maxCounted bounds how many of a cron schedule's dropped fires Plan
// counts one by one (a few milliseconds per thousand in a zone with
// daylight saving time); past it the count is a lower bound
// (Skipped.AtLeast).
const maxCounted = 1000

// Schedule is a rendered schedule, ready to plan its fires. Build it with
// NewSchedule.
type Schedule struct {
	kind string // specs' kind: cron, interval or datetime
	// Exactly one of cron and every is set for a cron or interval
	// schedule; neither for a datetime.
	cron  cron.Schedule // its Location set: the schedule's zone
	every int64         // seconds between fires (interval, or cron @every)

	loc           *time.Location
	startAt       time.Time // zero: the State's Created
	endAt         time.Time // zero: none; exclusive
	maxRuns       int       // 0: no limit
	dependsOnPast bool
	catchUp       string
	maxCatchUp    int
}

// State is what the engine keeps of a schedule between looks.
type State struct {
	// Created is when the schedule run was created: where the fires start
	// when the schedule has no startAt.
	Created time.Time
	// Last is the nominal time of the newest fire decided so far, created
	// or dropped by the catch-up policy; zero if none. Fires after it are
	// still to decide.
	Last time.Time
	// Fired is how many children the schedule created (maxRuns counts
	// them).
	Fired int
	// Running is whether a child of the schedule has not ended yet. Only
	// dependsOnPast reads it.
	Running bool
}

// Skipped describes the due fires a Decision drops.
type Skipped struct {
	// Count is how many. A cron schedule counts the ones older than the
	// fires it keeps up to 1,000; AtLeast says there were more than
	// counted, and Count is then a lower bound.
	Count   int
	AtLeast bool
	// First and Last are the oldest and newest dropped nominal times;
	// zero when Count is 0.
	First, Last time.Time
}

// Decision is what Plan decides on one look at a schedule.
type Decision struct {
	// Fire holds the nominal times to create children for now, oldest
	// first, in UTC. Each is the child's schedule_at and, being unique to
	// the schedule, the key its id derives from.
	Fire []time.Time
	// Skipped holds the due fires the catch-up policy drops, for the
	// condition that says so.
	Skipped Skipped
	// Wake is when to look again: the next nominal time still to decide,
	// when it is after now. It is zero when the schedule is Done, and when
	// a due fire waits for the running child (dependsOnPast): look again
	// when that child ends.
	Wake time.Time
	// Done says the schedule will never fire again (maxRuns reached, endAt
	// passed, no time left that matches): the schedule run ends
	// succeeded, once its children have ended.
	Done bool
}

// Advance returns the State to store once the Decision's children are
// created: Last moves to the newest time fired or dropped, Fired counts the
// new children, and Running is set when there are any.
func (d Decision) Advance(st State) State {
	for _, t := range d.Fire {
		if t.After(st.Last) {
			st.Last = t
		}
	}
	if d.Skipped.Count > 0 && d.Skipped.Last.After(st.Last) {
		st.Last = d.Skipped.Last
	}
	st.Fired += len(d.Fire)
	st.Running = st.Running || len(d.Fire) > 0
	return st
}

// NewSchedule builds the Schedule of a rendered schedule at path at (the
// operation's `schedule`). A field still holding a template is an error
// naming its path, and so is any value the spec refuses (checked again:
// templates may have rendered anything). The error is a specs.ErrorList.
func NewSchedule(at specs.Path, s specs.Schedule) (*Schedule, error) {
	var errs specs.ErrorList
	str := func(name, v string) {
		if specs.IsTemplate(v) {
			errs = append(errs, specs.Invalidf(at.Child(name), v, "the template %q is not rendered", v))
		}
	}
	num := func(name string, v *specs.IntOrRef) {
		if v.IsTemplate() {
			errs = append(errs, specs.Invalidf(at.Child(name), v.Template, "the template %q is not rendered", v.Template))
		}
	}
	switch x := s.(type) {
	case *specs.CronSchedule:
		if x == nil {
			break
		}
		str("cron", x.Cron)
		str("startAt", x.StartAt)
		str("endAt", x.EndAt)
		str("timezone", x.Timezone)
		str("catchUp", x.CatchUp)
		num("maxRuns", x.MaxRuns)
		num("maxCatchUp", x.MaxCatchUp)
	case *specs.IntervalSchedule:
		if x == nil {
			break
		}
		num("frequency", x.Frequency)
		str("startAt", x.StartAt)
		str("endAt", x.EndAt)
		str("timezone", x.Timezone)
		str("catchUp", x.CatchUp)
		num("maxRuns", x.MaxRuns)
		num("maxCatchUp", x.MaxCatchUp)
	case *specs.DateTimeSchedule:
		if x == nil {
			break
		}
		str("startAt", x.StartAt)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if s == nil || isNilSchedule(s) {
		return nil, specs.ErrorList{specs.Required(at, "a schedule is required")}
	}
	if errs := specs.ValidateSchedule(at, s); len(errs) > 0 {
		return nil, errs
	}
	return build(at, s)
}

// isNilSchedule reports a typed nil in the interface.
func isNilSchedule(s specs.Schedule) bool {
	switch x := s.(type) {
	case *specs.CronSchedule:
		return x == nil
	case *specs.IntervalSchedule:
		return x == nil
	case *specs.DateTimeSchedule:
		return x == nil
	}
	return false
}

// build makes the Schedule of a valid, rendered schedule.
func build(at specs.Path, s specs.Schedule) (*Schedule, error) {
	sc := &Schedule{kind: s.ScheduleKind(), loc: time.UTC, catchUp: specs.CatchUpAll, maxCatchUp: specs.DefaultMaxCatchUp}
	var timezone, startAt, endAt, catchUp string
	var maxRuns, maxCatchUp *specs.IntOrRef
	var dependsOnPast *bool
	switch x := s.(type) {
	case *specs.CronSchedule:
		timezone, startAt, endAt, catchUp = x.Timezone, x.StartAt, x.EndAt, x.CatchUp
		maxRuns, maxCatchUp, dependsOnPast = x.MaxRuns, x.MaxCatchUp, x.DependsOnPast
		c, err := specs.ParseCron(x.Cron)
		if err != nil {
			return nil, specs.ErrorList{specs.Invalidf(at.Child("cron"), x.Cron, "invalid cron expression %q: %v", x.Cron, err)}
		}
		if timezone != "" {
			if sc.loc, err = specs.LoadTimezone(timezone); err != nil {
				return nil, specs.ErrorList{specs.Invalidf(at.Child("timezone"), timezone, "%v", err)}
			}
		}
		switch c := c.(type) {
		case *cron.SpecSchedule:
			// A cron without a CRON_TZ= prefix comes back in time.Local,
			// which robfig/cron reads as the zone of the time it is given;
			// set the schedule's own. With a prefix, the prefix's zone is
			// the schedule's (the spec refuses it together with timezone).
			if c.Location == time.Local {
				c.Location = sc.loc
			} else {
				sc.loc = c.Location
			}
			sc.cron = c
		case cron.ConstantDelaySchedule:
			// `@every 90m`: an interval in disguise.
			sc.every = max(int64(c.Delay/time.Second), 1)
		default:
			return nil, specs.ErrorList{specs.Invalidf(at.Child("cron"), x.Cron, "unsupported cron expression %q", x.Cron)}
		}
	case *specs.IntervalSchedule:
		timezone, startAt, endAt, catchUp = x.Timezone, x.StartAt, x.EndAt, x.CatchUp
		maxRuns, maxCatchUp, dependsOnPast = x.MaxRuns, x.MaxCatchUp, x.DependsOnPast
		sc.every = int64(x.Frequency.Value)
		if timezone != "" {
			var err error
			if sc.loc, err = specs.LoadTimezone(timezone); err != nil {
				return nil, specs.ErrorList{specs.Invalidf(at.Child("timezone"), timezone, "%v", err)}
			}
		}
	case *specs.DateTimeSchedule:
		startAt = x.StartAt
		sc.maxRuns, sc.maxCatchUp = 1, 1
	}
	var err error
	if startAt != "" {
		if sc.startAt, err = specs.ParseTimeIn(startAt, sc.loc); err != nil {
			return nil, specs.ErrorList{specs.Invalidf(at.Child("startAt"), startAt, "%v", err)}
		}
	}
	if endAt != "" {
		if sc.endAt, err = specs.ParseTimeIn(endAt, sc.loc); err != nil {
			return nil, specs.ErrorList{specs.Invalidf(at.Child("endAt"), endAt, "%v", err)}
		}
	}
	if maxRuns != nil {
		sc.maxRuns = maxRuns.Value
	}
	if dependsOnPast != nil {
		sc.dependsOnPast = *dependsOnPast
	}
	if catchUp != "" {
		sc.catchUp = catchUp
	}
	if maxCatchUp != nil {
		sc.maxCatchUp = maxCatchUp.Value
	}
	return sc, nil
}

// Kind is the schedule's kind: cron, interval or datetime.
func (s *Schedule) Kind() string { return s.kind }

// Location is the zone the schedule's wall clock is read in (UTC unless
// its timezone, or a cron's CRON_TZ= prefix, says otherwise).
func (s *Schedule) Location() *time.Location { return s.loc }

// CatchUp is the schedule's catch-up policy (a datetime's is all).
func (s *Schedule) CatchUp() string { return s.catchUp }

// MaxCatchUp is how many due fires catchUp: all runs at most on one look.
func (s *Schedule) MaxCatchUp() int { return s.maxCatchUp }

// DependsOnPast is whether a fire waits for the previous child to end.
func (s *Schedule) DependsOnPast() bool { return s.dependsOnPast }

// Plan decides, at now, what the schedule does: the fires to create, the
// missed fires its catch-up policy drops, when to look again and whether it
// is done. It is pure: the same State and now give the same Decision, so
// the engine may ask as often as it likes, as long as it stores
// Decision.Advance(st) with the children it creates.
//
// The due fires are the nominal times after st.Last (from the start for
// the first) up to now, before endAt. Of these the policy keeps the most
// recent maxCatchUp (all) or the most recent one (latest; skip, when it is
// at most Grace late), and drops the older ones. The kept fires are fired
// oldest first, as many as maxRuns still allows, and only the oldest one
// under dependsOnPast, nothing at all while a child runs.
func (s *Schedule) Plan(st State, now time.Time) Decision {
	var d Decision
	start := s.start(st)
	remaining := s.remaining(st.Fired)
	if remaining > 0 && !(s.dependsOnPast && st.Running) {
		hi := now
		if !s.endAt.IsZero() && !hi.Before(s.endAt) {
			hi = s.endAt.Add(-time.Nanosecond)
		}
		k := 1
		if s.catchUp == specs.CatchUpAll {
			k = s.maxCatchUp
		}
		kept, skipped := s.newest(start, s.cursor(st, start), hi, k)
		if len(kept) > 0 && s.catchUp == specs.CatchUpSkip && now.Sub(kept[len(kept)-1]) > Grace {
			skipped = skipped.and(kept[len(kept)-1])
			kept = nil
		}
		n := min(len(kept), remaining)
		if s.dependsOnPast {
			n = min(n, 1)
		}
		d.Fire = kept[:n:n]
		d.Skipped = skipped
	}
	if remaining-len(d.Fire) <= 0 {
		d.Done = true
		return d
	}
	next := s.next(start, s.cursor(d.Advance(st), start))
	if next.IsZero() || !s.endAt.IsZero() && !next.Before(s.endAt) {
		d.Done = true
		return d
	}
	if next.After(now) {
		d.Wake = next
	}
	return d
}

// NextN returns the next n nominal times after st.Last (from the start
// for the first) the schedule would fire, within endAt and what maxRuns
// leaves, oldest first, in UTC. It does not apply the catch-up policy,
// which depends on when the fires are looked at.
func (s *Schedule) NextN(st State, n int) []time.Time {
	start := s.start(st)
	n = min(n, s.remaining(st.Fired))
	if n <= 0 {
		return nil
	}
	var out []time.Time
	for t := s.cursor(st, start); len(out) < n; {
		t = s.next(start, t)
		if t.IsZero() || !s.endAt.IsZero() && !t.Before(s.endAt) {
			break
		}
		out = append(out, t)
	}
	return out
}

// start is the first instant a fire may have: startAt, else when the
// schedule was created, to the second.
func (s *Schedule) start(st State) time.Time {
	t := s.startAt
	if t.IsZero() {
		t = st.Created
	}
	return t.Truncate(time.Second)
}

// cursor is the instant the due fires come after: st.Last, or just before
// the start for the first fire (which may be at the start).
func (s *Schedule) cursor(st State, start time.Time) time.Time {
	if st.Last.IsZero() {
		return start.Add(-time.Nanosecond)
	}
	return st.Last
}

// remaining is how many fires maxRuns still allows.
func (s *Schedule) remaining(fired int) int {
	if s.maxRuns <= 0 {
		return math.MaxInt
	}
	return s.maxRuns - fired
}

// next returns the first nominal time strictly after t (and not before
// start), in UTC; zero when there is none.
func (s *Schedule) next(start, t time.Time) time.Time {
	if t.Before(start) {
		t = start.Add(-time.Nanosecond)
	}
	switch {
	case s.every > 0:
		return s.nth(start, floorDiv(secondsSince(start, t), s.every)+1)
	case s.cron != nil:
		n := s.cron.Next(t)
		if n.IsZero() {
			return n
		}
		return n.UTC()
	default: // datetime: once, at the start
		if t.Before(start) {
			return start.UTC()
		}
		return time.Time{}
	}
}

// nth is an interval's k-th nominal time (the 0th is the start).
func (s *Schedule) nth(start time.Time, k int64) time.Time {
	return time.Unix(start.Unix()+k*s.every, 0).UTC()
}

// newest returns the most recent k nominal times in (after, hi], oldest
// first, and the older ones in that range, which the caller drops.
func (s *Schedule) newest(start, after, hi time.Time, k int) ([]time.Time, Skipped) {
	first := s.next(start, after)
	if first.IsZero() || first.After(hi) {
		return nil, Skipped{}
	}
	if s.every == 0 && s.cron == nil {
		return []time.Time{first}, Skipped{} // a datetime fires once
	}
	if s.every > 0 {
		kFirst := secondsSince(start, first) / s.every
		kLast := floorDiv(secondsSince(start, hi), s.every)
		m := min(int64(k), kLast-kFirst+1)
		kept := make([]time.Time, 0, m)
		for i := kLast - m + 1; i <= kLast; i++ {
			kept = append(kept, s.nth(start, i))
		}
		var sk Skipped
		if n := kLast - kFirst + 1 - m; n > 0 {
			sk = Skipped{Count: int(n), First: first, Last: s.nth(start, kLast-m)}
		}
		return kept, sk
	}
	return s.cronNewest(start, first, after, hi, k)
}

// cronNewest is newest for a cron, which can only step forward: it scans
// windows ending at hi, four times longer each time, until one holds more
// than k fires (or all of them), so that a long downtime costs about what
// the kept fires cost, not one step per missed fire.
func (s *Schedule) cronNewest(start, first, after, hi time.Time, k int) ([]time.Time, Skipped) {
	for w := int64(60); ; w *= 4 {
		lo := time.Unix(hi.Unix()-w, 0)
		full := lo.Before(first)
		if full {
			lo = after
		}
		// The last k+1 fires in (lo, hi] (the one before the kept ones
		// is the newest dropped), and how many there are.
		ring := make([]time.Time, 0, k+1)
		n := 0
		for t := s.next(start, lo); !t.IsZero() && !t.After(hi); t = s.next(start, t) {
			if len(ring) == k+1 {
				copy(ring, ring[1:])
				ring = ring[:k]
			}
			ring = append(ring, t)
			n++
		}
		if len(ring) <= k && !full {
			continue
		}
		m := min(k, len(ring))
		kept := ring[len(ring)-m:]
		if n == m {
			return kept, Skipped{}
		}
		sk := Skipped{Count: n - m, First: first, Last: ring[len(ring)-m-1]}
		if !full {
			// And those in (after, lo], counted up to maxCounted.
			c := 0
			t := s.next(start, after)
			for ; !t.IsZero() && !t.After(lo) && c < maxCounted; t = s.next(start, t) {
				c++
			}
			sk.Count += c
			sk.AtLeast = c == maxCounted && !t.IsZero() && !t.After(lo)
		}
		return kept, sk
	}
}

// and adds t, newer than every time in sk, to the dropped fires.
func (sk Skipped) and(t time.Time) Skipped {
	if sk.Count == 0 {
		sk.First = t
	}
	sk.Count++
	sk.Last = t
	return sk
}

// secondsSince is t - start in whole seconds, rounded down; start is a
// whole second. Unlike time.Sub it does not saturate after 292 years.
func secondsSince(start, t time.Time) int64 {
	return t.Unix() - start.Unix()
}

// floorDiv is a / b rounded toward minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
