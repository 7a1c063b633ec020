package matrix

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// This file is bayes' surrogate model: a Gaussian process regression on
// inputs scaled to [0, 1]^d and standardised outputs.
//
// The prior is a zero-mean process with covariance s² (c(x, x') + g·δ),
// where c is a stationary correlation (RBF, or Matérn of smoothness nu
// 1/2, 3/2 or 5/2) of the distance scaled per dimension by a length scale,
// g the noise as a share of the signal variance, and s² the signal
// variance. s² has a closed form given the rest (the profile likelihood),
// so only the length scales and g are fitted, by maximising the log
// marginal likelihood:
//
//   - a grid over one length scale shared by every dimension (from 0.02 to
//     5, and the configured lengthScale) and a few noise levels finds the
//     region of the optimum, which a likelihood with several modes hides
//     from a local method;
//   - L-BFGS (gonum/optimize, analytic gradient) then moves each dimension's
//     length scale and the noise from there, and from numRestartsOptimizer
//     random points more, within [0.01, 10] and [1e-6, 0.5] (a quadratic
//     wall outside);
//   - past gpFitPoints observations, the likelihood is that of a random
//     subset of that many: the fit stays cheap whatever the history, and
//     the posterior still uses every observation.

const (
	// gpFitPoints bounds the observations the hyperparameters are fitted
	// on.
	gpFitPoints = 150
	// gpMinNoise is the least noise: the jitter that keeps the covariance
	// positive definite.
	gpMinNoise = 1e-6
	gpMaxNoise = 0.5
	gpMinScale = 0.01
	gpMaxScale = 10
)

// gpKernel is a stationary correlation function of the scaled distance r.
type gpKernel struct {
	matern bool
	nu     float64 // 0.5, 1.5 or 2.5 when matern
}

// corr is the correlation at scaled distance r.
func (k gpKernel) corr(r float64) float64 {
	if !k.matern {
		return math.Exp(-r * r / 2)
	}
	switch k.nu {
	case 0.5:
		return math.Exp(-r)
	case 1.5:
		a := math.Sqrt(3) * r
		return (1 + a) * math.Exp(-a)
	default:
		a := math.Sqrt(5) * r
		return (1 + a + a*a/3) * math.Exp(-a)
	}
}

// slope is -c'(r)/r, what the derivative of the correlation with respect
// to a log length scale is made of: dc/dlog(l_k) = slope(r)·(Δ_k/l_k)².
func (k gpKernel) slope(r float64) float64 {
	if !k.matern {
		return math.Exp(-r * r / 2)
	}
	switch k.nu {
	case 0.5:
		if r == 0 {
			return 0
		}
		return math.Exp(-r) / r
	case 1.5:
		return 3 * math.Exp(-math.Sqrt(3)*r)
	default:
		a := math.Sqrt(5) * r
		return 5.0 / 3 * (1 + a) * math.Exp(-a)
	}
}

// gp is a fitted Gaussian process: the posterior given every observation.
type gp struct {
	kernel gpKernel
	n, d   int
	// xs are the observations' inputs divided by their dimension's length
	// scale (row-major, n×d); inv are the inverse length scales.
	xs  []float64
	inv []float64
	// scales are the length scales, noise the noise share g.
	scales []float64
	noise  float64
	// sig2 is the signal variance s², in standardised units.
	sig2 float64
	// l is the lower Cholesky factor of C + gI (row-major, so that a
	// solve runs along rows), alpha (C + gI)⁻¹y.
	l     blas64.Triangular
	alpha []float64
	// yMean and yStd standardise the outputs; best is the largest
	// standardised output observed.
	yMean, yStd, best float64
}

