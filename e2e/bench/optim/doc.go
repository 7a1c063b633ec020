// Command optim measures how well the matrix searches that learn from
// their results optimise: on the Branin function (x1 ∈ [-5, 10],
// x2 ∈ [0, 15], minimum 0.397887) and the six-dimensional Hartmann
// function (on [0, 1]^6, minimum -3.32237), it runs random search, bayes
// (Gaussian-process Bayesian optimisation: -init random runs, then one
// suggestion per iteration) and hyperopt's tpe (one trial per iteration)
// for -evals evaluations, once per seed 0 .. -seeds-1, and prints, per
// function and search, the median over the seeds of the best value found
// and of its regret (best - minimum), the best and worst regret, and the
// time a whole run took.
//
// Each search is driven as the engine drives it, one trial at a time: ask
// Next with limit 1, evaluate the trial, give back its result as done and
// succeeded with the value as the metric (minimised). A search whose
// matrix.New fails (not run by this engine yet) is printed as not
// available.
//
// It also prints how long bayes takes to suggest one point once it has
// -obs observations (random points of each function), the cost of a
// suggestion late in a long sweep, with the runtime limited to -procs
// processors (1 by default: one core).
//
//	go run ./e2e/bench/optim
//	go run ./e2e/bench/optim -seeds 5 -evals 30
package main
