package specs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// IOType is the declared type of an input or output (spec §2.2).
type IOType string

// The IO types of Polyaxon v1.22 (`polyaxon/types.py: VALUES`). `file` and
// `tensorboard` are init types only and are not valid IO types.
const (
	IOTypeAny         IOType = "any"
	IOTypeInt         IOType = "int"
	IOTypeFloat       IOType = "float"
	IOTypeBool        IOType = "bool"
	IOTypeStr         IOType = "str"
	IOTypeDict        IOType = "dict"
	IOTypeDictOfDicts IOType = "dict_of_dicts"
	IOTypeURI         IOType = "uri"
	IOTypeAuth        IOType = "auth"
	IOTypeList        IOType = "list"
	IOTypeGCS         IOType = "gcs"
	IOTypeS3          IOType = "s3"
	IOTypeWasb        IOType = "wasb"
	IOTypeDockerfile  IOType = "dockerfile"
	IOTypeGit         IOType = "git"
	IOTypeImage       IOType = "image"
	IOTypeEvent       IOType = "event"
	IOTypeArtifacts   IOType = "artifacts"
	IOTypePath        IOType = "path"
	IOTypeMetric      IOType = "metric"
	IOTypeMetadata    IOType = "metadata"
	IOTypeDate        IOType = "date"
	IOTypeDatetime    IOType = "datetime"
	IOTypeUUID        IOType = "uuid"
)

// IOTypes lists every valid IO type, in the order of the spec.
var IOTypes = []IOType{
	IOTypeAny, IOTypeInt, IOTypeFloat, IOTypeBool, IOTypeStr, IOTypeDict,
	IOTypeDictOfDicts, IOTypeURI, IOTypeAuth, IOTypeList, IOTypeGCS, IOTypeS3,
	IOTypeWasb, IOTypeDockerfile, IOTypeGit, IOTypeImage, IOTypeEvent,
	IOTypeArtifacts, IOTypePath, IOTypeMetric, IOTypeMetadata, IOTypeDate,
	IOTypeDatetime, IOTypeUUID,
}

// Valid reports whether t is one of IOTypes. The empty type (an untyped IO)
// is not a valid type name; callers treat it as "untyped" before asking.
func (t IOType) Valid() bool { return slices.Contains(IOTypes, t) }

// IsTemplate reports whether s contains a Jinja `{{ ... }}` expression: a
// "{{" followed somewhere later by "}}". Such values are rendered later, so
// they are never coerced or validated here.
func IsTemplate(s string) bool {
	i := strings.Index(s, "{{")
	return i >= 0 && strings.Contains(s[i+2:], "}}")
}

// errIOTValueRequired is returned for a nil value.
var errIOTValueRequired = errors.New("a value is required")

// CoerceValue converts an explicit param value (from `params:` or `-P`) to
// the type of its IO, as spec §2.3 describes, and returns the converted
// value. Errors are plain, user-facing messages without a path; the caller
// adds where the value is.
//
// Input values are what a YAML or JSON decoder produces (nil, bool, int,
// float64, string, []any, map[string]any), but any Go integer, float,
// string, bool, slice or map kind is accepted as well. A converted value is
// an int, float64, bool, string, []any or map[string]any; the elements of a
// dict or list value are kept as given.
//
// Rules common to every type:
//   - A string holding a template (see IsTemplate) is returned unchanged: it
//     is rendered and checked later.
//   - nil gives the error "a value is required". Whether a missing value is
//     fine (an optional IO, or one with a default) is for the caller to
//     decide before calling CoerceValue.
//   - An empty type (an untyped IO) and `any` pass every value through
//     unchanged.
//   - With isList, the value must be a list, a JSON string of a list, or a
//     comma-separated string of two or more items; each item is coerced and
//     the result is a []any. isList is ignored for `list`, `dict_of_dicts`
//     and `any`, as in Polyaxon.
//
// Where Plexus deliberately differs from Polyaxon v1.22:
//   - A bool is not a number: `true` is rejected for `int`, `float` and
//     `metric` (Python accepts it because bool subclasses int).
//   - NaN and infinities are rejected for `int`, `float` and `metric`.
//   - `str`/`path` render a list or dict as JSON with Python's separators
//     (", " and ": ") but with map keys sorted (Go maps have no order) and
//     non-ASCII characters kept as UTF-8 (Python escapes them as \uXXXX).
//   - `list` also accepts a JSON string of a list ("[1, 2]").
//   - s3 and gcs mappings need a bucket, wasb mappings and URLs need a
//     container.
func CoerceValue(t IOType, isList bool, v any) (any, error) {
	if s, ok := iotAsString(v); ok && IsTemplate(s) {
		return s, nil
	}
	if v == nil {
		return nil, errIOTValueRequired
	}
	switch t {
	case "", IOTypeAny:
		return v, nil
	case IOTypeList, IOTypeDictOfDicts:
		isList = false
	}
	if !t.Valid() {
		return nil, fmt.Errorf("unknown type %q", string(t))
	}
	if isList {
		return iotCoerceList(t, v)
	}
	return iotCoerceOne(t, v)
}

