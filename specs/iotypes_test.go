package specs

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Named Go types, to check that values built in Go by users are accepted.
type (
	iotTestInt  int8
	iotTestStr  string
	iotTestBool bool
)

// iotCase is one CoerceValue call: either want or err is set.
type iotCase struct {
	name   string
	typ    IOType
	isList bool
	in     any
	want   any
	err    string
}

func iotRun(t *testing.T, cases []iotCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := CoerceValue(c.typ, c.isList, c.in)
			if c.err != "" {
				if err == nil {
					t.Fatalf("CoerceValue(%q, %v, %#v) = %#v, want error %q", c.typ, c.isList, c.in, got, c.err)
				}
				if diff := cmp.Diff(c.err, err.Error()); diff != "" {
					t.Errorf("CoerceValue(%q, %v, %#v) error mismatch (-want +got):\n%s", c.typ, c.isList, c.in, diff)
				}
				if got != nil {
					t.Errorf("CoerceValue(%q, %v, %#v) returned %#v with its error", c.typ, c.isList, c.in, got)
				}
				if cerr := CheckValue(c.typ, c.isList, c.in); c.in != nil && cerr == nil {
					t.Errorf("CheckValue(%q, %v, %#v) = nil, want an error", c.typ, c.isList, c.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("CoerceValue(%q, %v, %#v) unexpected error: %v", c.typ, c.isList, c.in, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("CoerceValue(%q, %v, %#v) mismatch (-want +got):\n%s", c.typ, c.isList, c.in, diff)
			}
			if err := CheckValue(c.typ, c.isList, c.in); err != nil {
				t.Errorf("CheckValue(%q, %v, %#v) = %v, want nil", c.typ, c.isList, c.in, err)
			}
		})
	}
}

type (
	iotObj  = map[string]any
	iotList = []any
)

func TestIOTypesList(t *testing.T) {
	if len(IOTypes) != 24 {
		t.Errorf("len(IOTypes) = %d, want 24", len(IOTypes))
	}
	if IOTypes[0] != IOTypeAny || IOTypes[len(IOTypes)-1] != IOTypeUUID {
		t.Errorf("IOTypes = %v, want it to run from any to uuid", IOTypes)
	}
	seen := map[IOType]bool{}
	for _, typ := range IOTypes {
		if seen[typ] {
			t.Errorf("IOTypes lists %q twice", typ)
		}
		seen[typ] = true
		if !typ.Valid() {
			t.Errorf("%q.Valid() = false", typ)
		}
	}
	for _, typ := range []IOType{"", "file", "tensorboard", "string", "integer", "Int", "iotype"} {
		if typ.Valid() {
			t.Errorf("%q.Valid() = true, want false", typ)
		}
	}
}

func TestIOTypesIsTemplate(t *testing.T) {
	cases := map[string]bool{
		"{{ x }}":              true,
		"a {{x}} b":            true,
		"{{}}":                 true,
		"--lr={{ lr }}":        true,
		"{{ globals.uuid }}":   true,
		"":                     false,
		"x":                    false,
		"{{":                   false,
		"{{ x":                 false,
		"}} {{":                false,
		"{ x }":                false,
		"{% if x %}y{% end %}": false,
	}
	for in, want := range cases {
		if got := IsTemplate(in); got != want {
			t.Errorf("IsTemplate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCoerceValueCommon(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "nil int", typ: IOTypeInt, in: nil, err: "a value is required"},
		{name: "nil any", typ: IOTypeAny, in: nil, err: "a value is required"},
		{name: "nil untyped", typ: "", in: nil, err: "a value is required"},
		{name: "nil list item", typ: IOTypeInt, isList: true, in: iotList{1, nil}, err: "item 1: a value is required"},
		{name: "unknown type", typ: "string", in: "x", err: `unknown type "string"`},
		{name: "untyped map", typ: "", in: iotObj{"a": 1}, want: iotObj{"a": 1}},
		{name: "untyped isList string", typ: "", isList: true, in: "a,b", want: "a,b"},
		{name: "any keeps int", typ: IOTypeAny, in: 5, want: 5},
		{name: "any keeps string", typ: IOTypeAny, in: "1", want: "1"},
		{name: "any isList ignored", typ: IOTypeAny, isList: true, in: "a,b", want: "a,b"},
		{name: "template int", typ: IOTypeInt, in: "{{ lr }}", want: "{{ lr }}"},
		{name: "template bool", typ: IOTypeBool, in: "{{ flag }}", want: "{{ flag }}"},
		{name: "template uuid", typ: IOTypeUUID, in: "{{ globals.uuid }}", want: "{{ globals.uuid }}"},
		{name: "template git", typ: IOTypeGit, in: "{{ repo }}", want: "{{ repo }}"},
		{name: "template list", typ: IOTypeInt, isList: true, in: "{{ values }}", want: "{{ values }}"},
		{name: "template in list", typ: IOTypeInt, isList: true, in: iotList{"{{ a }}", "2"}, want: iotList{"{{ a }}", 2}},
		{name: "template named string", typ: IOTypeFloat, in: iotTestStr("{{ x }}"), want: "{{ x }}"},
		{name: "unclosed template", typ: IOTypeInt, in: "{{ x", err: `expected an int, got "{{ x"`},
	})
}

func TestCoerceValueInt(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "int", typ: IOTypeInt, in: 5, want: 5},
		{name: "negative", typ: IOTypeInt, in: -7, want: -7},
		{name: "int8", typ: IOTypeInt, in: int8(-3), want: -3},
		{name: "int64", typ: IOTypeInt, in: int64(1 << 40), want: 1 << 40},
		{name: "uint16", typ: IOTypeInt, in: uint16(7), want: 7},
		{name: "named int", typ: IOTypeInt, in: iotTestInt(4), want: 4},
		{name: "integral float", typ: IOTypeInt, in: 2.0, want: 2},
		{name: "integral float32", typ: IOTypeInt, in: float32(3), want: 3},
		{name: "string", typ: IOTypeInt, in: "1", want: 1},
		{name: "string with spaces", typ: IOTypeInt, in: " 42 ", want: 42},
		{name: "signed string", typ: IOTypeInt, in: "+5", want: 5},
		{name: "integral float string", typ: IOTypeInt, in: "2.0", want: 2},
		{name: "exponent string", typ: IOTypeInt, in: "1e3", want: 1000},
		{name: "named string", typ: IOTypeInt, in: iotTestStr("8"), want: 8},
		{name: "fraction", typ: IOTypeInt, in: 1.5, err: "expected an int, got 1.5"},
		{name: "fraction string", typ: IOTypeInt, in: "1.5", err: `expected an int, got "1.5"`},
		{name: "word", typ: IOTypeInt, in: "abc", err: `expected an int, got "abc"`},
		{name: "empty string", typ: IOTypeInt, in: "", err: `expected an int, got ""`},
		{name: "hex string", typ: IOTypeInt, in: "0x10", err: `expected an int, got "0x10"`},
		{name: "inf string", typ: IOTypeInt, in: "inf", err: `expected an int, got "inf"`},
		{name: "bool true", typ: IOTypeInt, in: true, err: "expected an int, got true"},
		{name: "bool false", typ: IOTypeInt, in: false, err: "expected an int, got false"},
		{name: "named bool", typ: IOTypeInt, in: iotTestBool(true), err: "expected an int, got true"},
		{name: "list", typ: IOTypeInt, in: iotList{1}, err: "expected an int, got a list"},
		{name: "map", typ: IOTypeInt, in: iotObj{"a": 1}, err: "expected an int, got a mapping"},
		{name: "NaN", typ: IOTypeInt, in: math.NaN(), err: "expected an int, got NaN"},
		{name: "uint64 overflow", typ: IOTypeInt, in: uint64(math.MaxUint64), err: "18446744073709551615 is out of the int range"},
		{name: "float overflow", typ: IOTypeInt, in: 1e20, err: "1e+20 is out of the int range"},
		{name: "string overflow", typ: IOTypeInt, in: "99999999999999999999", err: `"99999999999999999999" is out of the int range`},
		{name: "struct", typ: IOTypeInt, in: struct{}{}, err: "expected an int, got a value of Go type struct {}"},
	})
}

