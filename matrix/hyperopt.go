package matrix

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
)

func newHyperopt(at specs.Path, m *specs.HyperoptMatrix, seed int64) (Search, error) {
	return nil, fmt.Errorf("%s: a hyperopt matrix is not run by this engine yet", at.Child("kind"))
}