// CheckValue validates a default value (the IO's `value:`) without
// converting it: Polyaxon stores defaults raw (spec §2.3), so a caller keeps
// the original value and only uses the error. A nil default means "no
// default" and is always accepted.
func CheckValue(t IOType, isList bool, v any) error {
	if v == nil {
		return nil
	}
	_, err := CoerceValue(t, isList, v)
	return err
}

// InOptions reports whether v, a value already returned by CoerceValue, is
// one of options. Numbers compare by value whatever their Go type (int 1
// equals float 1.0); a bool never equals a number; lists and maps compare
// element by element with the same rules. For an isList value the caller
// decides whether to check the whole list or each item.
func InOptions(v any, options []any) bool {
	for _, o := range options {
		if iotValuesEqual(v, o, 0) {
			return true
		}
	}
	return false
}

// CompatibleTypes reports whether an upstream output of type from can feed
// an input of type to (spec §2.2): the types are equal, or both are in
// [str, path, s3, gcs, wasb], or both are in [float, metric]. An untyped IO
// ("") or an `any` IO on either side is compatible with everything. The
// caller checks that isList matches as well.
func CompatibleTypes(from, to IOType) bool {
	if from == "" || to == "" || from == IOTypeAny || to == IOTypeAny || from == to {
		return true
	}
	g := iotTypeGroup(from)
	return g != 0 && g == iotTypeGroup(to)
}

func iotTypeGroup(t IOType) int {
	switch t {
	case IOTypeStr, IOTypePath, IOTypeS3, IOTypeGCS, IOTypeWasb:
		return 1
	case IOTypeFloat, IOTypeMetric:
		return 2
	}
	return 0
}

// iotCoerceOne converts a single (non-nil, non-template) value.
func iotCoerceOne(t IOType, v any) (any, error) {
	switch t {
	case IOTypeInt:
		return iotCoerceInt(v)
	case IOTypeFloat, IOTypeMetric:
		return iotCoerceFloat(v)
	case IOTypeBool:
		return iotCoerceBool(v)
	case IOTypeStr, IOTypePath:
		return iotCoerceStr(v)
	case IOTypeDict, IOTypeMetadata:
		return iotCoerceDict(v)
	case IOTypeDictOfDicts:
		return iotCoerceDictOfDicts(v)
	case IOTypeList:
		return iotCoerceListType(v)
	case IOTypeURI:
		return iotCoerceURI(v)
	case IOTypeAuth:
		return iotCoerceAuth(v)
	case IOTypeS3:
		return iotCoerceS3(v)
	case IOTypeGCS:
		return iotCoerceGCS(v)
	case IOTypeWasb:
		return iotCoerceWasb(v)
	case IOTypeDate:
		return iotCoerceDate(v)
	case IOTypeDatetime:
		return iotCoerceDatetime(v)
	case IOTypeUUID:
		return iotCoerceUUID(v)
	case IOTypeImage:
		return iotCoerceImage(v)
	case IOTypeGit:
		return iotCoerceObject(iotGitSchema, v)
	case IOTypeArtifacts:
		return iotCoerceObject(iotArtifactsSchema, v)
	case IOTypeDockerfile:
		return iotCoerceObject(iotDockerfileSchema, v)
	case IOTypeEvent:
		return iotCoerceObject(iotEventSchema, v)
	}
	return v, nil
}

// iotCoerceList applies the isList rule of §2.3.
func iotCoerceList(t IOType, v any) (any, error) {
	var items []any
	if s, ok := iotAsString(v); ok {
		if l, ok := iotDecodeJSONList(s); ok {
			items = l
		} else if parts := iotSplitComma(s); len(parts) >= 2 {
			items = parts
		} else {
			return nil, fmt.Errorf("expected a list of %s values (a list, a JSON list or a comma-separated string), got %s", t, iotDescribe(v))
		}
	} else if l, ok := iotAsList(v); ok {
		items = l
	} else {
		return nil, fmt.Errorf("expected a list of %s values, got %s", t, iotDescribe(v))
	}
	out := make([]any, len(items))
	for i, item := range items {
		c, err := CoerceValue(t, false, item)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

func iotExpected(what string, v any) error {
	return fmt.Errorf("expected %s, got %s", what, iotDescribe(v))
}

// ---- numbers --------------------------------------------------------------

type iotNumKind int

const (
	iotNotNumber iotNumKind = iota
	iotIntNumber
	iotUintNumber
	iotFloatNumber
)

// iotNumberKind classifies the Go numeric kinds. A bool is not a number.
func iotNumberKind(v any) iotNumKind {
	switch v.(type) {
	case int:
		return iotIntNumber
	case float64:
		return iotFloatNumber
	case nil, bool, string:
		return iotNotNumber
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return iotIntNumber
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return iotUintNumber
	case reflect.Float32, reflect.Float64:
		return iotFloatNumber
	}
	return iotNotNumber
}

// iotFloatOf returns a numeric value (of any kind) as a float64.
func iotFloatOf(v any) float64 {
	switch iotNumberKind(v) {
	case iotIntNumber:
		return float64(reflect.ValueOf(v).Int())
	case iotUintNumber:
		return float64(reflect.ValueOf(v).Uint())
	case iotFloatNumber:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Float32 {
			// Read a float32 as its shortest decimal, so float32(0.1) is 0.1.
			f, _ := strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
			return f
		}
		return rv.Float()
	}
	return 0
}

const (
	iotMinIntFloat = -(1 << 63) // math.MinInt64 as an exact float
	iotMaxIntFloat = 1 << 63    // first float above math.MaxInt64
)

// iotIntRange reports a whole number too large for an int.
func iotIntRange(v any) error {
	return fmt.Errorf("%s is out of the int range", iotDescribe(v))
}

// iotIntFromFloat converts an integral float to int.
func iotIntFromFloat(f float64, v any) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return nil, iotExpected("an int", v)
	}
	if f < iotMinIntFloat || f >= iotMaxIntFloat {
		return nil, iotIntRange(v)
	}
	return iotIntFromInt64(int64(f), v)
}

