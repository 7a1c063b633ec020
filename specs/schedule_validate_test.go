package specs

import (
	"strings"
	"testing"
	"time"
)

func TestValidateSchedules(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"cron":                 {src: vtSchedule(`{kind: cron, cron: "0 0 * * *", maxRuns: 3, dependsOnPast: true}`)},
		"cron @daily":          {src: vtSchedule(`{kind: cron, cron: "@daily"}`)},
		"cron @quarterly":      {src: vtSchedule(`{kind: cron, cron: "@quarterly"}`)},
		"cron template":        {src: vtSchedule(`{kind: cron, cron: "{{ cron }}"}`)},
		"cron with a window":   {src: vtSchedule(`{kind: cron, cron: "*/5 * * * *", startAt: "2024-01-01T00:00:00Z", endAt: "2024-02-01 00:00"}`)},
		"interval":             {src: vtSchedule(`{kind: interval, frequency: 3600, startAt: 2024-01-01T10:00:00Z}`)},
		"interval as a string": {src: vtSchedule(`{kind: interval, frequency: "600"}`)},
		"interval template":    {src: vtSchedule(`{kind: interval, frequency: "{{ every }}"}`)},
		"datetime":             {src: vtSchedule(`{kind: datetime, startAt: "2024-06-01 12:00:00"}`)},
		"datetime unquoted":    {src: vtSchedule(`{kind: datetime, startAt: 2024-06-01T12:00:00+02:00}`)},
		"cron minute 61": {
			src:  vtSchedule(`{kind: cron, cron: "61 * * * *"}`),
			want: []vtErr{{"schedule.cron", `invalid cron expression "61 * * * *"`, 4}},
		},
		"not a cron": {
			src:  vtSchedule(`{kind: cron, cron: "not a cron"}`),
			want: []vtErr{{"schedule.cron", `invalid cron expression "not a cron"`, 4}},
		},
		"cron with seconds": {
			src:  vtSchedule(`{kind: cron, cron: "0 0 0 * * *"}`),
			want: []vtErr{{"schedule.cron", "expected exactly 5 fields, found 6", 4}},
		},
		"unknown descriptor": {
			src:  vtSchedule(`{kind: cron, cron: "@fortnightly"}`),
			want: []vtErr{{"schedule.cron", "invalid cron expression", 4}},
		},
		"cron missing": {
			src:  vtSchedule("{kind: cron, maxRuns: 2}"),
			want: []vtErr{{"schedule.cron", "`cron` is required", 4}},
		},
		"interval without frequency": {
			src:  vtSchedule(`{kind: interval, startAt: "2024-01-01 10:00"}`),
			want: []vtErr{{"schedule.frequency", "`frequency` is required", 4}},
		},
		"interval frequency 0": {
			src:  vtSchedule("{kind: interval, frequency: 0}"),
			want: []vtErr{{"schedule.frequency", "must be at least 1, got 0", 4}},
		},
		"interval frequency not a number is one error": {
			src:  vtSchedule("{kind: interval, frequency: hourly}"),
			want: []vtErr{{"schedule.frequency", `expected an integer, got "hourly"`, 4}},
		},
		"maxRuns 0": {
			src:  vtSchedule("{kind: interval, frequency: 60, maxRuns: 0}"),
			want: []vtErr{{"schedule.maxRuns", "must be at least 1, got 0", 4}},
		},
		"datetime not ISO": {
			src:  vtSchedule("{kind: datetime, startAt: tomorrow}"),
			want: []vtErr{{"schedule.startAt", `"tomorrow" is not an ISO-8601 date-time`, 4}},
		},
		"datetime without startAt": {
			src:  vtSchedule("{kind: datetime}"),
			want: []vtErr{{"schedule.startAt", "`startAt` is required", 4}},
		},
		"datetime takes no endAt": {
			src:  vtSchedule(`{kind: datetime, startAt: "2024-01-01", endAt: "2024-01-02"}`),
			want: []vtErr{{"schedule.endAt", `unknown field "endAt"`, 4}},
		},
		"endAt before startAt": {
			src: vtOperation("hubRef: a", "schedule:", "  kind: interval", "  frequency: 60",
				"  startAt: '2024-02-01T00:00:00Z'", "  endAt: '2024-01-01T00:00:00Z'"),
			want: []vtErr{{"schedule.endAt", "endAt must be after startAt (2024-02-01T00:00:00Z)", 8}},
		},
		"endAt equal to startAt": {
			src:  vtSchedule(`{kind: cron, cron: "@hourly", startAt: "2024-01-01", endAt: "2024-01-01T00:00:00Z"}`),
			want: []vtErr{{"schedule.endAt", "endAt must be after startAt", 4}},
		},
		"kind missing": {
			src:  vtSchedule(`{cron: "* * * * *"}`),
			want: []vtErr{{"schedule.kind", `a schedule needs a kind: "cron", "datetime", "interval"`, 4}},
		},
		"exact_time was renamed datetime": {
			src:  vtSchedule(`{kind: exact_time, startAt: "2024-01-01"}`),
			want: []vtErr{{"schedule.kind", `unsupported value "exact_time"`, 4}},
		},
		"frequency on a cron": {
			src:  vtSchedule(`{kind: cron, cron: "@daily", frequency: 60}`),
			want: []vtErr{{"schedule.frequency", `unknown field "frequency"`, 4}},
		},
	})
}

