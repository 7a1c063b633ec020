package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errSilent reports failure after the command already printed why.
var errSilent = errors.New("failed")

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI with the given arguments and streams and returns the
// process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(stderr, "Error:", err)
		}
		return 1
	}
	return 0
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "plexus",
		Short:         "Run machine-learning work described in Polyaxonfiles on Kubernetes",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newAdminCmd(), newCheckCmd(), newCompileCmd(), newHubCmd(), newInitCmd(), newLocalAttemptCmd(), newNotifyCmd(), newOpsCmd(), newRunCmd(), newSchemaCmd(), newServerCmd())
	return root
}