func TestCoerceValueFloat(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "float", typ: IOTypeFloat, in: 0.5, want: 0.5},
		{name: "int", typ: IOTypeFloat, in: 1, want: 1.0},
		{name: "int32", typ: IOTypeFloat, in: int32(2), want: 2.0},
		{name: "uint8", typ: IOTypeFloat, in: uint8(3), want: 3.0},
		{name: "float32", typ: IOTypeFloat, in: float32(0.5), want: 0.5},
		{name: "float32 shortest", typ: IOTypeFloat, in: float32(0.1), want: 0.1},
		{name: "string", typ: IOTypeFloat, in: "1e-3", want: 0.001},
		{name: "int string", typ: IOTypeFloat, in: " 2 ", want: 2.0},
		{name: "negative string", typ: IOTypeFloat, in: "-0.25", want: -0.25},
		{name: "metric string", typ: IOTypeMetric, in: "0.25", want: 0.25},
		{name: "metric int", typ: IOTypeMetric, in: 3, want: 3.0},
		{name: "word", typ: IOTypeFloat, in: "abc", err: `expected a float, got "abc"`},
		{name: "nan string", typ: IOTypeFloat, in: "nan", err: `expected a float, got "nan"`},
		{name: "bool", typ: IOTypeFloat, in: true, err: "expected a float, got true"},
		{name: "metric bool", typ: IOTypeMetric, in: false, err: "expected a float, got false"},
		{name: "infinity", typ: IOTypeFloat, in: math.Inf(1), err: "expected a finite float, got Infinity"},
		{name: "list", typ: IOTypeFloat, in: iotList{0.1}, err: "expected a float, got a list"},
	})
}

func TestCoerceValueBool(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "true", typ: IOTypeBool, in: true, want: true},
		{name: "false", typ: IOTypeBool, in: false, want: false},
		{name: "named", typ: IOTypeBool, in: iotTestBool(true), want: true},
		{name: "yes", typ: IOTypeBool, in: "yes", want: true},
		{name: "y", typ: IOTypeBool, in: "y", want: true},
		{name: "t", typ: IOTypeBool, in: "t", want: true},
		{name: "TRUE", typ: IOTypeBool, in: " TRUE ", want: true},
		{name: "on", typ: IOTypeBool, in: "on", want: true},
		{name: "1", typ: IOTypeBool, in: "1", want: true},
		{name: "no", typ: IOTypeBool, in: "No", want: false},
		{name: "n", typ: IOTypeBool, in: "n", want: false},
		{name: "f", typ: IOTypeBool, in: "f", want: false},
		{name: "Off", typ: IOTypeBool, in: "Off", want: false},
		{name: "False", typ: IOTypeBool, in: "False", want: false},
		{name: "0", typ: IOTypeBool, in: "0", want: false},
		{name: "int 1", typ: IOTypeBool, in: 1, err: "expected a bool, got 1"},
		{name: "float 0", typ: IOTypeBool, in: 0.0, err: "expected a bool, got 0.0"},
		{name: "maybe", typ: IOTypeBool, in: "maybe", err: `expected a bool (true/false, yes/no, on/off, 1/0), got "maybe"`},
		{name: "empty", typ: IOTypeBool, in: "", err: `expected a bool (true/false, yes/no, on/off, 1/0), got ""`},
	})
}

func TestCoerceValueStr(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "string stays", typ: IOTypeStr, in: "1", want: "1"},
		{name: "string True stays", typ: IOTypeStr, in: "True", want: "True"},
		{name: "empty", typ: IOTypeStr, in: "", want: ""},
		{name: "named string", typ: IOTypeStr, in: iotTestStr("x"), want: "x"},
		{name: "int", typ: IOTypeStr, in: 1, want: "1"},
		{name: "uint64", typ: IOTypeStr, in: uint64(math.MaxUint64), want: "18446744073709551615"},
		{name: "float", typ: IOTypeStr, in: 0.5, want: "0.5"},
		{name: "integral float", typ: IOTypeStr, in: 2.0, want: "2.0"},
		{name: "small float", typ: IOTypeStr, in: 1e-7, want: "1e-07"},
		{name: "big float", typ: IOTypeStr, in: 1e16, want: "1e+16"},
		{name: "fixed float", typ: IOTypeStr, in: 123456789.0, want: "123456789.0"},
		{name: "float32", typ: IOTypeStr, in: float32(0.1), want: "0.1"},
		{name: "true", typ: IOTypeStr, in: true, want: "true"},
		{name: "false", typ: IOTypeStr, in: false, want: "false"},
		{name: "list", typ: IOTypeStr, in: iotList{1, "a", nil, true, 0.5}, want: `[1, "a", null, true, 0.5]`},
		{name: "empty list", typ: IOTypeStr, in: iotList{}, want: `[]`},
		{name: "dict", typ: IOTypeStr, in: iotObj{"a": 1}, want: `{"a": 1}`},
		{name: "sorted keys", typ: IOTypeStr, in: iotObj{"b": 1, "a": iotList{"x", iotObj{"d": 2.5, "c": nil}}}, want: `{"a": ["x", {"c": null, "d": 2.5}], "b": 1}`},
		{name: "string slice", typ: IOTypeStr, in: []string{"a", "b"}, want: `["a", "b"]`},
		{name: "string map", typ: IOTypeStr, in: map[string]string{"k": "v"}, want: `{"k": "v"}`},
		{name: "int keys", typ: IOTypeStr, in: map[any]any{1: "a", true: 2}, want: `{"1": "a", "true": 2}`},
		{name: "escapes", typ: IOTypeStr, in: iotList{"a\"b\\c\n\t\x01"}, want: `["a\"b\\c\n\t\u0001"]`},
		{name: "utf8 kept", typ: IOTypeStr, in: iotList{"é"}, want: `["é"]`},
		{name: "path int", typ: IOTypePath, in: 3, want: "3"},
		{name: "path string", typ: IOTypePath, in: "/tmp/x", want: "/tmp/x"},
		{name: "struct", typ: IOTypeStr, in: struct{}{}, err: "expected a string, got a value of Go type struct {}"},
		{name: "list of struct", typ: IOTypeStr, in: iotList{struct{}{}}, err: "cannot render a value of Go type struct {} as JSON"},
	})
}

