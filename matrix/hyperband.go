package matrix

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
)

func newHyperband(at specs.Path, m *specs.HyperbandMatrix, seed int64) (Search, error) {
	return nil, fmt.Errorf("%s: a hyperband matrix is not run by this engine yet", at.Child("kind"))
}
