package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/executor/inits"
	"github.com/plexus-ml/plexus/executor/local"
)

func newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Perform a run's built-in init step (in the run's init container)",
		Long: `Init performs the init entry in PLEXUS_INIT_SPEC (a file, a Dockerfile, a git
clone, paths copied from a mounted connection) under PLEXUS_CONTEXT_PATH. The
compiler's lowering runs it in an init container; it is not meant to be run
by hand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			step, err := inits.FromEnv(os.Getenv)
			if err != nil {
				return err
			}
			step.Log = cmd.ErrOrStderr()
			return step.Run(cmd.Context())
		},
	}
}

func newLocalAttemptCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "local-attempt PLAN",
		Short:  "Run what is left of a local attempt a stopped server handed over",
		Hidden: true,
		Long: `Local-attempt runs the steps of a local run's attempt that a plexus server,
stopped during the attempt's init steps, handed over in PLAN (the run's
attempt-N.plan.json): the init steps from the interrupted one, then the main
process, recorded for the next server to follow. The local executor starts
it; it is not meant to be run by hand.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return local.Supervise(args[0]) },
	}
}