func TestCoerceValuePythonFloats(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{0.0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1.0, "1.0"},
		{-2.5, "-2.5"},
		{123.456, "123.456"},
		{0.30000000000000004, "0.30000000000000004"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.5e16, "1.5e+16"},
		{1e22, "1e+22"},
		{1.5e300, "1.5e+300"},
		{0.0001, "0.0001"},
		{0.00012, "0.00012"},
		{0.00001, "1e-05"},
		{1.25e-5, "1.25e-05"},
		{5e-324, "5e-324"},
		{float32(0.1), "0.1"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, c := range cases {
		got, err := iotPyJSON(c.in)
		if err != nil {
			t.Errorf("iotPyJSON(%v) error: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("iotPyJSON(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCoerceValueDict(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "map", typ: IOTypeDict, in: iotObj{"a": 1}, want: iotObj{"a": 1}},
		{name: "empty map", typ: IOTypeDict, in: iotObj{}, want: iotObj{}},
		{name: "typed map", typ: IOTypeDict, in: map[string]int{"a": 1}, want: iotObj{"a": 1}},
		{name: "json", typ: IOTypeDict, in: `{"a": 1, "b": [1.5, "x"], "c": {"d": null}}`, want: iotObj{"a": 1, "b": iotList{1.5, "x"}, "c": iotObj{"d": nil}}},
		{name: "empty json", typ: IOTypeDict, in: `{}`, want: iotObj{}},
		{name: "metadata json", typ: IOTypeMetadata, in: ` {"k": "v"} `, want: iotObj{"k": "v"}},
		{name: "metadata map", typ: IOTypeMetadata, in: iotObj{"k": true}, want: iotObj{"k": true}},
		{name: "json list", typ: IOTypeDict, in: `[1]`, err: `expected a dict (a mapping or a JSON object), got "[1]"`},
		{name: "trailing data", typ: IOTypeDict, in: `{"a": 1} x`, err: `expected a dict (a mapping or a JSON object), got "{\"a\": 1} x"`},
		{name: "word", typ: IOTypeDict, in: "abc", err: `expected a dict (a mapping or a JSON object), got "abc"`},
		{name: "int", typ: IOTypeDict, in: 5, err: "expected a dict (a mapping or a JSON object), got 5"},
		{name: "list", typ: IOTypeMetadata, in: iotList{}, err: "expected a dict (a mapping or a JSON object), got a list"},
		{name: "dict of dicts", typ: IOTypeDictOfDicts, in: iotObj{"a": iotObj{"x": 1}, "b": map[string]any{}}, want: iotObj{"a": iotObj{"x": 1}, "b": iotObj{}}},
		{name: "dict of dicts json", typ: IOTypeDictOfDicts, in: `{"a": {"b": 2}}`, want: iotObj{"a": iotObj{"b": 2}}},
		{name: "dict of dicts isList ignored", typ: IOTypeDictOfDicts, isList: true, in: iotObj{"a": iotObj{}}, want: iotObj{"a": iotObj{}}},
		{name: "dict of scalars", typ: IOTypeDictOfDicts, in: iotObj{"a": 1}, err: `expected a dict of dicts, but the value of key "a" is 1`},
		{name: "dict of dicts string", typ: IOTypeDictOfDicts, in: "x", err: `expected a dict of dicts, got "x"`},
	})
}

func TestCoerceValueList(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "list", typ: IOTypeList, in: iotList{1, "a"}, want: iotList{1, "a"}},
		{name: "typed slice", typ: IOTypeList, in: []string{"x"}, want: iotList{"x"}},
		{name: "array", typ: IOTypeList, in: [2]int{1, 2}, want: iotList{1, 2}},
		{name: "comma string", typ: IOTypeList, in: "a, b,c", want: iotList{"a", "b", "c"}},
		{name: "empty parts dropped", typ: IOTypeList, in: "a,, b , ", want: iotList{"a", "b"}},
		{name: "single", typ: IOTypeList, in: "single", want: iotList{"single"}},
		{name: "empty string", typ: IOTypeList, in: "", want: iotList{}},
		{name: "json list", typ: IOTypeList, in: "[1, 2.5, \"x\"]", want: iotList{1, 2.5, "x"}},
		{name: "broken json is split", typ: IOTypeList, in: "[1, 2", want: iotList{"[1", "2"}},
		{name: "isList ignored", typ: IOTypeList, isList: true, in: "a,b", want: iotList{"a", "b"}},
		{name: "int", typ: IOTypeList, in: 5, err: "expected a list, got 5"},
		{name: "map", typ: IOTypeList, in: iotObj{}, err: "expected a list, got a mapping"},
	})
}