// iotIntFromInt64 converts n to int, failing where int is 32 bits wide.
func iotIntFromInt64(n int64, v any) (any, error) {
	if int64(int(n)) != n {
		return nil, iotIntRange(v)
	}
	return int(n), nil
}

// iotParseFloatString parses a decimal number the way Python's float() does for
// ordinary input. Hex floats, underscores and non-finite values are refused.
func iotParseFloatString(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	u := strings.TrimLeft(t, "+-")
	if strings.Contains(t, "_") || strings.HasPrefix(u, "0x") || strings.HasPrefix(u, "0X") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// iotCoerceInt: int → itself; integral float → int; string → int, or a float
// string that is integral ("2.0" → 2, "1.5" is rejected).
//
// Python accepts a bool as an int (`True` passes, since bool subclasses
// int). Plexus rejects it: a bool given for an int is almost always a
// mistake.
func iotCoerceInt(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		t := strings.TrimSpace(s)
		n, err := strconv.Atoi(t)
		if err == nil {
			return n, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return nil, iotIntRange(v)
		}
		f, ok := iotParseFloatString(t)
		if !ok {
			return nil, iotExpected("an int", v)
		}
		return iotIntFromFloat(f, v)
	}
	switch iotNumberKind(v) {
	case iotIntNumber:
		return iotIntFromInt64(reflect.ValueOf(v).Int(), v)
	case iotUintNumber:
		n := reflect.ValueOf(v).Uint()
		if n > math.MaxInt {
			return nil, iotIntRange(v)
		}
		return int(n), nil
	case iotFloatNumber:
		return iotIntFromFloat(iotFloatOf(v), v)
	}
	return nil, iotExpected("an int", v)
}

// iotCoerceFloat: float → itself; int → float; numeric string → float. A bool
// is rejected (Python accepts it, see iotCoerceInt).
func iotCoerceFloat(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		f, ok := iotParseFloatString(s)
		if !ok {
			return nil, iotExpected("a float", v)
		}
		return f, nil
	}
	if iotNumberKind(v) == iotNotNumber {
		return nil, iotExpected("a float", v)
	}
	f := iotFloatOf(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, iotExpected("a finite float", v)
	}
	return f, nil
}

// iotCoerceBool: bool → itself; a string through Python's strtobool. Numbers
// are rejected (the int 1 is rejected by Polyaxon too).
func iotCoerceBool(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "y", "yes", "t", "true", "on", "1":
			return true, nil
		case "n", "no", "f", "false", "off", "0":
			return false, nil
		}
		return nil, iotExpected("a bool (true/false, yes/no, on/off, 1/0)", v)
	}
	if b, ok := iotAsBool(v); ok {
		return b, nil
	}
	return nil, iotExpected("a bool", v)
}

// ---- strings --------------------------------------------------------------

// iotCoerceStr: a string stays as it is; numbers, bools, lists and maps become
// their JSON text as Python's json.dumps writes it (1 → "1", 0.5 → "0.5",
// true → "true", {a: 1} → `{"a": 1}`). Map keys are sorted, since Go maps
// have no order (Python keeps insertion order).
func iotCoerceStr(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		return s, nil
	}
	if _, ok := iotAsBool(v); ok || iotNumberKind(v) != iotNotNumber || iotIsListOrMap(v) {
		s, err := iotPyJSON(v)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, iotExpected("a string", v)
}