// fitGP fits a process to inputs x (each in [0, 1]^d) and outputs y, to
// be maximised. r drives the fit's random choices (subset, restarts).
func fitGP(x [][]float64, y []float64, kernel gpKernel, lengthScale float64, restarts int, r *rand.Rand) (*gp, error) {
	n := len(x)
	if n == 0 || n != len(y) {
		return nil, errors.New("no observations to fit")
	}
	d := len(x[0])
	mean := floats.Sum(y) / float64(n)
	std := 0.0
	for _, v := range y {
		std += (v - mean) * (v - mean)
	}
	std = math.Sqrt(std / float64(n))
	if !(std > 1e-12*math.Max(1, math.Abs(mean))) {
		std = 1
	}
	ys := make([]float64, n)
	for i, v := range y {
		ys[i] = (v - mean) / std
	}

	theta := make([]float64, d+1)
	for k := range d {
		theta[k] = math.Log(clamp(lengthScale, gpMinScale, gpMaxScale))
	}
	theta[d] = math.Log(gpMinNoise)
	if n >= 3 {
		theta = fitHyper(x, ys, kernel, lengthScale, restarts, r)
	}

	g := &gp{kernel: kernel, n: n, d: d, yMean: mean, yStd: std, best: math.Inf(-1)}
	for _, v := range ys {
		g.best = math.Max(g.best, v)
	}
	g.scales = make([]float64, d)
	g.inv = make([]float64, d)
	for k := range d {
		g.scales[k] = math.Exp(theta[k])
		g.inv[k] = 1 / g.scales[k]
	}
	g.xs = make([]float64, n*d)
	for i, xi := range x {
		for k, v := range xi {
			g.xs[i*d+k] = v * g.inv[k]
		}
	}
	// Factorise C + gI, raising the noise when rounding makes it
	// indefinite (near duplicates under a smooth kernel).
	var chol mat.Cholesky
	noise := math.Exp(theta[d])
	for {
		if chol.Factorize(g.corrMatrix(noise)) {
			break
		}
		if noise >= gpMaxNoise {
			return nil, errors.New("the covariance of the observations is not positive definite")
		}
		noise = math.Min(noise*10, gpMaxNoise)
	}
	g.noise = noise
	alpha := mat.NewVecDense(n, nil)
	if err := chol.SolveVecTo(alpha, mat.NewVecDense(n, ys)); err != nil && !isCondWarning(err) {
		return nil, err
	}
	g.alpha = alpha.RawVector().Data
	g.sig2 = math.Max(floats.Dot(ys, g.alpha)/float64(n), 1e-6)
	var l mat.TriDense
	chol.LTo(&l)
	g.l = l.RawTriangular()
	return g, nil
}

func isCondWarning(err error) bool {
	var c mat.Condition
	return errors.As(err, &c)
}

// corrMatrix is C + noise·I over the (scaled) observations.
func (g *gp) corrMatrix(noise float64) *mat.SymDense {
	n, d := g.n, g.d
	a := mat.NewSymDense(n, nil)
	raw := a.RawSymmetric()
	for i := range n {
		xi := g.xs[i*d : i*d+d]
		raw.Data[i*raw.Stride+i] = 1 + noise
		for j := i + 1; j < n; j++ {
			raw.Data[i*raw.Stride+j] = g.kernel.corr(math.Sqrt(sqDist(xi, g.xs[j*d:j*d+d])))
		}
	}
	return a
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for k, v := range a {
		t := v - b[k]
		s += t * t
	}
	return s
}

// cross fills c with the correlations of point x (in [0, 1]^d) with each
// observation and returns the largest.
func (g *gp) cross(x []float64, xsc []float64, c []float64) float64 {
	d := g.d
	for k, v := range x {
		xsc[k] = v * g.inv[k]
	}
	cmax := 0.0
	for i := range g.n {
		c[i] = g.kernel.corr(math.Sqrt(sqDist(xsc, g.xs[i*d:i*d+d])))
		cmax = math.Max(cmax, c[i])
	}
	return cmax
}

