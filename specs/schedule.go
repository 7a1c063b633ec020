package specs

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Schedule says when an operation runs again and again. Its concrete types
// are *CronSchedule, *IntervalSchedule and *DateTimeSchedule.
type Schedule interface {
	ScheduleKind() string
	validate(p Path) ErrorList
}

// CronSchedule fires on a cron expression (UTC).
type CronSchedule struct {
	Kind          string    `json:"kind"`
	Cron          string    `json:"cron" plexus:"required"`
	StartAt       string    `json:"startAt,omitempty"`
	EndAt         string    `json:"endAt,omitempty"`
	MaxRuns       *IntOrRef `json:"maxRuns,omitempty"`
	DependsOnPast *bool     `json:"dependsOnPast,omitempty"`
}

// IntervalSchedule fires every `frequency` seconds.
type IntervalSchedule struct {
	Kind          string    `json:"kind"`
	Frequency     *IntOrRef `json:"frequency,omitempty" plexus:"required"`
	StartAt       string    `json:"startAt,omitempty"`
	EndAt         string    `json:"endAt,omitempty"`
	MaxRuns       *IntOrRef `json:"maxRuns,omitempty"`
	DependsOnPast *bool     `json:"dependsOnPast,omitempty"`
}

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
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date-time", s)
}

func validateWindow(p Path, startAt, endAt string, maxRuns *IntOrRef) ErrorList {
	var errs ErrorList
	var start, end time.Time
	var err error
	if startAt != "" && !IsTemplate(startAt) {
		if start, err = ParseTime(startAt); err != nil {
			errs = append(errs, Invalidf(p.Child("startAt"), startAt, "%v", err))
		}
	}
	if endAt != "" && !IsTemplate(endAt) {
		if end, err = ParseTime(endAt); err != nil {
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
	return append(errs, validateWindow(p, s.StartAt, s.EndAt, s.MaxRuns)...)
}

func (s *IntervalSchedule) validate(p Path) ErrorList {
	var errs ErrorList
	if s.Frequency == nil {
		errs = append(errs, Required(p.Child("frequency"), "an interval schedule needs a frequency in seconds"))
	}
	errs = append(errs, BoundFrequency.checkRef(p.Child("frequency"), s.Frequency)...)
	return append(errs, validateWindow(p, s.StartAt, s.EndAt, s.MaxRuns)...)
}

func (s *DateTimeSchedule) validate(p Path) ErrorList {
	if s.StartAt == "" {
		return ErrorList{Required(p.Child("startAt"), "a datetime schedule needs startAt")}
	}
	return validateWindow(p, s.StartAt, "", nil)
}