// TestValidateScheduleZoneAndCatchUp covers timezone, catchUp and
// maxCatchUp, which cron and interval schedules add to the reference.
func TestValidateScheduleZoneAndCatchUp(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"cron in a zone":          {src: vtSchedule(`{kind: cron, cron: "30 2 * * *", timezone: Europe/Paris}`)},
		"interval in a zone":      {src: vtSchedule(`{kind: interval, frequency: 60, timezone: America/New_York}`)},
		"timezone UTC":            {src: vtSchedule(`{kind: cron, cron: "@daily", timezone: UTC}`)},
		"timezone template":       {src: vtSchedule(`{kind: cron, cron: "@daily", timezone: "{{ tz }}"}`)},
		"catchUp all with a max":  {src: vtSchedule(`{kind: interval, frequency: 60, catchUp: all, maxCatchUp: 1000}`)},
		"maxCatchUp alone":        {src: vtSchedule(`{kind: cron, cron: "@hourly", maxCatchUp: 3}`)},
		"catchUp latest":          {src: vtSchedule(`{kind: cron, cron: "@hourly", catchUp: latest}`)},
		"catchUp skip":            {src: vtSchedule(`{kind: interval, frequency: 60, catchUp: skip}`)},
		"catchUp template":        {src: vtSchedule(`{kind: cron, cron: "@hourly", catchUp: "{{ policy }}", maxCatchUp: 2}`)},
		"maxCatchUp template":     {src: vtSchedule(`{kind: cron, cron: "@hourly", maxCatchUp: "{{ n }}"}`)},
		"zoneless window in zone": {src: vtSchedule(`{kind: cron, cron: "@hourly", timezone: Asia/Tokyo, startAt: "2024-01-01 08:00", endAt: "2024-01-01T00:30:00+01:00"}`)},
		"unknown timezone": {
			src:  vtSchedule(`{kind: cron, cron: "@daily", timezone: Europe/Pariss}`),
			want: []vtErr{{"schedule.timezone", "unknown time zone Europe/Pariss", 4}},
		},
		"timezone Local depends on the machine": {
			src:  vtSchedule(`{kind: interval, frequency: 60, timezone: Local}`),
			want: []vtErr{{"schedule.timezone", `"Local" is not an IANA time zone name`, 4}},
		},
		"zone given twice": {
			src:  vtSchedule(`{kind: cron, cron: "CRON_TZ=Asia/Tokyo 0 2 * * *", timezone: Europe/Paris}`),
			want: []vtErr{{"schedule.timezone", `names its own zone ("CRON_TZ=Asia/Tokyo")`, 4}},
		},
		"unknown catchUp": {
			src:  vtSchedule(`{kind: cron, cron: "@daily", catchUp: lates}`),
			want: []vtErr{{"schedule.catchUp", `unsupported value "lates": must be one of "all", "latest", "skip"; did you mean "latest"?`, 4}},
		},
		"maxCatchUp 0": {
			src:  vtSchedule(`{kind: interval, frequency: 60, maxCatchUp: 0}`),
			want: []vtErr{{"schedule.maxCatchUp", "must be at least 1, got 0", 4}},
		},
		"maxCatchUp too large": {
			src:  vtSchedule(`{kind: interval, frequency: 60, maxCatchUp: 1001}`),
			want: []vtErr{{"schedule.maxCatchUp", "must be at most 1000 (the most runs one look at a schedule creates), got 1001", 4}},
		},
		"maxCatchUp without catchUp all": {
			src:  vtSchedule(`{kind: cron, cron: "@daily", catchUp: skip, maxCatchUp: 5}`),
			want: []vtErr{{"schedule.maxCatchUp", "maxCatchUp bounds catchUp: all", 4}},
		},
		"endAt before startAt once read in the zone": {
			// 09:00 in New York is 14:00Z, after the endAt (in UTC it would
			// be before it).
			src: vtOperation("hubRef: a", "schedule:", "  kind: cron", `  cron: "@hourly"`, "  timezone: America/New_York",
				"  startAt: '2024-01-01 09:00'", "  endAt: '2024-01-01T12:00:00Z'"),
			want: []vtErr{{"schedule.endAt", "endAt must be after startAt", 9}},
		},
		"datetime takes no timezone": {
			src:  vtSchedule(`{kind: datetime, startAt: "2024-01-01", timezone: UTC}`),
			want: []vtErr{{"schedule.timezone", `unknown field "timezone"`, 4}},
		},
		"datetime takes no catchUp": {
			src:  vtSchedule(`{kind: datetime, startAt: "2024-01-01", catchUp: all}`),
			want: []vtErr{{"schedule.catchUp", `unknown field "catchUp"`, 4}},
		},
	})
}