func TestCoerceValueIsList(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "ints", typ: IOTypeInt, isList: true, in: iotList{1, "2", 3.0}, want: iotList{1, 2, 3}},
		{name: "int slice to floats", typ: IOTypeFloat, isList: true, in: []int{1, 2}, want: iotList{1.0, 2.0}},
		{name: "comma ints", typ: IOTypeInt, isList: true, in: "1, 2", want: iotList{1, 2}},
		{name: "json ints", typ: IOTypeInt, isList: true, in: "[1, 2]", want: iotList{1, 2}},
		{name: "json floats", typ: IOTypeFloat, isList: true, in: "[0.1, 2]", want: iotList{0.1, 2.0}},
		{name: "empty list", typ: IOTypeInt, isList: true, in: iotList{}, want: iotList{}},
		{name: "strs", typ: IOTypeStr, isList: true, in: "a, b", want: iotList{"a", "b"}},
		{name: "strs from numbers", typ: IOTypeStr, isList: true, in: iotList{1, 0.5, true}, want: iotList{"1", "0.5", "true"}},
		{name: "bools", typ: IOTypeBool, isList: true, in: "yes,no", want: iotList{true, false}},
		{name: "uuids", typ: IOTypeUUID, isList: true, in: "FCC462D7-6410-4EB6-98D3-CCA509F34154,fcc462d764104eb698d3cca509f34155", want: iotList{"fcc462d764104eb698d3cca509f34154", "fcc462d764104eb698d3cca509f34155"}},
		{name: "gits", typ: IOTypeGit, isList: true, in: iotList{iotObj{"url": "u"}}, want: iotList{iotObj{"url": "u"}}},
		{name: "git json list", typ: IOTypeGit, isList: true, in: `[{"revision": "main"}]`, want: iotList{iotObj{"revision": "main"}}},
		{name: "single item string", typ: IOTypeInt, isList: true, in: "5", err: `expected a list of int values (a list, a JSON list or a comma-separated string), got "5"`},
		{name: "single word", typ: IOTypeStr, isList: true, in: "a", err: `expected a list of str values (a list, a JSON list or a comma-separated string), got "a"`},
		{name: "json object", typ: IOTypeDict, isList: true, in: `{"a": 1}`, err: `expected a list of dict values (a list, a JSON list or a comma-separated string), got "{\"a\": 1}"`},
		{name: "scalar", typ: IOTypeInt, isList: true, in: 5, err: "expected a list of int values, got 5"},
		{name: "map", typ: IOTypeGit, isList: true, in: iotObj{"url": "u"}, err: "expected a list of git values, got a mapping"},
		{name: "bad item", typ: IOTypeInt, isList: true, in: iotList{1, "x"}, err: `item 1: expected an int, got "x"`},
		{name: "bad comma item", typ: IOTypeFloat, isList: true, in: "1,x", err: `item 1: expected a float, got "x"`},
	})
}

func TestCoerceValueURIAndAuth(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "uri string", typ: IOTypeURI, in: "user:pass@host", want: iotObj{"user": "user", "password": "pass", "host": "host"}},
		{name: "uri with port", typ: IOTypeURI, in: "u:p@db.local:5432", want: iotObj{"user": "u", "password": "p", "host": "db.local:5432"}},
		{name: "uri empty password", typ: IOTypeURI, in: "u:@h", want: iotObj{"user": "u", "password": "", "host": "h"}},
		{name: "uri map", typ: IOTypeURI, in: iotObj{"user": "u", "password": "p", "host": "h"}, want: iotObj{"user": "u", "password": "p", "host": "h"}},
		{name: "uri json", typ: IOTypeURI, in: `{"user": "u", "password": "p", "host": "h"}`, want: iotObj{"user": "u", "password": "p", "host": "h"}},
		{name: "uri template field", typ: IOTypeURI, in: iotObj{"user": "u", "password": "{{ secret }}", "host": "h"}, want: iotObj{"user": "u", "password": "{{ secret }}", "host": "h"}},
		{name: "uri no at", typ: IOTypeURI, in: "nohost", err: `expected a uri in the form "user:password@host" or {user, password, host}`},
		{name: "uri two ats", typ: IOTypeURI, in: "a:b@c@d", err: `expected a uri in the form "user:password@host" or {user, password, host}`},
		{name: "uri no colon", typ: IOTypeURI, in: "ab@c", err: `expected a uri in the form "user:password@host" or {user, password, host}`},
		{name: "uri two colons", typ: IOTypeURI, in: "a:b:c@d", err: `expected a uri in the form "user:password@host" or {user, password, host}`},
		{name: "uri empty host", typ: IOTypeURI, in: "u:p@", err: `the uri has no host; expected "user:password@host"`},
		{name: "uri map empty host", typ: IOTypeURI, in: iotObj{"user": "u", "password": "p", "host": ""}, err: "the uri has an empty host"},
		{name: "uri map missing", typ: IOTypeURI, in: iotObj{"user": "u", "host": "h"}, err: `uri field "password" is required`},
		{name: "uri map null", typ: IOTypeURI, in: iotObj{"user": "u", "password": nil, "host": "h"}, err: `uri field "password" is required`},
		{name: "uri map extra", typ: IOTypeURI, in: iotObj{"user": "u", "password": "p", "host": "h", "port": 1}, err: `unknown uri field "port" (valid fields: user, password, host)`},
		{name: "uri map int host", typ: IOTypeURI, in: iotObj{"user": "u", "password": "p", "host": 5}, err: `uri field "host": expected a string, got 5`},
		{name: "uri int", typ: IOTypeURI, in: 5, err: `expected a uri ("user:password@host" or {user, password, host}), got 5`},
		{name: "auth string", typ: IOTypeAuth, in: "u:p", want: iotObj{"user": "u", "password": "p"}},
		{name: "auth map", typ: IOTypeAuth, in: iotObj{"user": "u", "password": "p"}, want: iotObj{"user": "u", "password": "p"}},
		{name: "auth json", typ: IOTypeAuth, in: `{"user": "u", "password": "p"}`, want: iotObj{"user": "u", "password": "p"}},
		{name: "auth no colon", typ: IOTypeAuth, in: "nopass", err: `expected an auth in the form "user:password" or {user, password}`},
		{name: "auth two colons", typ: IOTypeAuth, in: "a:b:c", err: `expected an auth in the form "user:password" or {user, password}`},
		{name: "auth map missing", typ: IOTypeAuth, in: iotObj{"user": "u"}, err: `auth field "password" is required`},
		{name: "auth map extra", typ: IOTypeAuth, in: iotObj{"user": "u", "password": "p", "host": "h"}, err: `unknown auth field "host" (valid fields: user, password)`},
		{name: "auth list", typ: IOTypeAuth, in: iotList{"u", "p"}, err: `expected an auth ("user:password" or {user, password}), got a list`},
	})
}