// mean is the posterior mean (standardised) given the correlations c.
func (g *gp) mean(c []float64) float64 { return floats.Dot(c, g.alpha) }

// sd is the posterior standard deviation of the latent function
// (standardised) given the correlations c; it overwrites c.
func (g *gp) sd(c []float64) float64 {
	// v = L⁻¹c, by forward substitution along the rows of L (the
	// unrolled dot product is what makes it fast): the variance is
	// s²(1 - |v|²).
	l, st := g.l.Data, g.l.Stride
	for i := range c {
		row := l[i*st : i*st+i+1]
		c[i] = (c[i] - floats.Dot(row[:i], c[:i])) / row[i]
	}
	return math.Sqrt(g.sig2 * math.Max(1-floats.Dot(c, c), 1e-12))
}

// predictGrad is the posterior mean and deviation at x (standardised)
// with their gradients with respect to x, in dmu and dsd. c, w and slope
// are work space of n values.
func (g *gp) predictGrad(x, xsc, c, w, slope, dmu, dsd []float64) (mu, sd float64) {
	n, d := g.n, g.d
	for k, v := range x {
		xsc[k] = v * g.inv[k]
	}
	for i := range n {
		r := math.Sqrt(sqDist(xsc, g.xs[i*d:i*d+d]))
		c[i] = g.kernel.corr(r)
		slope[i] = g.kernel.slope(r)
	}
	mu = floats.Dot(c, g.alpha)
	// v = L⁻¹c (in c), then w = L⁻ᵀv by backward substitution, the
	// columns of Lᵀ being the rows of L.
	l, st := g.l.Data, g.l.Stride
	for i := range c {
		row := l[i*st : i*st+i+1]
		c[i] = (c[i] - floats.Dot(row[:i], c[:i])) / row[i]
	}
	v2 := floats.Dot(c, c)
	sd = math.Sqrt(g.sig2 * math.Max(1-v2, 1e-12))
	copy(w, c)
	for i := n - 1; i >= 0; i-- {
		row := l[i*st : i*st+i+1]
		w[i] /= row[i]
		floats.AddScaled(w[:i], -w[i], row[:i])
	}
	// dc_i/dx_k = -slope_i·(x_k - x_ik)/l_k²; dσ = -s²·wᵀdc/σ.
	for k := range d {
		dmu[k], dsd[k] = 0, 0
	}
	for i := range n {
		xi := g.xs[i*d : i*d+d]
		a, b := g.alpha[i]*slope[i], w[i]*slope[i]
		for k := range d {
			t := (xsc[k] - xi[k]) * g.inv[k]
			dmu[k] -= a * t
			dsd[k] -= b * t
		}
	}
	for k := range d {
		if v2 < 1-1e-12 {
			dsd[k] *= -g.sig2 / sd
		} else {
			dsd[k] = 0
		}
	}
	return mu, sd
}

// sdBound bounds sd from above from the largest correlation with an
// observation: conditioning on that observation alone leaves at least as
// much variance as conditioning on all of them.
func (g *gp) sdBound(cmax float64) float64 {
	return math.Sqrt(g.sig2 * math.Max(1-cmax*cmax/(1+g.noise), 1e-12))
}

