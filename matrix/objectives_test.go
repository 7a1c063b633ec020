package matrix

import "math"

// branin is the Branin-Hoo function on x1 ∈ [-5, 10], x2 ∈ [0, 15]: three
// global minima of braninMin.
func branin(x []float64) float64 {
	x1, x2 := x[0], x[1]
	const (
		a = 1.0
		r = 6.0
		s = 10.0
	)
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - r
	return a*u*u + s*(1-t)*math.Cos(x1) + s
}

// braninMin is the minimum of branin.
const braninMin = 0.397887

// hartmann6 is the six-dimensional Hartmann function on [0, 1]^6: one
// global minimum of hartmann6Min, and five more local minima.
func hartmann6(x []float64) float64 {
	alpha := [4]float64{1.0, 1.2, 3.0, 3.2}
	a := [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	p := [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
	sum := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 6 {
			t := x[j] - p[i][j]*1e-4
			e += a[i][j] * t * t
		}
		sum += alpha[i] * math.Exp(-e)
	}
	return -sum
}

// hartmann6Min is the minimum of hartmann6.
const hartmann6Min = -3.32237