func TestLoadTimezone(t *testing.T) {
	for name, want := range map[string]string{
		"Europe/Paris": "", "America/New_York": "", "UTC": "",
		"Local": `"Local" is not an IANA time zone name`, "": `"" is not an IANA time zone name`,
		"Mars/Olympus": "unknown time zone Mars/Olympus", "../etc/passwd": "invalid location name",
	} {
		loc, err := LoadTimezone(name)
		switch {
		case want == "" && err != nil:
			t.Errorf("LoadTimezone(%q): %v", name, err)
		case want == "" && loc.String() != name:
			t.Errorf("LoadTimezone(%q) = %v", name, loc)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("LoadTimezone(%q) = %v, %v; want an error containing %q", name, loc, err, want)
		}
	}
	// A zone found once is the same zone the next time.
	a, _ := LoadTimezone("Europe/Paris")
	b, _ := LoadTimezone("Europe/Paris")
	if a != b {
		t.Error("LoadTimezone did not keep the zone it found")
	}
}

func TestParseTimeIn(t *testing.T) {
	paris, err := LoadTimezone("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2024-07-01 09:00":          "2024-07-01T07:00:00Z", // CEST, +02:00
		"2024-01-01T09:00:00":       "2024-01-01T08:00:00Z", // CET, +01:00
		"2024-01-01":                "2023-12-31T23:00:00Z",
		"2024-01-01T09:00:00Z":      "2024-01-01T09:00:00Z", // an offset wins
		"2024-01-01T09:00:00-05:00": "2024-01-01T14:00:00Z",
	} {
		got, err := ParseTimeIn(in, paris)
		if err != nil || got.UTC().Format(time.RFC3339) != want {
			t.Errorf("ParseTimeIn(%q, Paris) = %v, %v; want %s", in, got, err, want)
		}
	}
}