func TestCoerceValueStoragePaths(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "s3 url", typ: IOTypeS3, in: "s3://bucket/key/file.txt", want: "s3://bucket/key/file.txt"},
		{name: "s3 bucket only", typ: IOTypeS3, in: "s3://bucket", want: "s3://bucket"},
		{name: "s3 scheme not checked", typ: IOTypeS3, in: "gs://b/k", want: "gs://b/k"},
		{name: "s3 no scheme", typ: IOTypeS3, in: "//bucket/key", want: "//bucket/key"},
		{name: "s3 map", typ: IOTypeS3, in: iotObj{"bucket": "b", "key": "k"}, want: iotObj{"bucket": "b", "key": "k"}},
		{name: "s3 relative", typ: IOTypeS3, in: "foo/bar", err: `expected an S3 path like "s3://bucket/key", got "foo/bar"`},
		{name: "s3 no host", typ: IOTypeS3, in: "s3:///key", err: `expected an S3 path like "s3://bucket/key", got "s3:///key"`},
		{name: "s3 map no bucket", typ: IOTypeS3, in: iotObj{"key": "k"}, err: `s3 field "bucket" is required`},
		{name: "s3 map unknown", typ: IOTypeS3, in: iotObj{"bucket": "b", "blob": "k"}, err: `unknown s3 field "blob" (valid fields: bucket, key)`},
		{name: "s3 int", typ: IOTypeS3, in: 5, err: `expected an S3 path ("s3://bucket/key" or {bucket, key}), got 5`},
		{name: "gcs url", typ: IOTypeGCS, in: "gs://bucket/path/to/blob/", want: "gs://bucket/path/to/blob/"},
		{name: "gcs upper scheme", typ: IOTypeGCS, in: "GS://bucket/blob", want: "GS://bucket/blob"},
		{name: "gcs map", typ: IOTypeGCS, in: iotObj{"bucket": "b", "blob": "x"}, want: iotObj{"bucket": "b", "blob": "x"}},
		{name: "gcs s3 scheme", typ: IOTypeGCS, in: "s3://b/k", err: `expected a GCS path like "gs://bucket/blob", got "s3://b/k"`},
		{name: "gcs no host", typ: IOTypeGCS, in: "gs:/b", err: `expected a GCS path like "gs://bucket/blob", got "gs:/b"`},
		{name: "gcs map unknown", typ: IOTypeGCS, in: iotObj{"bucket": "b", "key": "k"}, err: `unknown gcs field "key" (valid fields: bucket, blob)`},
		{name: "gcs bool", typ: IOTypeGCS, in: true, err: `expected a GCS path ("gs://bucket/blob" or {bucket, blob}), got true`},
		{name: "wasbs url", typ: IOTypeWasb, in: "wasbs://container@account.blob.core.windows.net/path", want: "wasbs://container@account.blob.core.windows.net/path"},
		{name: "wasb url", typ: IOTypeWasb, in: "wasb://c@a.blob.core.windows.net", want: "wasb://c@a.blob.core.windows.net"},
		{name: "https url", typ: IOTypeWasb, in: "https://account.blob.core.windows.net/container/path", want: "https://account.blob.core.windows.net/container/path"},
		{name: "az url", typ: IOTypeWasb, in: "az://container/path", want: "az://container/path"},
		{name: "abfs url", typ: IOTypeWasb, in: "abfs://container/path", want: "abfs://container/path"},
		{name: "wasb map", typ: IOTypeWasb, in: iotObj{"container": "c", "storageAccount": "a", "path": "p"}, want: iotObj{"container": "c", "storageAccount": "a", "path": "p"}},
		{name: "wasbs no container", typ: IOTypeWasb, in: "wasbs://account.blob.core.windows.net/path", err: `expected a wasbs URL like "wasbs://container@account.blob.core.windows.net/path", got "wasbs://account.blob.core.windows.net/path"`},
		{name: "wasb other host", typ: IOTypeWasb, in: "wasb://c@example.com/p", err: `expected a wasb URL like "wasb://container@account.blob.core.windows.net/path", got "wasb://c@example.com/p"`},
		{name: "https other host", typ: IOTypeWasb, in: "https://example.com/c/p", err: `expected an https URL like "https://account.blob.core.windows.net/container/path", got "https://example.com/c/p"`},
		{name: "https no container", typ: IOTypeWasb, in: "https://account.blob.core.windows.net/", err: `the Azure blob URL "https://account.blob.core.windows.net/" names no container`},
		{name: "az no container", typ: IOTypeWasb, in: "az:///path", err: `the Azure blob URL "az:///path" names no container`},
		{name: "other scheme", typ: IOTypeWasb, in: "s3://b/k", err: `expected an Azure blob URL with scheme wasb, wasbs, https, az or abfs, got "s3://b/k"`},
		{name: "no scheme", typ: IOTypeWasb, in: "container/path", err: `expected an Azure blob URL with scheme wasb, wasbs, https, az or abfs, got "container/path"`},
		{name: "wasb snake key", typ: IOTypeWasb, in: iotObj{"container": "c", "storage_account": "a"}, err: `unknown wasb field "storage_account" (valid fields: container, storageAccount, path)`},
		{name: "wasb map no container", typ: IOTypeWasb, in: iotObj{"path": "p"}, err: `wasb field "container" is required`},
		{name: "wasb int", typ: IOTypeWasb, in: 5, err: "expected an Azure blob path (a wasb, wasbs, https, az or abfs URL, or {container, storageAccount, path}), got 5"},
	})
}