// fitHyper returns the log length scales and log noise that maximise the
// (profile) log marginal likelihood of standardised outputs y.
func fitHyper(x [][]float64, y []float64, kernel gpKernel, lengthScale float64, restarts int, r *rand.Rand) []float64 {
	n, d := len(x), len(x[0])
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n > gpFitPoints {
		idx = r.Perm(n)[:gpFitPoints]
	}
	lk := &likelihood{kernel: kernel, d: d, m: len(idx)}
	lk.x = make([]float64, lk.m*d)
	lk.y = make([]float64, lk.m)
	for a, i := range idx {
		copy(lk.x[a*d:], x[i])
		lk.y[a] = y[i]
	}
	// Centre the subset for the zero-mean prior (its scale does not
	// matter: the signal variance is profiled out).
	mean := floats.Sum(lk.y) / float64(lk.m)
	floats.AddConst(-mean, lk.y)

	// Grid over a shared length scale and the noise.
	best, bestTheta := math.Inf(1), make([]float64, d+1)
	theta := make([]float64, d+1)
	scales := []float64{clamp(lengthScale, gpMinScale, gpMaxScale)}
	for i := range 12 {
		scales = append(scales, 0.02*math.Pow(250, float64(i)/11))
	}
	for _, l := range scales {
		for _, g := range []float64{gpMinNoise, 1e-4, 1e-2, 1e-1} {
			for k := range d {
				theta[k] = math.Log(l)
			}
			theta[d] = math.Log(g)
			if f := lk.value(theta); f < best {
				best = f
				copy(bestTheta, theta)
			}
		}
	}
	// Local refinement, per dimension, from the best grid point and from
	// random ones.
	starts := [][]float64{bestTheta}
	for range restarts {
		s := make([]float64, d+1)
		for k := range d {
			s[k] = math.Log(gpMinScale) + r.Float64()*(math.Log(gpMaxScale)-math.Log(gpMinScale))
		}
		s[d] = math.Log(gpMinNoise) + r.Float64()*(math.Log(gpMaxNoise)-math.Log(gpMinNoise))
		starts = append(starts, s)
	}
	p := optimize.Problem{
		Func: lk.value,
		Grad: func(grad, theta []float64) { lk.gradient(grad, theta) },
	}
	for _, s := range starts {
		res, err := optimize.Minimize(p, s, &optimize.Settings{
			MajorIterations: 40,
			FuncEvaluations: 80,
			Converger:       &optimize.FunctionConverge{Absolute: 1e-4, Iterations: 3},
		}, &optimize.LBFGS{})
		if res == nil || (err != nil && res.F >= best) {
			continue
		}
		if res.F < best && !math.IsNaN(res.F) {
			best = res.F
			copy(bestTheta, res.X)
		}
	}
	for k := range d {
		bestTheta[k] = clamp(bestTheta[k], math.Log(gpMinScale), math.Log(gpMaxScale))
	}
	bestTheta[d] = clamp(bestTheta[d], math.Log(gpMinNoise), math.Log(gpMaxNoise))
	return bestTheta
}

// likelihood is the negative profile log marginal likelihood of a set of
// observations, as a function of the log length scales and log noise,
// with a quadratic wall outside the bounds.
type likelihood struct {
	kernel gpKernel
	d, m   int
	x, y   []float64
	// The factorisation of the last point evaluated, reused by gradient:
	// the upper Cholesky factor u, its log determinant, α = A⁻¹y and
	// q = yᵀα.
	last   []float64
	u      blas64.Triangular
	logDet float64
	alpha  []float64
	q      float64
	ok     bool
}

const wallWeight = 100

func wall(v, lo, hi float64) (pen, grad float64) {
	switch {
	case v < lo:
		return wallWeight * (lo - v) * (lo - v), -2 * wallWeight * (lo - v)
	case v > hi:
		return wallWeight * (v - hi) * (v - hi), 2 * wallWeight * (v - hi)
	}
	return 0, 0
}

