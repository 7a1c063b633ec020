package specs

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	// The zone database, embedded: the engine's image is empty (FROM
	// scratch), so a schedule's timezone must not depend on the machine's.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Schedule says when an operation runs again and again. Its concrete types
// are *CronSchedule, *IntervalSchedule and *DateTimeSchedule.
type Schedule interface {
	ScheduleKind() string
	validate(p Path) ErrorList
}

// CronSchedule fires on a cron expression, read in Timezone (UTC when
// unset).
//
// Timezone, CatchUp and MaxCatchUp go beyond the reference, which has
// neither a time zone (croniter in UTC) nor a catch-up policy.
type CronSchedule struct {
	Kind          string    `json:"kind"`
	Cron          string    `json:"cron" plexus:"required"`
	StartAt       string    `json:"startAt,omitempty"`
	EndAt         string    `json:"endAt,omitempty"`
	MaxRuns       *IntOrRef `json:"maxRuns,omitempty"`
	DependsOnPast *bool     `json:"dependsOnPast,omitempty"`
	// Timezone is an IANA zone name such as Europe/Paris: the cron's
	// wall clock, and the zone of a startAt or endAt written without an
	// offset.
	Timezone string `json:"timezone,omitempty"`
	// CatchUp is what happens to the fires missed while the engine was
	// down (or while dependsOnPast held them back): one of CatchUps,
	// CatchUpAll when unset.
	CatchUp string `json:"catchUp,omitempty"`
	// MaxCatchUp bounds CatchUpAll: at most this many due fires are run
	// on one look, the most recent ones (DefaultMaxCatchUp when unset).
	MaxCatchUp *IntOrRef `json:"maxCatchUp,omitempty"`
}

// IntervalSchedule fires every `frequency` seconds. Timezone, CatchUp and
// MaxCatchUp are as in CronSchedule; an interval counts absolute seconds,
// so Timezone only says how to read a startAt or endAt written without an
// offset.
type IntervalSchedule struct {
	Kind          string    `json:"kind"`
	Frequency     *IntOrRef `json:"frequency,omitempty" plexus:"required"`
	StartAt       string    `json:"startAt,omitempty"`
	EndAt         string    `json:"endAt,omitempty"`
	MaxRuns       *IntOrRef `json:"maxRuns,omitempty"`
	DependsOnPast *bool     `json:"dependsOnPast,omitempty"`
	Timezone      string    `json:"timezone,omitempty"`
	CatchUp       string    `json:"catchUp,omitempty"`
	MaxCatchUp    *IntOrRef `json:"maxCatchUp,omitempty"`
}

// The catch-up policies of a cron or interval schedule: what it does with
// the fires that came due while nothing could fire them (docs/schedules.md).
const (
	// CatchUpAll runs the missed fires, oldest first, at most MaxCatchUp
	// of them (the most recent ones). The default.
	CatchUpAll = "all"
	// CatchUpLatest runs only the most recent due fire.
	CatchUpLatest = "latest"
	// CatchUpSkip runs none of the missed fires: a fire more than a
	// minute late is dropped, and the schedule goes on from now.
	CatchUpSkip = "skip"
)

// CatchUps lists the catch-up policies.
var CatchUps = []string{CatchUpAll, CatchUpLatest, CatchUpSkip}

// DefaultMaxCatchUp is maxCatchUp when unset.
const DefaultMaxCatchUp = 10

// BoundMaxCatchUp bounds maxCatchUp: one look at a schedule creates at
// most this many runs.
var BoundMaxCatchUp = Bound{1, 1000, "the most runs one look at a schedule creates"}

// DateTimeSchedule fires once, at startAt.
type DateTimeSchedule struct {
	Kind    string `json:"kind"`
	StartAt string `json:"startAt" plexus:"required"`
}

// ScheduleKind implementations.
func (s *CronSchedule) ScheduleKind() string     { return "cron" }
func (s *IntervalSchedule) ScheduleKind() string { return "interval" }
func (s *DateTimeSchedule) ScheduleKind() string { return "datetime" }

func init() {
	interfaceDecoders[reflect.TypeFor[Schedule]()] = func(d *decoder, n *yaml.Node, p Path) reflect.Value {
		return decodeByKind(d, n, p, "schedule", map[string]func() any{
			"cron":     func() any { return &CronSchedule{} },
			"interval": func() any { return &IntervalSchedule{} },
			"datetime": func() any { return &DateTimeSchedule{} },
		})
	}
}

// cronDescriptors are the shorthands the reference maps to 5-field crons.
var cronDescriptors = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@quarterly": "0 0 1 */3 *",
	"@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0", "@daily": "0 0 * * *",
	"@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// ParseCron parses a 5-field cron expression or a descriptor such as
// @daily (also @quarterly, which the reference supports).
func ParseCron(expr string) (cron.Schedule, error) {
	e := strings.TrimSpace(expr)
	if std, ok := cronDescriptors[strings.ToLower(e)]; ok {
		e = std
	}
	return cron.ParseStandard(e)
}

// ParseTime reads an ISO-8601 date-time as schedules write it: RFC 3339, a
// space instead of T, or no zone (UTC).
func ParseTime(s string) (time.Time, error) {
	return ParseTimeIn(s, time.UTC)
}

// ParseTimeIn is ParseTime reading a date-time written without an offset
// in loc.
func ParseTimeIn(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date-time", s)
}

// zones caches the time zones LoadTimezone found, so that a schedule read
// again does not read the zone database again.
var zones sync.Map // string -> *time.Location