func TestCoerceValueDates(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "date", typ: IOTypeDate, in: "2020-01-31", want: "2020-01-31"},
		{name: "short date", typ: IOTypeDate, in: "2020-1-5", want: "2020-1-5"},
		{name: "leap day", typ: IOTypeDate, in: "2024-02-29", want: "2024-02-29"},
		{name: "date time.Time", typ: IOTypeDate, in: time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC), want: "2020-03-04"},
		{name: "not a leap day", typ: IOTypeDate, in: "2023-02-29", err: `expected a date (YYYY-MM-DD), got "2023-02-29"`},
		{name: "bad day", typ: IOTypeDate, in: "2020-02-30", err: `expected a date (YYYY-MM-DD), got "2020-02-30"`},
		{name: "bad month", typ: IOTypeDate, in: "2020-13-01", err: `expected a date (YYYY-MM-DD), got "2020-13-01"`},
		{name: "date with time", typ: IOTypeDate, in: "2020-01-01T00:00:00", err: `expected a date (YYYY-MM-DD), got "2020-01-01T00:00:00"`},
		{name: "compact date", typ: IOTypeDate, in: "20200101", err: `expected a date (YYYY-MM-DD), got "20200101"`},
		{name: "date int", typ: IOTypeDate, in: 20200101, err: "expected a date (YYYY-MM-DD), got 20200101"},
		{name: "datetime Z", typ: IOTypeDatetime, in: "2020-01-31T10:20:30Z", want: "2020-01-31T10:20:30Z"},
		{name: "datetime space no seconds", typ: IOTypeDatetime, in: "2020-01-31 10:20", want: "2020-01-31 10:20"},
		{name: "datetime fraction zone", typ: IOTypeDatetime, in: "2020-01-31T10:20:30.123456+02:00", want: "2020-01-31T10:20:30.123456+02:00"},
		{name: "datetime nanoseconds", typ: IOTypeDatetime, in: "2020-01-31T10:20:30.123456789Z", want: "2020-01-31T10:20:30.123456789Z"},
		{name: "datetime compact zone", typ: IOTypeDatetime, in: "2020-01-31T10:20:30-0530", want: "2020-01-31T10:20:30-0530"},
		{name: "datetime hour zone", typ: IOTypeDatetime, in: "2020-01-31 00:00:00+01", want: "2020-01-31 00:00:00+01"},
		{name: "datetime time.Time", typ: IOTypeDatetime, in: time.Date(2020, 3, 4, 5, 6, 7, 0, time.UTC), want: "2020-03-04T05:06:07Z"},
		{name: "datetime date only", typ: IOTypeDatetime, in: "2020-01-31", err: `expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got "2020-01-31"`},
		{name: "datetime bad hour", typ: IOTypeDatetime, in: "2020-01-31T25:00:00", err: `expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got "2020-01-31T25:00:00"`},
		{name: "datetime bad second", typ: IOTypeDatetime, in: "2020-01-31T10:00:60", err: `expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got "2020-01-31T10:00:60"`},
		{name: "datetime bad zone", typ: IOTypeDatetime, in: "2020-01-31T10:00:00+25:00", err: `expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got "2020-01-31T10:00:00+25:00"`},
		{name: "datetime bad day", typ: IOTypeDatetime, in: "2021-02-29T10:00:00", err: `expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got "2021-02-29T10:00:00"`},
		{name: "datetime float", typ: IOTypeDatetime, in: 1.5, err: "expected a datetime (ISO 8601, e.g. 2006-01-02T15:04:05Z), got 1.5"},
	})
}

func TestCoerceValueUUID(t *testing.T) {
	const want = "fcc462d764104eb698d3cca509f34154"
	iotRun(t, []iotCase{
		{name: "hex", typ: IOTypeUUID, in: want, want: want},
		{name: "dashed upper", typ: IOTypeUUID, in: "FCC462D7-6410-4EB6-98D3-CCA509F34154", want: want},
		{name: "braces", typ: IOTypeUUID, in: "{fcc462d7-6410-4eb6-98d3-cca509f34154}", want: want},
		{name: "urn", typ: IOTypeUUID, in: "urn:uuid:fcc462d7-6410-4eb6-98d3-cca509f34154", want: want},
		{name: "URN upper", typ: IOTypeUUID, in: "URN:UUID:FCC462D7-6410-4EB6-98D3-CCA509F34154", want: want},
		{name: "not a uuid", typ: IOTypeUUID, in: "not-a-uuid", err: `expected a UUID, got "not-a-uuid"`},
		{name: "bad digit", typ: IOTypeUUID, in: "fcc462d764104eb698d3cca509f3415g", err: `expected a UUID, got "fcc462d764104eb698d3cca509f3415g"`},
		{name: "too short", typ: IOTypeUUID, in: "fcc462d7", err: `expected a UUID, got "fcc462d7"`},
		{name: "int", typ: IOTypeUUID, in: 12345, err: "expected a UUID, got 12345"},
	})
}

func TestCoerceValueImage(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "image", typ: IOTypeImage, in: "repo/img:tag", want: "repo/img:tag"},
		{name: "no validation", typ: IOTypeImage, in: "foo bar", want: "foo bar"},
		{name: "legacy map", typ: IOTypeImage, in: iotObj{"name": "img:1"}, want: "img:1"},
		{name: "legacy json", typ: IOTypeImage, in: `{"name": "img:1", "tag": "x"}`, want: "img:1"},
		{name: "brace not json", typ: IOTypeImage, in: "{not json", want: "{not json"},
		{name: "map without name", typ: IOTypeImage, in: iotObj{"tag": "x"}, err: `the image mapping has no "name"`},
		{name: "json without name", typ: IOTypeImage, in: `{"tag": "x"}`, err: `the image mapping has no "name"`},
		{name: "int name", typ: IOTypeImage, in: iotObj{"name": 5}, err: "expected the image name to be a string, got 5"},
		{name: "int", typ: IOTypeImage, in: 5, err: "expected an image name, got 5"},
	})
}

func TestCoerceValueGitEventArtifacts(t *testing.T) {
	iotRun(t, []iotCase{
		{name: "git", typ: IOTypeGit, in: iotObj{"url": "https://github.com/x/y", "revision": "main", "flags": iotList{"--depth=1"}}, want: iotObj{"url": "https://github.com/x/y", "revision": "main", "flags": iotList{"--depth=1"}}},
		{name: "git json", typ: IOTypeGit, in: `{"url": "https://github.com/x/y"}`, want: iotObj{"url": "https://github.com/x/y"}},
		{name: "git empty", typ: IOTypeGit, in: iotObj{}, want: iotObj{}},
		{name: "git null field", typ: IOTypeGit, in: iotObj{"url": nil}, want: iotObj{"url": nil}},
		{name: "git template field", typ: IOTypeGit, in: iotObj{"url": "{{ repo }}", "flags": "{{ flags }}"}, want: iotObj{"url": "{{ repo }}", "flags": "{{ flags }}"}},
		{name: "git string slice", typ: IOTypeGit, in: map[string]any{"flags": []string{"-q"}}, want: iotObj{"flags": iotList{"-q"}}},
		{name: "git flags string", typ: IOTypeGit, in: iotObj{"flags": "--x"}, err: `git field "flags": expected a list, got "--x"`},
		{name: "git flags int", typ: IOTypeGit, in: iotObj{"flags": iotList{1}}, err: `git field "flags": item 0: expected a string, got 1`},
		{name: "git url int", typ: IOTypeGit, in: iotObj{"url": 1}, err: `git field "url": expected a string, got 1`},
		{name: "git unknown", typ: IOTypeGit, in: iotObj{"branch": "x"}, err: `unknown git field "branch" (valid fields: url, revision, flags)`},
		{name: "git word", typ: IOTypeGit, in: "not json", err: `expected a mapping {url, revision, flags} or its JSON, got "not json"`},
		{name: "git list", typ: IOTypeGit, in: iotList{}, err: "expected a mapping {url, revision, flags} or its JSON, got a list"},
		{name: "event", typ: IOTypeEvent, in: iotObj{"name": "n", "kind": "run_status_succeeded"}, want: iotObj{"name": "n", "kind": "run_status_succeeded"}},
		{name: "event json", typ: IOTypeEvent, in: `{"kind": "k"}`, want: iotObj{"kind": "k"}},
		{name: "event unknown", typ: IOTypeEvent, in: iotObj{"ref": "x"}, err: `unknown event field "ref" (valid fields: name, kind)`},
		{name: "artifacts", typ: IOTypeArtifacts, in: iotObj{"files": iotList{"a", iotList{"b", "c"}}, "dirs": iotList{"d"}, "workers": "4"}, want: iotObj{"files": iotList{"a", iotList{"b", "c"}}, "dirs": iotList{"d"}, "workers": 4}},
		{name: "artifacts json", typ: IOTypeArtifacts, in: `{"dirs": ["/"], "workers": 2}`, want: iotObj{"dirs": iotList{"/"}, "workers": 2}},
		{name: "artifacts template workers", typ: IOTypeArtifacts, in: iotObj{"workers": "{{ n }}"}, want: iotObj{"workers": "{{ n }}"}},
		{name: "artifacts triple", typ: IOTypeArtifacts, in: iotObj{"files": iotList{iotList{"a", "b", "c"}}}, err: `artifacts field "files": item 0: expected a path or a [from, to] pair of paths, got a list`},
		{name: "artifacts int pair", typ: IOTypeArtifacts, in: iotObj{"dirs": iotList{iotList{"a", 1}}}, err: `artifacts field "dirs": item 0: expected a path or a [from, to] pair of paths, got a list`},
		{name: "artifacts workers fraction", typ: IOTypeArtifacts, in: iotObj{"workers": 1.5}, err: `artifacts field "workers": expected an int, got 1.5`},
		{name: "artifacts workers bool", typ: IOTypeArtifacts, in: iotObj{"workers": true}, err: `artifacts field "workers": expected an int, got true`},
		{name: "artifacts unknown", typ: IOTypeArtifacts, in: iotObj{"paths": iotList{}}, err: `unknown artifacts field "paths" (valid fields: files, dirs, workers)`},
	})
}