// factor factorises the covariance at theta (clamped to the bounds).
func (l *likelihood) factor(theta []float64) {
	if l.last != nil && floats.Equal(l.last, theta) {
		return
	}
	l.last = append(l.last[:0], theta...)
	d, m := l.d, l.m
	a := blas64.Symmetric{Uplo: blas.Upper, N: m, Stride: m, Data: make([]float64, m*m)}
	inv := l.inv(theta)
	noise := math.Exp(clamp(theta[d], math.Log(gpMinNoise), math.Log(gpMaxNoise)))
	for i := range m {
		a.Data[i*m+i] = 1 + noise
		for j := i + 1; j < m; j++ {
			a.Data[i*m+j] = l.kernel.corr(math.Sqrt(l.scaledSqDist(i, j, inv)))
		}
	}
	// lapack64 directly: mat.Cholesky would also estimate the condition
	// number, which costs as much as the factorisation at this size.
	l.u, l.ok = lapack64.Potrf(a)
	if !l.ok {
		return
	}
	l.logDet = 0
	for i := range m {
		l.logDet += 2 * math.Log(l.u.Data[i*m+i])
	}
	l.alpha = slices.Clone(l.y)
	lapack64.Potrs(l.u, blas64.General{Rows: m, Cols: 1, Stride: 1, Data: l.alpha})
	l.q = floats.Dot(l.y, l.alpha)
	if !(l.q > 0) || math.IsNaN(l.logDet) {
		l.ok = false
	}
}

func (l *likelihood) inv(theta []float64) []float64 {
	inv := make([]float64, l.d)
	for k := range inv {
		inv[k] = math.Exp(-clamp(theta[k], math.Log(gpMinScale), math.Log(gpMaxScale)))
	}
	return inv
}

func (l *likelihood) scaledSqDist(i, j int, inv []float64) float64 {
	d := l.d
	s := 0.0
	for k := range d {
		t := (l.x[i*d+k] - l.x[j*d+k]) * inv[k]
		s += t * t
	}
	return s
}

func (l *likelihood) penalty(theta []float64, grad []float64) float64 {
	pen := 0.0
	for k, v := range theta {
		lo, hi := math.Log(gpMinScale), math.Log(gpMaxScale)
		if k == l.d {
			lo, hi = math.Log(gpMinNoise), math.Log(gpMaxNoise)
		}
		p, g := wall(v, lo, hi)
		pen += p
		if grad != nil {
			grad[k] += g
		}
	}
	return pen
}

func (l *likelihood) value(theta []float64) float64 {
	l.factor(theta)
	if !l.ok {
		return math.Inf(1)
	}
	m := float64(l.m)
	return m/2*math.Log(l.q/m) + l.logDet/2 + l.penalty(theta, nil)
}

func (l *likelihood) gradient(grad, theta []float64) {
	for k := range grad {
		grad[k] = 0
	}
	l.factor(theta)
	if !l.ok {
		return
	}
	d, m := l.d, l.m
	// A⁻¹, in the upper triangle of a copy of u.
	raw := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: m, Stride: m, Data: slices.Clone(l.u.Data)}
	if _, ok := lapack64.Potri(raw); !ok {
		return
	}
	// dLML/dθ = ½ tr(W dA/dθ), W = (m/q) α αᵀ - A⁻¹; the value is -LML.
	w := float64(m) / l.q
	inv := l.inv(theta)
	noise := math.Exp(clamp(theta[d], math.Log(gpMinNoise), math.Log(gpMaxNoise)))
	for i := range m {
		ai := l.alpha[i]
		row := raw.Data[i*raw.Stride:]
		grad[d] -= 0.5 * (w*ai*ai - row[i]) * noise
		for j := i + 1; j < m; j++ {
			wij := w*ai*l.alpha[j] - row[j]
			s := l.kernel.slope(math.Sqrt(l.scaledSqDist(i, j, inv)))
			for k := range d {
				t := (l.x[i*d+k] - l.x[j*d+k]) * inv[k]
				// Both (i, j) and (j, i): the ½ cancels.
				grad[k] -= wij * s * t * t
			}
		}
	}
	// Outside the bounds the likelihood is that at the bound: only the
	// wall's slope remains.
	for k, v := range theta {
		lo, hi := math.Log(gpMinScale), math.Log(gpMaxScale)
		if k == d {
			lo, hi = math.Log(gpMinNoise), math.Log(gpMaxNoise)
		}
		if v < lo || v > hi {
			grad[k] = 0
		}
	}
	l.penalty(theta, grad)
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
