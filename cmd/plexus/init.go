package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/executor/inits"
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
