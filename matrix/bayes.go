package matrix

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
)

func newBayes(at specs.Path, m *specs.BayesMatrix, seed int64) (Search, error) {
	return nil, fmt.Errorf("%s: a bayes matrix is not run by this engine yet", at.Child("kind"))
}
