package triggers

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plexus-ml/plexus/specs"
)

// ts reads an RFC 3339 time.
func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// show renders times as RFC 3339 in UTC, for readable diffs.
func show(l []time.Time) []string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = t.UTC().Format(time.RFC3339)
	}
	return out
}

func mustSchedule(t testing.TB, s specs.Schedule) *Schedule {
	t.Helper()
	sc, err := NewSchedule("schedule", s)
	if err != nil {
		t.Fatalf("NewSchedule: %v", err)
	}
	return sc
}

func cronS(expr string) *specs.CronSchedule { return &specs.CronSchedule{Kind: "cron", Cron: expr} }

func intervalS(seconds int) *specs.IntervalSchedule {
	return &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Int(seconds)}
}

func yes() *bool { b := true; return &b }

func TestNextN(t *testing.T) {
	withCron := func(expr string, f func(*specs.CronSchedule)) *specs.CronSchedule {
		s := cronS(expr)
		f(s)
		return s
	}
	withInterval := func(seconds int, f func(*specs.IntervalSchedule)) *specs.IntervalSchedule {
		s := intervalS(seconds)
		f(s)
		return s
	}
	created := "2024-05-10T10:17:42.5Z"
	cases := map[string]struct {
		s       specs.Schedule
		created string
		last    string // State.Last, "" for none
		fired   int
		n       int
		want    []string
	}{
		"cron from creation": {s: cronS("*/15 * * * *"), created: created, n: 3,
			want: []string{"2024-05-10T10:30:00Z", "2024-05-10T10:45:00Z", "2024-05-10T11:00:00Z"}},
		"cron after the last fire": {s: cronS("0 9 * * 1-5"), created: created, last: "2024-05-10T09:00:00Z", n: 2,
			want: []string{"2024-05-13T09:00:00Z", "2024-05-14T09:00:00Z"}}, // Friday, then Monday
		"cron from startAt, which it matches": {s: withCron("0 */6 * * *", func(s *specs.CronSchedule) { s.StartAt = "2024-06-01T06:00:00Z" }),
			created: created, n: 2, want: []string{"2024-06-01T06:00:00Z", "2024-06-01T12:00:00Z"}},
		"cron from startAt, which it does not match": {s: withCron("0 */6 * * *", func(s *specs.CronSchedule) { s.StartAt = "2024-06-01T07:30:00Z" }),
			created: created, n: 1, want: []string{"2024-06-01T12:00:00Z"}},
		"cron startAt in the past": {s: withCron("0 0 * * *", func(s *specs.CronSchedule) { s.StartAt = "2024-01-01" }),
			created: created, n: 2, want: []string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"}},
		"cron endAt is exclusive": {s: withCron("0 * * * *", func(s *specs.CronSchedule) {
			s.StartAt, s.EndAt = "2024-06-01T10:00:00Z", "2024-06-01T12:00:00Z"
		}), created: created, n: 5, want: []string{"2024-06-01T10:00:00Z", "2024-06-01T11:00:00Z"}},
		"cron maxRuns": {s: withCron("@hourly", func(s *specs.CronSchedule) { s.MaxRuns = specs.Int(3) }),
			created: created, n: 5, want: []string{"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z", "2024-05-10T13:00:00Z"}},
		"cron maxRuns counts what was fired": {s: withCron("@hourly", func(s *specs.CronSchedule) { s.MaxRuns = specs.Int(3) }),
			created: created, last: "2024-05-10T12:00:00Z", fired: 2, n: 5, want: []string{"2024-05-10T13:00:00Z"}},
		"cron maxRuns reached": {s: withCron("@hourly", func(s *specs.CronSchedule) { s.MaxRuns = specs.Int(3) }),
			created: created, last: "2024-05-10T13:00:00Z", fired: 3, n: 5, want: nil},
		"cron that never matches": {s: cronS("0 0 30 2 *"), created: created, n: 2, want: nil},
		"@every is an interval from the start": {s: cronS("@every 90m"), created: created, n: 2,
			want: []string{"2024-05-10T10:17:42Z", "2024-05-10T11:47:42Z"}},
		"interval from creation, to the second": {s: intervalS(3600), created: created, n: 3,
			want: []string{"2024-05-10T10:17:42Z", "2024-05-10T11:17:42Z", "2024-05-10T12:17:42Z"}},
		"interval from startAt": {s: withInterval(600, func(s *specs.IntervalSchedule) { s.StartAt = "2024-06-01 08:00" }),
			created: created, n: 2, want: []string{"2024-06-01T08:00:00Z", "2024-06-01T08:10:00Z"}},
		"interval on its grid after a late last fire": {s: withInterval(600, func(s *specs.IntervalSchedule) { s.StartAt = "2024-06-01 08:00" }),
			created: created, last: "2024-06-01T08:10:00Z", n: 2, want: []string{"2024-06-01T08:20:00Z", "2024-06-01T08:30:00Z"}},
		"interval endAt is exclusive": {s: withInterval(600, func(s *specs.IntervalSchedule) {
			s.StartAt, s.EndAt = "2024-06-01T08:00:00Z", "2024-06-01T08:20:00Z"
		}), created: created, n: 5, want: []string{"2024-06-01T08:00:00Z", "2024-06-01T08:10:00Z"}},
		"interval startAt centuries ago": {s: withInterval(86400, func(s *specs.IntervalSchedule) { s.StartAt = "1601-01-01T00:00:00Z" }),
			created: created, last: "2024-05-09T00:00:00Z", n: 1, want: []string{"2024-05-10T00:00:00Z"}},
		"datetime": {s: &specs.DateTimeSchedule{Kind: "datetime", StartAt: "2024-06-01T12:00:00+02:00"}, created: created, n: 3,
			want: []string{"2024-06-01T10:00:00Z"}},
		"datetime fired": {s: &specs.DateTimeSchedule{Kind: "datetime", StartAt: "2024-06-01T12:00:00Z"}, created: created,
			last: "2024-06-01T12:00:00Z", fired: 1, n: 3, want: nil},
		"n 0": {s: cronS("@hourly"), created: created, n: 0, want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := State{Created: ts(t, tc.created), Fired: tc.fired}
			if tc.last != "" {
				st.Last = ts(t, tc.last)
			}
			got := mustSchedule(t, tc.s).NextN(st, tc.n)
			if diff := cmp.Diff(tc.want, show(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("NextN (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescriptors(t *testing.T) {
	created := "2024-05-10T10:17:00Z"
	for expr, want := range map[string][]string{
		"@hourly":    {"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z"},
		"@daily":     {"2024-05-11T00:00:00Z", "2024-05-12T00:00:00Z"},
		"@midnight":  {"2024-05-11T00:00:00Z", "2024-05-12T00:00:00Z"},
		"@weekly":    {"2024-05-12T00:00:00Z", "2024-05-19T00:00:00Z"}, // Sundays
		"@monthly":   {"2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z"},
		"@quarterly": {"2024-07-01T00:00:00Z", "2024-10-01T00:00:00Z"},
		"@yearly":    {"2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		"@annually":  {"2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		"@Daily":     {"2024-05-11T00:00:00Z", "2024-05-12T00:00:00Z"},
	} {
		t.Run(expr, func(t *testing.T) {
			got := mustSchedule(t, cronS(expr)).NextN(State{Created: ts(t, created)}, 2)
			if diff := cmp.Diff(want, show(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanOnTime: a schedule looked at when it wakes fires each nominal
// time once, and wakes at the next.
func TestPlanOnTime(t *testing.T) {
	for name, tc := range map[string]struct {
		s    specs.Schedule
		want []string
	}{
		"cron":     {cronS("*/20 * * * *"), []string{"2024-05-10T10:20:00Z", "2024-05-10T10:40:00Z", "2024-05-10T11:00:00Z", "2024-05-10T11:20:00Z"}},
		"interval": {intervalS(1200), []string{"2024-05-10T10:05:00Z", "2024-05-10T10:25:00Z", "2024-05-10T10:45:00Z", "2024-05-10T11:05:00Z"}},
	} {
		t.Run(name, func(t *testing.T) {
			sc := mustSchedule(t, tc.s)
			st := State{Created: ts(t, "2024-05-10T10:05:00Z")}
			now := st.Created
			var fired []time.Time
			for look := 0; len(fired) < 4; look++ {
				d := sc.Plan(st, now)
				if d.Skipped.Count != 0 || d.Done || len(d.Fire) > 1 || look > 5 {
					t.Fatalf("at %s: %+v", now, d)
				}
				fired = append(fired, d.Fire...)
				st = d.Advance(st)
				st.Running = false
				if d.Wake.IsZero() || !d.Wake.After(now) {
					t.Fatalf("at %s: Wake = %v", now, d.Wake)
				}
				// Looking again before the wake fires nothing.
				if again := sc.Plan(st, d.Wake.Add(-time.Second)); len(again.Fire) != 0 || !again.Wake.Equal(d.Wake) {
					t.Fatalf("a second before the wake: %+v", again)
				}
				now = d.Wake.Add(3 * time.Second) // the engine is a little late
			}
			if diff := cmp.Diff(tc.want, show(fired)); diff != "" {
				t.Errorf("fires (-want +got):\n%s", diff)
			}
			if st.Fired != 4 || !st.Last.Equal(fired[3]) {
				t.Errorf("state = %+v", st)
			}
		})
	}
}

// TestPlanCatchUp: the engine was down from just after the 10:00 fire of
// an hourly schedule until 13:20; the 11:00, 12:00 and 13:00 fires were
// missed.
func TestPlanCatchUp(t *testing.T) {
	type want struct {
		fire    []string
		skipped int
		first   string // oldest skipped
		last    string // newest skipped
		wake    string
	}
	cases := map[string]struct {
		catchUp    string
		maxCatchUp int
		now        string
		want       want
	}{
		"default is all, oldest first": {now: "2024-05-10T13:20:00Z",
			want: want{fire: []string{"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z", "2024-05-10T13:00:00Z"}, wake: "2024-05-10T14:00:00Z"}},
		"all": {catchUp: "all", now: "2024-05-10T13:20:00Z",
			want: want{fire: []string{"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z", "2024-05-10T13:00:00Z"}, wake: "2024-05-10T14:00:00Z"}},
		"all with maxCatchUp 2 drops the oldest": {catchUp: "all", maxCatchUp: 2, now: "2024-05-10T13:20:00Z",
			want: want{fire: []string{"2024-05-10T12:00:00Z", "2024-05-10T13:00:00Z"}, skipped: 1,
				first: "2024-05-10T11:00:00Z", last: "2024-05-10T11:00:00Z", wake: "2024-05-10T14:00:00Z"}},
		"maxCatchUp without catchUp": {maxCatchUp: 1, now: "2024-05-10T13:20:00Z",
			want: want{fire: []string{"2024-05-10T13:00:00Z"}, skipped: 2,
				first: "2024-05-10T11:00:00Z", last: "2024-05-10T12:00:00Z", wake: "2024-05-10T14:00:00Z"}},
		"latest": {catchUp: "latest", now: "2024-05-10T13:20:00Z",
			want: want{fire: []string{"2024-05-10T13:00:00Z"}, skipped: 2,
				first: "2024-05-10T11:00:00Z", last: "2024-05-10T12:00:00Z", wake: "2024-05-10T14:00:00Z"}},
		"skip": {catchUp: "skip", now: "2024-05-10T13:20:00Z",
			want: want{skipped: 3, first: "2024-05-10T11:00:00Z", last: "2024-05-10T13:00:00Z", wake: "2024-05-10T14:00:00Z"}},
		"skip back within the grace": {catchUp: "skip", now: "2024-05-10T13:01:00Z",
			want: want{fire: []string{"2024-05-10T13:00:00Z"}, skipped: 2,
				first: "2024-05-10T11:00:00Z", last: "2024-05-10T12:00:00Z", wake: "2024-05-10T14:00:00Z"}},
		"skip a second past the grace": {catchUp: "skip", now: "2024-05-10T13:01:01Z",
			want: want{skipped: 3, first: "2024-05-10T11:00:00Z", last: "2024-05-10T13:00:00Z", wake: "2024-05-10T14:00:00Z"}},
	}
	for _, kind := range []string{"cron", "interval"} {
		for name, tc := range cases {
			t.Run(kind+"/"+name, func(t *testing.T) {
				var s specs.Schedule
				switch kind {
				case "cron":
					c := cronS("0 * * * *")
					c.CatchUp = tc.catchUp
					if tc.maxCatchUp > 0 {
						c.MaxCatchUp = specs.Int(tc.maxCatchUp)
					}
					s = c
				default:
					i := intervalS(3600)
					i.StartAt = "2024-05-10T09:00:00Z"
					i.CatchUp = tc.catchUp
					if tc.maxCatchUp > 0 {
						i.MaxCatchUp = specs.Int(tc.maxCatchUp)
					}
					s = i
				}
				sc := mustSchedule(t, s)
				st := State{Created: ts(t, "2024-05-10T09:00:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 2}
				d := sc.Plan(st, ts(t, tc.now))
				got := want{fire: show(d.Fire), skipped: d.Skipped.Count, wake: show([]time.Time{d.Wake})[0]}
				if d.Skipped.Count > 0 {
					got.first, got.last = show([]time.Time{d.Skipped.First})[0], show([]time.Time{d.Skipped.Last})[0]
				}
				if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Plan (-want +got):\n%s", diff)
				}
				if d.Done || d.Skipped.AtLeast {
					t.Errorf("Done = %v, AtLeast = %v", d.Done, d.Skipped.AtLeast)
				}
				// Stored, the decision leaves nothing due: asking again at
				// the same time fires and drops nothing.
				next := d.Advance(st)
				if next.Fired != st.Fired+len(d.Fire) || !next.Last.Equal(ts(t, "2024-05-10T13:00:00Z")) {
					t.Errorf("Advance = %+v", next)
				}
				if again := sc.Plan(next, ts(t, tc.now)); len(again.Fire) != 0 || again.Skipped.Count != 0 {
					t.Errorf("asked again: %+v", again)
				}
			})
		}
	}
}

// TestPlanDependsOnPast: with dependsOnPast, nothing fires while a child
// runs, and a backlog fires one at a time.
func TestPlanDependsOnPast(t *testing.T) {
	s := cronS("0 * * * *")
	s.DependsOnPast = yes()
	sc := mustSchedule(t, s)
	st := State{Created: ts(t, "2024-05-10T09:30:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 1, Running: true}

	// 10:00's child still runs at 10:30: wait for the 11:00 time.
	d := sc.Plan(st, ts(t, "2024-05-10T10:30:00Z"))
	if len(d.Fire) != 0 || !d.Wake.Equal(ts(t, "2024-05-10T11:00:00Z")) || d.Done {
		t.Fatalf("running, nothing due: %+v", d)
	}
	// At 12:10 it still runs, 11:00 and 12:00 are due: nothing fires, and
	// no time to wake at: the child's end is the next look.
	d = sc.Plan(st, ts(t, "2024-05-10T12:10:00Z"))
	if len(d.Fire) != 0 || !d.Wake.IsZero() || d.Done || d.Skipped.Count != 0 {
		t.Fatalf("running, two due: %+v", d)
	}
	// It ended at 12:10: 11:00 fires alone; 12:00 waits for it.
	st.Running = false
	d = sc.Plan(st, ts(t, "2024-05-10T12:10:00Z"))
	if diff := cmp.Diff([]string{"2024-05-10T11:00:00Z"}, show(d.Fire)); diff != "" || !d.Wake.IsZero() || d.Done {
		t.Fatalf("first of the backlog (-want +got):\n%s%+v", diff, d)
	}
	st = d.Advance(st)
	if !st.Running || st.Fired != 2 {
		t.Fatalf("Advance = %+v", st)
	}
	if d := sc.Plan(st, ts(t, "2024-05-10T12:20:00Z")); len(d.Fire) != 0 {
		t.Fatalf("11:00 runs, yet: %+v", d)
	}
	// 11:00's child ended at 12:30: 12:00 fires, then wait for 13:00.
	st.Running = false
	d = sc.Plan(st, ts(t, "2024-05-10T12:30:00Z"))
	if diff := cmp.Diff([]string{"2024-05-10T12:00:00Z"}, show(d.Fire)); diff != "" || !d.Wake.Equal(ts(t, "2024-05-10T13:00:00Z")) {
		t.Fatalf("second of the backlog (-want +got):\n%s%+v", diff, d)
	}

	// Without dependsOnPast a running child changes nothing.
	free := mustSchedule(t, cronS("0 * * * *"))
	d = free.Plan(State{Created: ts(t, "2024-05-10T09:30:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 1, Running: true},
		ts(t, "2024-05-10T12:10:00Z"))
	if diff := cmp.Diff([]string{"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z"}, show(d.Fire)); diff != "" {
		t.Fatalf("without dependsOnPast (-want +got):\n%s", diff)
	}
}

// TestPlanDependsOnPastPolicies: when a long child ends, the policy decides
// which of the fires that came due meanwhile runs.
func TestPlanDependsOnPastPolicies(t *testing.T) {
	for policy, want := range map[string]struct {
		fire    []string
		skipped int
		wake    string
	}{
		// 11:00, 12:00 and 13:00 came due while 10:00 ran until 13:30.
		"all":    {[]string{"2024-05-10T11:00:00Z"}, 0, "0001-01-01T00:00:00Z"},
		"latest": {[]string{"2024-05-10T13:00:00Z"}, 2, "2024-05-10T14:00:00Z"},
		"skip":   {nil, 3, "2024-05-10T14:00:00Z"},
	} {
		t.Run(policy, func(t *testing.T) {
			s := cronS("0 * * * *")
			s.DependsOnPast, s.CatchUp = yes(), policy
			d := mustSchedule(t, s).Plan(State{Created: ts(t, "2024-05-10T09:30:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 1},
				ts(t, "2024-05-10T13:30:00Z"))
			if diff := cmp.Diff(want.fire, show(d.Fire), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("fires (-want +got):\n%s", diff)
			}
			if d.Skipped.Count != want.skipped || show([]time.Time{d.Wake})[0] != want.wake {
				t.Errorf("skipped %d, wake %v; want %d, %s", d.Skipped.Count, d.Wake, want.skipped, want.wake)
			}
		})
	}
}

func TestPlanMaxRunsAndEndAt(t *testing.T) {
	t.Run("maxRuns ends the schedule with its last fire", func(t *testing.T) {
		s := intervalS(60)
		s.MaxRuns = specs.Int(2)
		sc := mustSchedule(t, s)
		st := State{Created: ts(t, "2024-05-10T10:00:00Z")}
		d := sc.Plan(st, st.Created)
		if len(d.Fire) != 1 || d.Done {
			t.Fatalf("first: %+v", d)
		}
		st = d.Advance(st)
		d = sc.Plan(st, ts(t, "2024-05-10T10:01:00Z"))
		if diff := cmp.Diff([]string{"2024-05-10T10:01:00Z"}, show(d.Fire)); diff != "" || !d.Done || !d.Wake.IsZero() {
			t.Fatalf("second (-want +got):\n%s%+v", diff, d)
		}
		st = d.Advance(st)
		if d := sc.Plan(st, ts(t, "2024-05-10T11:00:00Z")); len(d.Fire) != 0 || !d.Done {
			t.Fatalf("after: %+v", d)
		}
	})
	t.Run("maxRuns bounds a catch-up", func(t *testing.T) {
		s := cronS("0 * * * *")
		s.MaxRuns = specs.Int(3)
		// One fire so far; 11:00, 12:00 and 13:00 are due; two runs left.
		d := mustSchedule(t, s).Plan(State{Created: ts(t, "2024-05-10T09:30:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 1},
			ts(t, "2024-05-10T13:20:00Z"))
		if diff := cmp.Diff([]string{"2024-05-10T11:00:00Z", "2024-05-10T12:00:00Z"}, show(d.Fire)); diff != "" || !d.Done || d.Skipped.Count != 0 {
			t.Fatalf("(-want +got):\n%s%+v", diff, d)
		}
	})
	t.Run("endAt", func(t *testing.T) {
		s := cronS("0 * * * *")
		s.EndAt = "2024-05-10T12:00:00Z"
		sc := mustSchedule(t, s)
		st := State{Created: ts(t, "2024-05-10T09:30:00Z"), Last: ts(t, "2024-05-10T10:00:00Z"), Fired: 1}
		// Down until after endAt: 11:00 still fires, 12:00 is at endAt and
		// does not, and the schedule is done.
		d := sc.Plan(st, ts(t, "2024-05-10T12:30:00Z"))
		if diff := cmp.Diff([]string{"2024-05-10T11:00:00Z"}, show(d.Fire)); diff != "" || !d.Done || !d.Wake.IsZero() {
			t.Fatalf("(-want +got):\n%s%+v", diff, d)
		}
		// On time, the 11:00 fire is the last: done with it.
		d = sc.Plan(st, ts(t, "2024-05-10T11:00:00Z"))
		if len(d.Fire) != 1 || !d.Done {
			t.Fatalf("on time: %+v", d)
		}
	})
	t.Run("before startAt", func(t *testing.T) {
		s := intervalS(60)
		s.StartAt = "2024-06-01T00:00:00Z"
		d := mustSchedule(t, s).Plan(State{Created: ts(t, "2024-05-10T10:00:00Z")}, ts(t, "2024-05-10T10:00:00Z"))
		if len(d.Fire) != 0 || d.Done || !d.Wake.Equal(ts(t, "2024-06-01T00:00:00Z")) {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("a cron that never matches is done", func(t *testing.T) {
		d := mustSchedule(t, cronS("0 0 31 4 *")).Plan(State{Created: ts(t, "2024-05-10T10:00:00Z")}, ts(t, "2024-05-10T10:00:00Z"))
		if len(d.Fire) != 0 || !d.Done {
			t.Fatalf("%+v", d)
		}
	})
}

// TestPlanDateTime: a one-shot fires once, even when looked at late.
func TestPlanDateTime(t *testing.T) {
	sc := mustSchedule(t, &specs.DateTimeSchedule{Kind: "datetime", StartAt: "2024-06-01 12:00"})
	st := State{Created: ts(t, "2024-05-10T10:00:00Z")}
	d := sc.Plan(st, st.Created)
	if len(d.Fire) != 0 || d.Done || !d.Wake.Equal(ts(t, "2024-06-01T12:00:00Z")) {
		t.Fatalf("before: %+v", d)
	}
	// The engine was down from May to July: it fires once when back.
	d = sc.Plan(st, ts(t, "2024-07-01T00:00:00Z"))
	if diff := cmp.Diff([]string{"2024-06-01T12:00:00Z"}, show(d.Fire)); diff != "" || !d.Done || d.Skipped.Count != 0 {
		t.Fatalf("late (-want +got):\n%s%+v", diff, d)
	}
	if d := sc.Plan(d.Advance(st), ts(t, "2024-07-02T00:00:00Z")); len(d.Fire) != 0 || !d.Done {
		t.Fatalf("after: %+v", d)
	}
}

// TestDST: a cron in a zone fires at the instants whose wall clock matches
// it. On the spring-forward day a time in the skipped hour does not exist
// and does not fire; on the fall-back day a time in the repeated hour
// exists twice and fires twice. An interval counts seconds and ignores the
// wall clock.
func TestDST(t *testing.T) {
	cases := map[string]struct {
		s       specs.Schedule
		created string
		n       int
		want    []string
	}{
		// Europe/Paris, 2024-03-31: 02:00 CET becomes 03:00 CEST.
		"Paris spring forward, 02:30 does not exist": {s: &specs.CronSchedule{Kind: "cron", Cron: "30 2 * * *", Timezone: "Europe/Paris"},
			created: "2024-03-29T12:00:00Z", n: 3,
			want: []string{"2024-03-30T01:30:00Z", "2024-04-01T00:30:00Z", "2024-04-02T00:30:00Z"}},
		"Paris spring forward, hourly": {s: &specs.CronSchedule{Kind: "cron", Cron: "0 * * * *", Timezone: "Europe/Paris"},
			created: "2024-03-30T23:30:00Z", n: 3,
			want: []string{"2024-03-31T00:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z"}}, // 01:00 CET, 03:00 and 04:00 CEST
		// Europe/Paris, 2024-10-27: 03:00 CEST becomes 02:00 CET.
		"Paris fall back, 02:30 fires twice": {s: &specs.CronSchedule{Kind: "cron", Cron: "30 2 * * *", Timezone: "Europe/Paris"},
			created: "2024-10-26T12:00:00Z", n: 3,
			want: []string{"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"}},
		"Paris 09:00 keeps its wall clock": {s: &specs.CronSchedule{Kind: "cron", Cron: "0 9 * * *", Timezone: "Europe/Paris"},
			created: "2024-10-26T12:00:00Z", n: 2,
			want: []string{"2024-10-27T08:00:00Z", "2024-10-28T08:00:00Z"}},
		// America/New_York, 2024-03-10: 02:00 EST becomes 03:00 EDT.
		"New York spring forward, 02:30 does not exist": {s: &specs.CronSchedule{Kind: "cron", Cron: "30 2 * * *", Timezone: "America/New_York"},
			created: "2024-03-08T12:00:00Z", n: 3,
			want: []string{"2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"}},
		// America/New_York, 2024-11-03: 02:00 EDT becomes 01:00 EST.
		"New York fall back, 01:30 fires twice": {s: &specs.CronSchedule{Kind: "cron", Cron: "30 1 * * *", Timezone: "America/New_York"},
			created: "2024-11-02T12:00:00Z", n: 3,
			want: []string{"2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"}},
		"CRON_TZ prefix": {s: cronS("CRON_TZ=America/New_York 30 1 * * *"),
			created: "2024-11-02T12:00:00Z", n: 2,
			want: []string{"2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"}},
		"interval across fall back counts seconds": {s: &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Int(86400),
			Timezone: "Europe/Paris", StartAt: "2024-10-26 02:30"},
			created: "2024-10-01T00:00:00Z", n: 3,
			want: []string{"2024-10-26T00:30:00Z", "2024-10-27T00:30:00Z", "2024-10-28T00:30:00Z"}}, // 02:30 CEST, 02:30 CEST, 01:30 CET
		"zoneless startAt read in the zone": {s: &specs.CronSchedule{Kind: "cron", Cron: "0 * * * *", Timezone: "Asia/Tokyo",
			StartAt: "2024-06-01 09:00", EndAt: "2024-06-01 11:00"},
			created: "2024-05-01T00:00:00Z", n: 5,
			want: []string{"2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z"}},
		"UTC by default": {s: cronS("30 2 * * *"), created: "2024-03-30T12:00:00Z", n: 2,
			want: []string{"2024-03-31T02:30:00Z", "2024-04-01T02:30:00Z"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mustSchedule(t, tc.s).NextN(State{Created: ts(t, tc.created)}, tc.n)
			if diff := cmp.Diff(tc.want, show(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Plan agrees: on the fall-back day two children are created, with
	// different schedule_at.
	sc := mustSchedule(t, &specs.CronSchedule{Kind: "cron", Cron: "30 2 * * *", Timezone: "Europe/Paris"})
	st := State{Created: ts(t, "2024-10-26T12:00:00Z")}
	var fired []time.Time
	for _, now := range []string{"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"} {
		d := sc.Plan(st, ts(t, now))
		fired = append(fired, d.Fire...)
		st = d.Advance(st)
	}
	if diff := cmp.Diff([]string{"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"}, show(fired)); diff != "" {
		t.Errorf("Plan on the fall-back day (-want +got):\n%s", diff)
	}
	if loc := sc.Location(); loc.String() != "Europe/Paris" {
		t.Errorf("Location = %v", loc)
	}
}

// TestCatchUpWindows checks the cron catch-up, which looks back in growing
// windows, against stepping through every fire, for schedules of many
// densities and downtimes of many lengths.
func TestCatchUpWindows(t *testing.T) {
	// Each cron with the longest downtime to step through (dense ones
	// pass the counting bound sooner).
	day := 24 * time.Hour
	crons := map[string]time.Duration{"* * * * *": 25 * time.Hour, "*/7 * * * *": 9 * day, "0 * * * *": 9 * day, "15 3 * * *": 400 * day,
		"0 0 1 * *": 400 * day, "* * 1 1 *": 400 * day, "0 12 * * 1-5": 400 * day, "30 2 * * *": 400 * day}
	created := ts(t, "2023-01-01T00:00:00Z")
	gaps := []time.Duration{0, 30 * time.Second, time.Minute, 5 * time.Minute, time.Hour, 25 * time.Hour, 9 * day, 400 * day}
	for expr, longest := range crons {
		for _, gap := range gaps {
			if gap > longest {
				continue
			}
			sc := mustSchedule(t, &specs.CronSchedule{Kind: "cron", Cron: expr, Timezone: "Europe/Paris"})
			st := State{Created: created, Last: sc.NextN(State{Created: created}, 1)[0], Fired: 1}
			// Looked at between fires, or exactly at one (then the windows'
			// edges fall on fires too).
			for _, offset := range []time.Duration{0, 17 * time.Second} {
				now := st.Last.Add(gap).Add(offset)
				// Every due fire, stepping.
				var due []time.Time
				for x := sc.next(sc.start(st), st.Last); !x.IsZero() && !x.After(now); x = sc.next(sc.start(st), x) {
					due = append(due, x)
				}
				for _, k := range []int{1, 2, 10, 1000} {
					c := &specs.CronSchedule{Kind: "cron", Cron: expr, Timezone: "Europe/Paris", MaxCatchUp: specs.Int(k)}
					d := mustSchedule(t, c).Plan(st, now)
					m := min(k, len(due))
					want, wantSkipped := due[len(due)-m:], len(due)-m
					name := fmt.Sprintf("%s k=%d gap=%v+%v", expr, k, gap, offset)
					if diff := cmp.Diff(show(want), show(d.Fire), cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("%s: fires (-want +got):\n%s", name, diff)
					}
					switch {
					case d.Skipped.AtLeast && (d.Skipped.Count < maxCounted || d.Skipped.Count > wantSkipped):
						t.Errorf("%s: skipped at least %d, want a bound of %d", name, d.Skipped.Count, wantSkipped)
					case !d.Skipped.AtLeast && d.Skipped.Count != wantSkipped:
						t.Errorf("%s: skipped %d, want %d", name, d.Skipped.Count, wantSkipped)
					case d.Skipped.AtLeast && wantSkipped <= maxCounted:
						t.Errorf("%s: skipped at least %d, want exactly %d", name, d.Skipped.Count, wantSkipped)
					}
					if wantSkipped > 0 && (!d.Skipped.First.Equal(due[0]) || !d.Skipped.Last.Equal(due[wantSkipped-1])) {
						t.Errorf("%s: skipped %v..%v, want %v..%v", name, d.Skipped.First, d.Skipped.Last, due[0], due[wantSkipped-1])
					}
				}
			}
		}
	}
}

// TestLongDowntime: a schedule whose due fires go back centuries plans at
// once: an interval counts its dropped fires exactly, a cron counts some
// (maxCounted) and says there were more.
func TestLongDowntime(t *testing.T) {
	now := ts(t, "2024-05-10T10:00:30Z")
	start := time.Now()

	i := intervalS(1)
	i.StartAt = "1800-01-01T00:00:00Z"
	d := mustSchedule(t, i).Plan(State{Created: now}, now)
	wantFire := []string{"2024-05-10T10:00:21Z", "2024-05-10T10:00:22Z", "2024-05-10T10:00:23Z", "2024-05-10T10:00:24Z", "2024-05-10T10:00:25Z",
		"2024-05-10T10:00:26Z", "2024-05-10T10:00:27Z", "2024-05-10T10:00:28Z", "2024-05-10T10:00:29Z", "2024-05-10T10:00:30Z"}
	if diff := cmp.Diff(wantFire, show(d.Fire)); diff != "" {
		t.Errorf("interval fires (-want +got):\n%s", diff)
	}
	wantCount := int(now.Unix()-ts(t, "1800-01-01T00:00:00Z").Unix()) + 1 - 10
	if d.Skipped.Count != wantCount || d.Skipped.AtLeast || !d.Skipped.First.Equal(ts(t, "1800-01-01T00:00:00Z")) {
		t.Errorf("interval skipped %+v, want %d from 1800", d.Skipped, wantCount)
	}

	c := cronS("* * * * *")
	c.StartAt, c.CatchUp = "1800-01-01T00:00:00Z", "latest"
	d = mustSchedule(t, c).Plan(State{Created: now}, now)
	if diff := cmp.Diff([]string{"2024-05-10T10:00:00Z"}, show(d.Fire)); diff != "" {
		t.Errorf("cron fires (-want +got):\n%s", diff)
	}
	if d.Skipped.Count < maxCounted || !d.Skipped.AtLeast || !d.Skipped.First.Equal(ts(t, "1800-01-01T00:00:00Z")) ||
		!d.Skipped.Last.Equal(ts(t, "2024-05-10T09:59:00Z")) {
		t.Errorf("cron skipped %+v", d.Skipped)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("planning took %v", el)
	}
}

func TestNewScheduleErrors(t *testing.T) {
	var nilCron *specs.CronSchedule
	cases := map[string]struct {
		s    specs.Schedule
		want []string // "path: message" substrings, one per error
	}{
		"templates not rendered": {
			s: &specs.CronSchedule{Kind: "cron", Cron: "{{ cron }}", Timezone: "{{ tz }}", MaxRuns: specs.Ref("{{ n }}"), CatchUp: "{{ policy }}"},
			want: []string{`schedule.cron: the template "{{ cron }}" is not rendered`, `schedule.timezone: the template "{{ tz }}" is not rendered`,
				`schedule.catchUp: the template "{{ policy }}" is not rendered`, `schedule.maxRuns: the template "{{ n }}" is not rendered`},
		},
		"interval frequency not rendered": {
			s:    &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Ref("{{ every }}"), MaxCatchUp: specs.Ref("{{ m }}")},
			want: []string{`schedule.frequency: the template "{{ every }}" is not rendered`, `schedule.maxCatchUp: the template "{{ m }}" is not rendered`},
		},
		"datetime startAt not rendered": {
			s:    &specs.DateTimeSchedule{Kind: "datetime", StartAt: "{{ when }}"},
			want: []string{`schedule.startAt: the template "{{ when }}" is not rendered`},
		},
		"unknown timezone": {
			s:    &specs.CronSchedule{Kind: "cron", Cron: "@daily", Timezone: "Europe/Pariss"},
			want: []string{"schedule.timezone: unknown time zone Europe/Pariss"},
		},
		"bad catchUp": {
			s:    &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Int(60), CatchUp: "never"},
			want: []string{`schedule.catchUp: unsupported value "never": must be one of "all", "latest", "skip"`},
		},
		"rendered out of range": {
			s: &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Int(0), MaxCatchUp: specs.Int(5000), StartAt: "soon"},
			want: []string{"schedule.frequency: must be at least 1, got 0", "schedule.maxCatchUp: must be at most 1000",
				`schedule.startAt: "soon" is not an ISO-8601 date-time`},
		},
		"rendered bad cron": {
			s:    cronS("61 * * * *"),
			want: []string{`schedule.cron: invalid cron expression "61 * * * *"`},
		},
		"nil":       {s: nil, want: []string{"schedule: a schedule is required"}},
		"typed nil": {s: nilCron, want: []string{"schedule: a schedule is required"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sc, err := NewSchedule("schedule", tc.s)
			if err == nil {
				t.Fatalf("NewSchedule = %+v, want errors", sc)
			}
			var list specs.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not a specs.ErrorList: %v", err, err)
			}
			if len(list) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%v", len(list), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("no error says %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestScheduleSettings(t *testing.T) {
	c := &specs.CronSchedule{Kind: "cron", Cron: "@daily", CatchUp: "skip", DependsOnPast: yes()}
	sc := mustSchedule(t, c)
	if sc.Kind() != "cron" || sc.CatchUp() != "skip" || !sc.DependsOnPast() || sc.Location() != time.UTC {
		t.Errorf("cron: %s %s %v %v", sc.Kind(), sc.CatchUp(), sc.DependsOnPast(), sc.Location())
	}
	iv := mustSchedule(t, intervalS(60))
	if iv.Kind() != "interval" || iv.CatchUp() != specs.CatchUpAll || iv.MaxCatchUp() != specs.DefaultMaxCatchUp || iv.DependsOnPast() {
		t.Errorf("interval defaults: %s %s %d %v", iv.Kind(), iv.CatchUp(), iv.MaxCatchUp(), iv.DependsOnPast())
	}
}