// iotPyJSON renders v as Python's json.dumps does by default: separators
// ", " and ": ", floats as Python's repr (1.0, 1e-07, 1e+16), NaN and
// infinities as NaN/Infinity. Two deliberate differences: map keys are
// sorted (Go maps have no order) and non-ASCII characters are written as
// UTF-8 rather than \uXXXX escapes.
func iotPyJSON(v any) (string, error) {
	var b strings.Builder
	if err := iotWritePyJSON(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

const iotMaxDepth = 1000

func iotWritePyJSON(b *strings.Builder, v any, depth int) error {
	if depth > iotMaxDepth {
		return errors.New("value is nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case string:
		iotWritePyString(b, x)
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case int:
		b.WriteString(strconv.Itoa(x))
		return nil
	case float64:
		b.WriteString(iotPyFloat(x, 64))
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32:
		b.WriteString(iotPyFloat(rv.Float(), 32))
	case reflect.Float64:
		b.WriteString(iotPyFloat(rv.Float(), 64))
	case reflect.String:
		iotWritePyString(b, rv.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Pointer:
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		return iotWritePyJSON(b, rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := range rv.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := iotWritePyJSON(b, rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case reflect.Map:
		m, ok := iotAsMap(v)
		if !ok {
			return fmt.Errorf("cannot render a map with %s keys as JSON", rv.Type().Key())
		}
		b.WriteByte('{')
		for i, k := range iotSortedKeys(m) {
			if i > 0 {
				b.WriteString(", ")
			}
			iotWritePyString(b, k)
			b.WriteString(": ")
			if err := iotWritePyJSON(b, m[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot render a value of Go type %T as JSON", v)
	}
	return nil
}

// iotWritePyString writes s as a JSON string the way Python does with
// ensure_ascii=False: only quotes, backslashes and control characters are
// escaped. Invalid UTF-8 bytes become U+FFFD.
func iotWritePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// iotPyFloat formats f like Python's float repr: the shortest digits that read
// back to f, in fixed notation with at least one decimal when the decimal
// exponent is in [-4, 16), else in scientific notation (1e-05, 1.5e+16).
func iotPyFloat(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'e', -1, bitSize) // "-d.ddde±XX"
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			for len(digits) < exp+1 {
				digits += "0"
			}
			frac := digits[exp+1:]
			if frac == "" {
				frac = "0"
			}
			out = digits[:exp+1] + "." + frac
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// ---- dicts and lists ------------------------------------------------------

// iotCoerceDict: a mapping, or a JSON string that decodes to an object.
func iotCoerceDict(v any) (any, error) {
	if m, ok := iotAsMap(v); ok {
		return m, nil
	}
	if s, ok := iotAsString(v); ok {
		if m, ok := iotDecodeJSONObject(s); ok {
			return m, nil
		}
	}
	return nil, iotExpected("a dict (a mapping or a JSON object)", v)
}

// iotCoerceDictOfDicts: a dict whose every value is a dict.
func iotCoerceDictOfDicts(v any) (any, error) {
	d, err := iotCoerceDict(v)
	if err != nil {
		return nil, iotExpected("a dict of dicts", v)
	}
	m := d.(map[string]any)
	out := make(map[string]any, len(m))
	for _, k := range iotSortedKeys(m) {
		inner, ok := iotAsMap(m[k])
		if !ok {
			return nil, fmt.Errorf("expected a dict of dicts, but the value of key %q is %s", k, iotDescribe(m[k]))
		}
		out[k] = inner
	}
	return out, nil
}

// iotCoerceListType: a list, a JSON string of a list, or a string split on ","
// with each part trimmed and empty parts dropped.
func iotCoerceListType(v any) (any, error) {
	if l, ok := iotAsList(v); ok {
		return l, nil
	}
	if s, ok := iotAsString(v); ok {
		if l, ok := iotDecodeJSONList(s); ok {
			return l, nil
		}
		return iotSplitComma(s), nil
	}
	return nil, iotExpected("a list", v)
}

// iotSplitComma splits s on ",", trims every part and drops empty parts.
func iotSplitComma(s string) []any {
	parts := []any{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// ---- uri and auth ---------------------------------------------------------

var (
	iotURISchema = &iotObjectSchema{name: "uri", fields: []iotObjectField{
		{name: "user", kind: iotFieldStr, required: true},
		{name: "password", kind: iotFieldStr, required: true},
		{name: "host", kind: iotFieldStr, required: true},
	}}
	iotAuthSchema = &iotObjectSchema{name: "auth", fields: []iotObjectField{
		{name: "user", kind: iotFieldStr, required: true},
		{name: "password", kind: iotFieldStr, required: true},
	}}
)

// iotCoerceURI: {user, password, host}, its JSON, or "user:password@host". The
// error messages never repeat the value, which holds a password.
func iotCoerceURI(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		if _, isObj := iotDecodeJSONObject(s); !isObj {
			userPass, host, ok := strings.Cut(s, "@")
			user, pass, ok2 := strings.Cut(userPass, ":")
			if !ok || !ok2 || strings.Contains(host, "@") || strings.Contains(pass, ":") {
				return nil, errors.New(`expected a uri in the form "user:password@host" or {user, password, host}`)
			}
			if host == "" {
				return nil, errors.New(`the uri has no host; expected "user:password@host"`)
			}
			return map[string]any{"user": user, "password": pass, "host": host}, nil
		}
	} else if _, ok := iotAsMap(v); !ok {
		return nil, iotExpected(`a uri ("user:password@host" or {user, password, host})`, v)
	}
	m, err := iotCoerceObject(iotURISchema, v)
	if err != nil {
		return nil, err
	}
	if h, ok := m.(map[string]any)["host"].(string); ok && h == "" {
		return nil, errors.New("the uri has an empty host")
	}
	return m, nil
}

// iotCoerceAuth: {user, password}, its JSON, or "user:password".
func iotCoerceAuth(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		if _, isObj := iotDecodeJSONObject(s); !isObj {
			user, pass, ok := strings.Cut(s, ":")
			if !ok || strings.Contains(pass, ":") {
				return nil, errors.New(`expected an auth in the form "user:password" or {user, password}`)
			}
			return map[string]any{"user": user, "password": pass}, nil
		}
	} else if _, ok := iotAsMap(v); !ok {
		return nil, iotExpected(`an auth ("user:password" or {user, password})`, v)
	}
	return iotCoerceObject(iotAuthSchema, v)
}

// ---- storage paths --------------------------------------------------------

var (
	iotS3Schema = &iotObjectSchema{name: "s3", fields: []iotObjectField{
		{name: "bucket", kind: iotFieldStr, required: true},
		{name: "key", kind: iotFieldStr},
	}}
	iotGcsSchema = &iotObjectSchema{name: "gcs", fields: []iotObjectField{
		{name: "bucket", kind: iotFieldStr, required: true},
		{name: "blob", kind: iotFieldStr},
	}}
	iotWasbSchema = &iotObjectSchema{name: "wasb", fields: []iotObjectField{
		{name: "container", kind: iotFieldStr, required: true},
		{name: "storageAccount", kind: iotFieldStr},
		{name: "path", kind: iotFieldStr},
	}}
)

// iotSplitURL splits a URL the way Python's urllib.parse.urlsplit does: the
// scheme (lower-cased) when the text before the first ":" is a valid scheme,
// then the netloc when "//" follows, then the path up to "?" or "#".
func iotSplitURL(s string) (scheme, netloc, path string) {
	if i := strings.IndexByte(s, ':'); i > 0 && iotIsScheme(s[:i]) {
		scheme, s = strings.ToLower(s[:i]), s[i+1:]
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			netloc, s = rest[:j], rest[j:]
		} else {
			netloc, s = rest, ""
		}
	}
	if j := strings.IndexAny(s, "?#"); j >= 0 {
		s = s[:j]
	}
	return scheme, netloc, s
}

func iotIsScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '+' && r != '-' && r != '.' {
			return false
		}
	}
	return s != ""
}

// iotCoerceS3: a mapping {bucket, key} or a URL with a host ("s3://b/k"). The
// scheme is not checked, as in Polyaxon. A URL is returned as written.
func iotCoerceS3(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		if _, netloc, _ := iotSplitURL(s); netloc == "" {
			return nil, fmt.Errorf(`expected an S3 path like "s3://bucket/key", got %s`, iotDescribe(v))
		}
		return s, nil
	}
	if _, ok := iotAsMap(v); ok {
		return iotCoerceObject(iotS3Schema, v)
	}
	return nil, iotExpected(`an S3 path ("s3://bucket/key" or {bucket, key})`, v)
}

// iotCoerceGCS: a mapping {bucket, blob} or "gs://bucket/blob". A URL is
// returned as written.
func iotCoerceGCS(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		if scheme, netloc, _ := iotSplitURL(s); netloc == "" || scheme != "gs" {
			return nil, fmt.Errorf(`expected a GCS path like "gs://bucket/blob", got %s`, iotDescribe(v))
		}
		return s, nil
	}
	if _, ok := iotAsMap(v); ok {
		return iotCoerceObject(iotGcsSchema, v)
	}
	return nil, iotExpected(`a GCS path ("gs://bucket/blob" or {bucket, blob})`, v)
}

var (
	iotWasbNetloc  = regexp.MustCompile(`^([^@]+)@([^.]+)\.blob\.core\.windows\.net`)
	iotHTTPSNetloc = regexp.MustCompile(`^([^@]+)\.blob\.core\.windows\.net`)
)

// iotCoerceWasb: a mapping {container, storageAccount, path}, or a URL whose
// scheme is wasb, wasbs, https, az or abfs. wasb(s) URLs look like
// container@account.blob.core.windows.net/path and https URLs like
// account.blob.core.windows.net/container/path. A URL is returned as
// written.
func iotCoerceWasb(v any) (any, error) {
	s, ok := iotAsString(v)
	if !ok {
		if _, ok := iotAsMap(v); ok {
			return iotCoerceObject(iotWasbSchema, v)
		}
		return nil, iotExpected(`an Azure blob path (a wasb, wasbs, https, az or abfs URL, or {container, storageAccount, path})`, v)
	}
	scheme, netloc, path := iotSplitURL(s)
	var container string
	switch scheme {
	case "wasb", "wasbs":
		m := iotWasbNetloc.FindStringSubmatch(netloc)
		if m == nil {
			return nil, fmt.Errorf(`expected a %s URL like "%s://container@account.blob.core.windows.net/path", got %s`, scheme, scheme, iotDescribe(v))
		}
		container = m[1]
	case "https":
		if !iotHTTPSNetloc.MatchString(netloc) {
			return nil, fmt.Errorf(`expected an https URL like "https://account.blob.core.windows.net/container/path", got %s`, iotDescribe(v))
		}
		container, _, _ = strings.Cut(strings.Trim(path, "/"), "/")
	case "az", "abfs":
		container = netloc
	default:
		return nil, fmt.Errorf("expected an Azure blob URL with scheme wasb, wasbs, https, az or abfs, got %s", iotDescribe(v))
	}
	if container == "" {
		return nil, fmt.Errorf("the Azure blob URL %s names no container", iotDescribe(v))
	}
	return s, nil
}

// ---- dates and uuids ------------------------------------------------------

var (
	iotIsoDate     = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	iotIsoDatetime = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d{1,12})?)?(Z|[+-](\d{2})(?::?(\d{2}))?)?$`)
)

// iotValidDate reports whether the year, month and day strings form a real
// calendar date.
func iotValidDate(y, m, d string) bool {
	year, _ := strconv.Atoi(y)
	month, _ := strconv.Atoi(m)
	day, _ := strconv.Atoi(d)
	if year < 1 || month < 1 || month > 12 || day < 1 {
		return false
	}
	return day <= time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func iotAtoiBelow(s string, limit int) bool {
	if s == "" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n < limit
}

// iotCoerceDate: an ISO-8601 date "YYYY-MM-DD" (marshmallow's Date), kept as
// the string given. A time.Time becomes its "2006-01-02" text.
func iotCoerceDate(v any) (any, error) {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.DateOnly), nil
	}
	s, ok := iotAsString(v)
	if !ok {
		return nil, iotExpected("a date (YYYY-MM-DD)", v)
	}
	m := iotIsoDate.FindStringSubmatch(s)
	if m == nil || !iotValidDate(m[1], m[2], m[3]) {
		return nil, iotExpected("a date (YYYY-MM-DD)", v)
	}
	return s, nil
}

// iotCoerceDatetime: an ISO-8601 datetime (marshmallow's DateTime): date, "T"
// or a space, hours and minutes, optional seconds and fraction, optional
// "Z" or ±HH[:MM] zone. It is kept as the string given. A time.Time
// becomes its RFC 3339 text.
func iotCoerceDatetime(v any) (any, error) {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano), nil
	}
	s, ok := iotAsString(v)
	if !ok {
		return nil, iotExpected("a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z)", v)
	}
	m := iotIsoDatetime.FindStringSubmatch(s)
	if m == nil || !iotValidDate(m[1], m[2], m[3]) || !iotAtoiBelow(m[4], 24) || !iotAtoiBelow(m[5], 60) ||
		!iotAtoiBelow(m[6], 60) || !iotAtoiBelow(m[8], 24) || !iotAtoiBelow(m[9], 60) {
		return nil, iotExpected("a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z)", v)
	}
	return s, nil
}

// iotCoerceUUID accepts the forms Python's uuid.UUID reads (with or without
// dashes, braces, a "urn:uuid:" prefix; any case) and returns the 32 lower
// hex digits without dashes.
func iotCoerceUUID(v any) (any, error) {
	s, ok := iotAsString(v)
	if !ok {
		return nil, iotExpected("a UUID", v)
	}
	h := strings.ToLower(strings.TrimSpace(s))
	h = strings.ReplaceAll(h, "urn:", "")
	h = strings.ReplaceAll(h, "uuid:", "")
	h = strings.Trim(h, "{}")
	h = strings.ReplaceAll(h, "-", "")
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return nil, iotExpected("a UUID", v)
	}
	return h, nil
}

// ---- image ----------------------------------------------------------------

// iotCoerceImage: a string (no docker-name validation, as in Polyaxon). The
// legacy form, a mapping or JSON object with a "name", gives that name.
func iotCoerceImage(v any) (any, error) {
	if s, ok := iotAsString(v); ok {
		if m, ok := iotDecodeJSONObject(s); ok {
			return iotImageName(m)
		}
		return s, nil
	}
	if m, ok := iotAsMap(v); ok {
		return iotImageName(m)
	}
	return nil, iotExpected("an image name", v)
}

func iotImageName(m map[string]any) (any, error) {
	n, ok := m["name"]
	if !ok {
		return nil, errors.New(`the image mapping has no "name"`)
	}
	s, ok := iotAsString(n)
	if !ok {
		return nil, fmt.Errorf("expected the image name to be a string, got %s", iotDescribe(n))
	}
	return s, nil
}

// ---- typed objects --------------------------------------------------------

type iotFieldKind int

const (
	iotFieldStr      iotFieldKind = iota // a string
	iotFieldInt                          // an int (coerced like the int type)
	iotFieldStrList                      // a list of strings
	iotFieldCopyList                     // a list of strings or [from, to] pairs
	iotFieldDict                         // a mapping with string keys
	iotFieldImage                        // a docker image name
)

type iotObjectField struct {
	name     string
	kind     iotFieldKind
	required bool
}

// iotObjectSchema describes a typed sub-object (git, artifacts, ...). Unknown
// keys are rejected; a null field is fine unless it is required; a field
// whose value is a template string is accepted as it is.
type iotObjectSchema struct {
	name   string
	fields []iotObjectField
}

func (s *iotObjectSchema) fieldNames() string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

var (
	iotGitSchema = &iotObjectSchema{name: "git", fields: []iotObjectField{
		{name: "url", kind: iotFieldStr},
		{name: "revision", kind: iotFieldStr},
		{name: "flags", kind: iotFieldStrList},
	}}
	iotArtifactsSchema = &iotObjectSchema{name: "artifacts", fields: []iotObjectField{
		{name: "files", kind: iotFieldCopyList},
		{name: "dirs", kind: iotFieldCopyList},
		{name: "workers", kind: iotFieldInt},
	}}
	iotDockerfileSchema = &iotObjectSchema{name: "dockerfile", fields: []iotObjectField{
		{name: "image", kind: iotFieldImage, required: true},
		{name: "env", kind: iotFieldDict},
		{name: "path", kind: iotFieldStrList},
		{name: "copy", kind: iotFieldCopyList},
		{name: "postRunCopy", kind: iotFieldCopyList},
		{name: "run", kind: iotFieldStrList},
		{name: "langEnv", kind: iotFieldStr},
		{name: "uid", kind: iotFieldInt},
		{name: "gid", kind: iotFieldInt},
		{name: "username", kind: iotFieldStr},
		{name: "filename", kind: iotFieldStr},
		{name: "workdir", kind: iotFieldStr},
		{name: "workdirPath", kind: iotFieldStr},
		{name: "shell", kind: iotFieldStr},
	}}
	iotEventSchema = &iotObjectSchema{name: "event", fields: []iotObjectField{
		{name: "name", kind: iotFieldStr},
		{name: "kind", kind: iotFieldStr},
	}}
)

// iotCoerceObject validates a mapping, or a JSON string of an object, against
// schema and returns a new map[string]any with the converted fields.
func iotCoerceObject(schema *iotObjectSchema, v any) (any, error) {
	m, ok := iotAsMap(v)
	if !ok {
		if s, isStr := iotAsString(v); isStr {
			m, ok = iotDecodeJSONObject(s)
		}
	}
	if !ok {
		return nil, iotExpected(fmt.Sprintf("a mapping {%s} or its JSON", schema.fieldNames()), v)
	}
	out := make(map[string]any, len(m))
	for _, k := range iotSortedKeys(m) {
		i := slices.IndexFunc(schema.fields, func(f iotObjectField) bool { return f.name == k })
		if i < 0 {
			return nil, fmt.Errorf("unknown %s field %q (valid fields: %s)", schema.name, k, schema.fieldNames())
		}
		f := schema.fields[i]
		val := m[k]
		if val == nil {
			if f.required {
				return nil, fmt.Errorf("%s field %q is required", schema.name, k)
			}
			out[k] = nil
			continue
		}
		if s, ok := iotAsString(val); ok && IsTemplate(s) {
			out[k] = s
			continue
		}
		c, err := iotCoerceField(f.kind, val)
		if err != nil {
			return nil, fmt.Errorf("%s field %q: %w", schema.name, k, err)
		}
		out[k] = c
	}
	for _, f := range schema.fields {
		if _, ok := m[f.name]; f.required && !ok {
			return nil, fmt.Errorf("%s field %q is required", schema.name, f.name)
		}
	}
	return out, nil
}

func iotCoerceField(kind iotFieldKind, v any) (any, error) {
	switch kind {
	case iotFieldInt:
		return iotCoerceInt(v)
	case iotFieldStr:
		if s, ok := iotAsString(v); ok {
			return s, nil
		}
		return nil, iotExpected("a string", v)
	case iotFieldImage:
		s, ok := iotAsString(v)
		if !ok {
			return nil, iotExpected("an image name", v)
		}
		if err := iotValidateDockerImage(s); err != nil {
			return nil, err
		}
		return s, nil
	case iotFieldDict:
		if m, ok := iotAsMap(v); ok {
			return m, nil
		}
		return nil, iotExpected("a mapping", v)
	case iotFieldStrList, iotFieldCopyList:
		l, ok := iotAsList(v)
		if !ok {
			return nil, iotExpected("a list", v)
		}
		out := make([]any, len(l))
		for i, item := range l {
			c, err := iotListField(kind, item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

func iotListField(kind iotFieldKind, item any) (any, error) {
	if s, ok := iotAsString(item); ok {
		return s, nil
	}
	if kind == iotFieldStrList {
		return nil, iotExpected("a string", item)
	}
	pair, ok := iotAsList(item)
	if !ok || len(pair) != 2 {
		return nil, iotExpected("a path or a [from, to] pair of paths", item)
	}
	for _, p := range pair {
		if _, ok := iotAsString(p); !ok {
			return nil, iotExpected("a path or a [from, to] pair of paths", item)
		}
	}
	return pair, nil
}

// iotValidateDockerImage applies Polyaxon's validate_image to a dockerfile's
// image: required, no spaces, at most "registry:port/name:tag".
func iotValidateDockerImage(image string) error {
	if image == "" {
		return errors.New("an image is required")
	}
	if IsTemplate(image) {
		return nil
	}
	parts := strings.Split(image, ":")
	if strings.Contains(image, " ") || len(parts) > 3 ||
		len(parts) == 3 && (!strings.Contains(parts[1], "/") || strings.HasPrefix(parts[1], "/")) {
		return fmt.Errorf("invalid docker image %q", image)
	}
	return nil
}

// ---- generic value helpers ------------------------------------------------

// iotAsString returns v as a string when its kind is string.
func iotAsString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case nil, bool, int, float64, []any, map[string]any:
		return "", false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// iotAsBool returns v as a bool when its kind is bool.
func iotAsBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case nil, string, int, float64, []any, map[string]any:
		return false, false
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Bool {
		return rv.Bool(), true
	}
	return false, false
}

// iotAsList returns v as a []any when it is a slice or an array (not a string).
// A []any is returned as it is; other slices are copied.
func iotAsList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		if x == nil {
			return []any{}, true
		}
		return x, true
	case nil, string, bool, int, float64, map[string]any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// iotAsMap returns v as a map[string]any when it is a map. A map[string]any is
// returned as it is; other maps are copied, with string keys kept and bool
// or number keys written as JSON would write them (Python's json.dumps does
// the same). Maps with other key types are not accepted.
func iotAsMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any{}, true
		}
		return x, true
	case nil, string, bool, int, float64, []any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	iter := rv.MapRange()
	for iter.Next() {
		k := iter.Key().Interface()
		var ks string
		if s, ok := iotAsString(k); ok {
			ks = s
		} else if _, ok := iotAsBool(k); ok || iotNumberKind(k) != iotNotNumber {
			ks, _ = iotPyJSON(k)
		} else {
			return nil, false
		}
		out[ks] = iter.Value().Interface()
	}
	return out, true
}

func iotIsListOrMap(v any) bool {
	if _, ok := iotAsList(v); ok {
		return true
	}
	_, ok := iotAsMap(v)
	return ok
}

func iotSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// iotDecodeJSON decodes one JSON document. Integers become int (float64 when
// they do not fit), other numbers float64.
func iotDecodeJSON(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return iotFromJSONNumbers(v), true
}

func iotFromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 0); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = iotFromJSONNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = iotFromJSONNumbers(e)
		}
	}
	return v
}

// iotDecodeJSONObject decodes s when it is a JSON object.
func iotDecodeJSONObject(s string) (map[string]any, bool) {
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return nil, false
	}
	v, ok := iotDecodeJSON(s)
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// iotDecodeJSONList decodes s when it is a JSON array.
func iotDecodeJSONList(s string) ([]any, bool) {
	if !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return nil, false
	}
	v, ok := iotDecodeJSON(s)
	if !ok {
		return nil, false
	}
	l, ok := v.([]any)
	return l, ok
}

// iotDescribe renders a value for an error message: scalars as written
// (strings quoted), collections by their kind.
func iotDescribe(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := iotAsString(v); ok {
		const max = 80
		if len(s) > max {
			s = s[:max] + "..."
		}
		return strconv.Quote(s)
	}
	if b, ok := iotAsBool(v); ok {
		return strconv.FormatBool(b)
	}
	if iotNumberKind(v) != iotNotNumber {
		s, _ := iotPyJSON(v)
		return s
	}
	if _, ok := iotAsList(v); ok {
		return "a list"
	}
	if _, ok := iotAsMap(v); ok {
		return "a mapping"
	}
	return fmt.Sprintf("a value of Go type %T", v)
}

// iotValuesEqual compares two generic values, numbers by value.
func iotValuesEqual(a, b any, depth int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if depth > iotMaxDepth {
		return false
	}
	ka, kb := iotNumberKind(a), iotNumberKind(b)
	if ka != iotNotNumber || kb != iotNotNumber {
		return ka != iotNotNumber && kb != iotNotNumber && iotNumbersEqual(a, ka, b, kb)
	}
	if sa, ok := iotAsString(a); ok {
		sb, ok := iotAsString(b)
		return ok && sa == sb
	}
	if ba, ok := iotAsBool(a); ok {
		bb, ok := iotAsBool(b)
		return ok && ba == bb
	}
	if la, ok := iotAsList(a); ok {
		lb, ok := iotAsList(b)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !iotValuesEqual(la[i], lb[i], depth+1) {
				return false
			}
		}
		return true
	}
	if ma, ok := iotAsMap(a); ok {
		mb, ok := iotAsMap(b)
		if !ok || len(ma) != len(mb) {
			return false
		}
		for k, va := range ma {
			vb, ok := mb[k]
			if !ok || !iotValuesEqual(va, vb, depth+1) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func iotNumbersEqual(a any, ka iotNumKind, b any, kb iotNumKind) bool {
	if ka == iotFloatNumber || kb == iotFloatNumber {
		fa, fb := iotFloatOf(a), iotFloatOf(b)
		if ka != iotFloatNumber || kb != iotFloatNumber {
			// One side is an integer: compare exactly when the float is an
			// integral value in range, so that 2^53+1 != 2^53.
			f, other, ko := fa, b, kb
			if ka != iotFloatNumber {
				f, other, ko = fb, a, ka
			}
			if f != math.Trunc(f) || f < iotMinIntFloat || f >= 2*iotMaxIntFloat {
				return false
			}
			return iotIntegersEqual(f, other, ko)
		}
		return fa == fb
	}
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch {
	case ka == iotIntNumber && kb == iotIntNumber:
		return ra.Int() == rb.Int()
	case ka == iotUintNumber && kb == iotUintNumber:
		return ra.Uint() == rb.Uint()
	case ka == iotIntNumber:
		return ra.Int() >= 0 && uint64(ra.Int()) == rb.Uint()
	default:
		return rb.Int() >= 0 && uint64(rb.Int()) == ra.Uint()
	}
}

// iotIntegersEqual compares an integral float f with an integer value.
func iotIntegersEqual(f float64, n any, kind iotNumKind) bool {
	rv := reflect.ValueOf(n)
	if kind == iotIntNumber {
		return f < iotMaxIntFloat && int64(f) == rv.Int()
	}
	return f >= 0 && uint64(f) == rv.Uint()
}

// PyJSON renders v as Python's json.dumps does (", " and ": " separators,
// floats as Python writes them), which is how the reference turns values
// into strings (`as_str`, str params).
func PyJSON(v any) (string, error) { return iotPyJSON(v) }