func TestCoerceValueDockerfile(t *testing.T) {
	full := iotObj{
		"image":       "python:3.9",
		"env":         iotObj{"KEY1": "en_US.UTF-8", "KEY2": 2},
		"path":        iotList{"module/add"},
		"copy":        iotList{"src", iotList{"a", "/b"}},
		"postRunCopy": iotList{iotList{"x", "y"}},
		"run":         iotList{"pip install x"},
		"langEnv":     "en_US.UTF-8",
		"uid":         "2222",
		"gid":         1111,
		"username":    "me",
		"filename":    "Dockerfile2",
		"workdir":     "/code",
		"workdirPath": "../my-code",
		"shell":       "/bin/sh",
	}
	fullWant := iotObj{}
	for k, v := range full {
		fullWant[k] = v
	}
	fullWant["uid"] = 2222
	fullJSON, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	const valid = "image, env, path, copy, postRunCopy, run, langEnv, uid, gid, username, filename, workdir, workdirPath, shell"
	iotRun(t, []iotCase{
		{name: "full", typ: IOTypeDockerfile, in: full, want: fullWant},
		{name: "full json", typ: IOTypeDockerfile, in: string(fullJSON), want: fullWant},
		{name: "image only", typ: IOTypeDockerfile, in: iotObj{"image": "test"}, want: iotObj{"image": "test"}},
		{name: "registry port", typ: IOTypeDockerfile, in: iotObj{"image": "localhost:5000/img:tag"}, want: iotObj{"image": "localhost:5000/img:tag"}},
		{name: "template image", typ: IOTypeDockerfile, in: iotObj{"image": "{{ image }}"}, want: iotObj{"image": "{{ image }}"}},
		{name: "template env", typ: IOTypeDockerfile, in: iotObj{"image": "x", "env": "{{ env }}"}, want: iotObj{"image": "x", "env": "{{ env }}"}},
		{name: "missing image", typ: IOTypeDockerfile, in: iotObj{"run": iotList{"x"}}, err: `dockerfile field "image" is required`},
		{name: "null image", typ: IOTypeDockerfile, in: iotObj{"image": nil}, err: `dockerfile field "image" is required`},
		{name: "empty image", typ: IOTypeDockerfile, in: iotObj{"image": ""}, err: `dockerfile field "image": an image is required`},
		{name: "image with space", typ: IOTypeDockerfile, in: iotObj{"image": "foo bar"}, err: `dockerfile field "image": invalid docker image "foo bar"`},
		{name: "image with colons", typ: IOTypeDockerfile, in: iotObj{"image": "a:b:c"}, err: `dockerfile field "image": invalid docker image "a:b:c"`},
		{name: "image int", typ: IOTypeDockerfile, in: iotObj{"image": 5}, err: `dockerfile field "image": expected an image name, got 5`},
		{name: "env list", typ: IOTypeDockerfile, in: iotObj{"image": "x", "env": iotList{"A=1"}}, err: `dockerfile field "env": expected a mapping, got a list`},
		{name: "uid word", typ: IOTypeDockerfile, in: iotObj{"image": "x", "uid": "root"}, err: `dockerfile field "uid": expected an int, got "root"`},
		{name: "run string", typ: IOTypeDockerfile, in: iotObj{"image": "x", "run": "pip install"}, err: `dockerfile field "run": expected a list, got "pip install"`},
		{name: "unknown", typ: IOTypeDockerfile, in: iotObj{"image": "x", "from": "y"}, err: `unknown dockerfile field "from" (valid fields: ` + valid + `)`},
		{name: "int", typ: IOTypeDockerfile, in: 5, err: "expected a mapping {" + valid + "} or its JSON, got 5"},
	})
}

func TestCoerceValueDoesNotModifyInput(t *testing.T) {
	in := iotObj{"files": iotList{"a"}, "workers": "3"}
	if _, err := CoerceValue(IOTypeArtifacts, false, in); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(iotObj{"files": iotList{"a"}, "workers": "3"}, in); diff != "" {
		t.Errorf("input modified (-want +got):\n%s", diff)
	}
}

