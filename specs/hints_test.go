package specs

import (
	"strings"
	"testing"
)

// TestHints pins the hints for mistakes users make often: settings put on
// the wrong section, and other languages' type names.
func TestHints(t *testing.T) {
	cases := map[string]struct {
		yaml, path, hint string
	}{
		"resources on the environment": {
			yaml: "run:\n  environment:\n    resources: {limits: {cpu: 1}}\n  container: {image: a}\n",
			path: "run.environment.resources", hint: "set it under `container.resources`",
		},
		"secrets on the environment": {
			yaml: "run:\n  environment:\n    secrets: [a]\n  container: {image: a}\n",
			path: "run.environment.secrets", hint: "container.envFrom",
		},
		"type string": {
			yaml: "inputs: [{name: a, type: string, isOptional: true}]\nrun: {container: {image: a}}\n",
			path: "inputs[0].type", hint: `did you mean "str"?`,
		},
		"type integer": {
			yaml: "inputs: [{name: a, type: integer, isOptional: true}]\nrun: {container: {image: a}}\n",
			path: "inputs[0].type", hint: `did you mean "int"?`,
		},
		"transposed letters": {
			yaml: "run: {kind: jbo, container: {image: a}}\n",
			path: "run.kind", hint: `did you mean "job"?`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("version: 1.1\nkind: component\n"+tc.yaml))
			list, _ := err.(ErrorList)
			for _, e := range list {
				if string(e.Path) == tc.path && strings.Contains(e.Error(), tc.hint) {
					return
				}
			}
			t.Errorf("no error at %s with %q; got:\n%v", tc.path, tc.hint, err)
		})
	}
}