// LoadTimezone returns the IANA time zone name (Europe/Paris, UTC). The
// zone database is embedded, so the answer does not depend on the machine;
// "Local", which does, and "" are refused.
func LoadTimezone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone name such as \"Europe/Paris\"", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w (an IANA name such as \"Europe/Paris\")", err)
	}
	zones.Store(name, l)
	return l, nil
}

// hasTZPrefix reports whether a cron expression names its own zone, as
// robfig/cron allows (`CRON_TZ=Europe/Paris 0 2 * * *`).
func hasTZPrefix(expr string) bool {
	e := strings.TrimSpace(expr)
	return strings.HasPrefix(e, "TZ=") || strings.HasPrefix(e, "CRON_TZ=")
}

// cronZoneName is the zone a cron expression names in its prefix, or "".
func cronZoneName(expr string) string {
	if !hasTZPrefix(expr) {
		return ""
	}
	_, name, _ := strings.Cut(strings.Fields(expr)[0], "=")
	return name
}

// ValidateSchedule checks a schedule as Parse does, its errors under p. The
// engine calls it again once templates are rendered; a field still holding
// a template is not checked here.
func ValidateSchedule(p Path, s Schedule) ErrorList {
	if s == nil {
		return ErrorList{Required(p, "a schedule is required")}
	}
	return s.validate(p)
}

// validateZone checks timezone and returns the zone to read startAt and
// endAt in (UTC when unset, templated or unknown).
func validateZone(p Path, timezone string) (*time.Location, ErrorList) {
	if timezone == "" || IsTemplate(timezone) {
		return time.UTC, nil
	}
	loc, err := LoadTimezone(timezone)
	if err != nil {
		return time.UTC, ErrorList{Invalidf(p.Child("timezone"), timezone, "%v", err)}
	}
	return loc, nil
}

// validateCatchUp checks catchUp and maxCatchUp.
func validateCatchUp(p Path, catchUp string, maxCatchUp *IntOrRef) ErrorList {
	var errs ErrorList
	if catchUp != "" && !IsTemplate(catchUp) {
		switch {
		case !slices.Contains(CatchUps, catchUp):
			errs = append(errs, NotSupported(p.Child("catchUp"), catchUp, CatchUps))
		case catchUp != CatchUpAll && maxCatchUp != nil:
			errs = append(errs, Invalidf(p.Child("maxCatchUp"), maxCatchUp.String(),
				"maxCatchUp bounds catchUp: all; with catchUp: %s at most one missed fire runs", catchUp))
		}
	}
	return append(errs, BoundMaxCatchUp.checkRef(p.Child("maxCatchUp"), maxCatchUp)...)
}

func validateWindow(p Path, startAt, endAt string, maxRuns *IntOrRef, loc *time.Location) ErrorList {
	var errs ErrorList
	var start, end time.Time
	var err error
	if startAt != "" && !IsTemplate(startAt) {
		if start, err = ParseTimeIn(startAt, loc); err != nil {
			errs = append(errs, Invalidf(p.Child("startAt"), startAt, "%v", err))
		}
	}
	if endAt != "" && !IsTemplate(endAt) {
		if end, err = ParseTimeIn(endAt, loc); err != nil {
			errs = append(errs, Invalidf(p.Child("endAt"), endAt, "%v", err))
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		errs = append(errs, Invalidf(p.Child("endAt"), endAt, "endAt must be after startAt (%s)", startAt))
	}
	return append(errs, atLeastOne(p.Child("maxRuns"), maxRuns)...)
}

func (s *CronSchedule) validate(p Path) ErrorList {
	var errs ErrorList
	if strings.TrimSpace(s.Cron) == "" {
		errs = append(errs, Required(p.Child("cron"), "a cron schedule needs a cron expression, such as \"0 0 * * *\""))
	} else if !IsTemplate(s.Cron) {
		if _, err := ParseCron(s.Cron); err != nil {
			errs = append(errs, Invalidf(p.Child("cron"), s.Cron, "invalid cron expression %q: %v", s.Cron, err))
		}
	}
	loc, zerrs := validateZone(p, s.Timezone)
	errs = append(errs, zerrs...)
	if s.Timezone == "" && hasTZPrefix(s.Cron) {
		// The cron's own zone (checked with the cron) reads the window.
		if l, err := LoadTimezone(cronZoneName(s.Cron)); err == nil {
			loc = l
		}
	}
	if s.Timezone != "" && hasTZPrefix(s.Cron) {
		errs = append(errs, Invalidf(p.Child("timezone"), s.Timezone,
			"the cron expression names its own zone (%q); give the zone in timezone only", strings.Fields(s.Cron)[0]))
	}
	errs = append(errs, validateCatchUp(p, s.CatchUp, s.MaxCatchUp)...)
	return append(errs, validateWindow(p, s.StartAt, s.EndAt, s.MaxRuns, loc)...)
}

func (s *IntervalSchedule) validate(p Path) ErrorList {
	var errs ErrorList
	if s.Frequency == nil {
		errs = append(errs, Required(p.Child("frequency"), "an interval schedule needs a frequency in seconds"))
	}
	errs = append(errs, BoundFrequency.checkRef(p.Child("frequency"), s.Frequency)...)
	loc, zerrs := validateZone(p, s.Timezone)
	errs = append(errs, zerrs...)
	errs = append(errs, validateCatchUp(p, s.CatchUp, s.MaxCatchUp)...)
	return append(errs, validateWindow(p, s.StartAt, s.EndAt, s.MaxRuns, loc)...)
}

func (s *DateTimeSchedule) validate(p Path) ErrorList {
	if s.StartAt == "" {
		return ErrorList{Required(p.Child("startAt"), "a datetime schedule needs startAt")}
	}
	return validateWindow(p, s.StartAt, "", nil, time.UTC)
}