func TestIOTypesCheckValue(t *testing.T) {
	cases := []struct {
		name   string
		typ    IOType
		isList bool
		in     any
		err    string
	}{
		{name: "nil default", typ: IOTypeInt, in: nil},
		{name: "raw list default", typ: IOTypeList, in: "a, b,c"},
		{name: "template default", typ: IOTypeInt, in: "{{ x }}"},
		{name: "int default", typ: IOTypeInt, in: 3},
		{name: "float list default", typ: IOTypeFloat, isList: true, in: "0.1, 2"},
		{name: "untyped", typ: "", in: iotObj{}},
		{name: "bad int", typ: IOTypeInt, in: "1.5", err: `expected an int, got "1.5"`},
		{name: "bad bool", typ: IOTypeBool, in: 1, err: "expected a bool, got 1"},
		{name: "bad item", typ: IOTypeInt, isList: true, in: iotList{"a", "b"}, err: `item 0: expected an int, got "a"`},
	}
	for _, c := range cases {
		err := CheckValue(c.typ, c.isList, c.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(c.err, got); diff != "" {
			t.Errorf("%s: CheckValue error mismatch (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestIOTypesInOptions(t *testing.T) {
	cases := []struct {
		name    string
		v       any
		options []any
		want    bool
	}{
		{name: "int in floats", v: 1, options: iotList{1.0, 2.0}, want: true},
		{name: "float in ints", v: 2.0, options: iotList{1, 2}, want: true},
		{name: "not in", v: 4.4, options: iotList{1.1, 2.2}, want: false},
		{name: "string is not int", v: "1", options: iotList{1}, want: false},
		{name: "int is not string", v: 1, options: iotList{"1"}, want: false},
		{name: "bool is not int", v: true, options: iotList{1}, want: false},
		{name: "int is not bool", v: 1, options: iotList{true}, want: false},
		{name: "bool", v: false, options: iotList{true, false}, want: true},
		{name: "go int kinds", v: int64(3), options: iotList{uint8(3)}, want: true},
		{name: "negative vs uint", v: -1, options: iotList{uint64(math.MaxUint64)}, want: false},
		{name: "big uint vs float", v: uint64(math.MaxUint64), options: iotList{float64(math.MaxUint64)}, want: false},
		{name: "precision", v: 1<<53 + 1, options: iotList{float64(1 << 53)}, want: false},
		{name: "string", v: "b", options: iotList{"a", "b"}, want: true},
		{name: "named string", v: iotTestStr("a"), options: iotList{"a"}, want: true},
		{name: "list numeric", v: iotList{1, 2}, options: iotList{iotList{1.0, 2.0}}, want: true},
		{name: "list length", v: iotList{1}, options: iotList{iotList{1, 2}}, want: false},
		{name: "map", v: iotObj{"a": 1}, options: iotList{map[string]int{"a": 1}}, want: true},
		{name: "map differs", v: iotObj{"a": 1}, options: iotList{iotObj{"b": 1}}, want: false},
		{name: "nil", v: nil, options: iotList{nil}, want: true},
		{name: "nil vs zero", v: nil, options: iotList{0}, want: false},
		{name: "no options", v: 1, options: nil, want: false},
		{name: "struct", v: struct{ A int }{1}, options: iotList{struct{ A int }{1}}, want: true},
	}
	for _, c := range cases {
		if got := InOptions(c.v, c.options); got != c.want {
			t.Errorf("%s: InOptions(%#v, %#v) = %v, want %v", c.name, c.v, c.options, got, c.want)
		}
	}
}

func TestIOTypesCompatibleTypes(t *testing.T) {
	cases := []struct {
		from, to IOType
		want     bool
	}{
		{IOTypeInt, IOTypeInt, true},
		{IOTypeMetric, IOTypeFloat, true},
		{IOTypeFloat, IOTypeMetric, true},
		{IOTypeStr, IOTypePath, true},
		{IOTypeS3, IOTypeStr, true},
		{IOTypeGCS, IOTypeWasb, true},
		{IOTypePath, IOTypeS3, true},
		{"", IOTypeInt, true},
		{IOTypeInt, "", true},
		{IOTypeAny, IOTypeGit, true},
		{IOTypeDict, IOTypeAny, true},
		{IOTypeStr, IOTypeInt, false},
		{IOTypeInt, IOTypeFloat, false},
		{IOTypeMetric, IOTypeStr, false},
		{IOTypeDict, IOTypeMetadata, false},
		{IOTypeGit, IOTypeStr, false},
		{IOTypeImage, IOTypeStr, false},
	}
	for _, c := range cases {
		if got := CompatibleTypes(c.from, c.to); got != c.want {
			t.Errorf("CompatibleTypes(%q, %q) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func FuzzCoerceValue(f *testing.F) {
	seeds := []string{
		"", "1", "1.5", "-0", "1e400", "true", "yes", "a, b,c", "[1, 2]", `{"a": 1}`,
		"u:p@h", "s3://b/k", "gs://b", "wasbs://c@a.blob.core.windows.net/p",
		"https://a.blob.core.windows.net/c/p", "2020-01-31", "2020-01-31T10:20:30.5+02:00",
		"FCC462D7-6410-4EB6-98D3-CCA509F34154", `{"image": "x", "copy": [["a", "b"]]}`,
		`{"files": ["a"], "workers": "2"}`, "{{ x }}", `[{"url": "u"}]`, "\xff,\x00",
	}
	for i, s := range seeds {
		f.Add(uint8(i), i%2 == 0, s)
	}
	f.Fuzz(func(t *testing.T, typeIndex uint8, isList bool, s string) {
		types := append([]IOType{""}, IOTypes...)
		typ := types[int(typeIndex)%len(types)]
		inputs := []any{s}
		var decoded any
		if json.Unmarshal([]byte(s), &decoded) == nil {
			inputs = append(inputs, decoded)
		}
		for _, in := range inputs {
			got, err := CoerceValue(typ, isList, in)
			if in == nil {
				if err == nil || CheckValue(typ, isList, in) != nil {
					t.Fatalf("null %q value: CoerceValue error %v, CheckValue error %v", typ, err, CheckValue(typ, isList, in))
				}
				continue
			}
			checkErr := CheckValue(typ, isList, in)
			if (err == nil) != (checkErr == nil) {
				t.Fatalf("CoerceValue and CheckValue disagree on %q %v %#v: %v / %v", typ, isList, in, err, checkErr)
			}
			if err != nil {
				if got != nil {
					t.Fatalf("CoerceValue(%q, %v, %#v) returned %#v with error %v", typ, isList, in, got, err)
				}
				if err.Error() == "" || strings.Contains(err.Error(), "\n") {
					t.Fatalf("CoerceValue(%q, %v, %#v) gave a bad message %q", typ, isList, in, err.Error())
				}
				continue
			}
			again, err := CoerceValue(typ, isList, in)
			if err != nil {
				t.Fatalf("second CoerceValue(%q, %v, %#v) failed: %v", typ, isList, in, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("CoerceValue(%q, %v, %#v) is not deterministic:\n%s", typ, isList, in, diff)
			}
			_ = InOptions(got, []any{in, got})
		}
	})
}
