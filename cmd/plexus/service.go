package main

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/engine/store"
)

// newServiceCmd is `plexus ops service UUID`: how to reach a service run.
func newServiceCmd(o *opsOptions, reader func() (history, func(), error)) *cobra.Command {
	return &cobra.Command{
		Use:   "service UUID",
		Short: "Say how to reach a service run (a notebook, a tensorboard): its URL, or a port-forward command",
		Long: `Service says how to reach a running service. On the local executor a
service listens on a free port of 127.0.0.1, and service prints its URL. On
Kubernetes it is a Deployment behind a Service: service prints the
kubectl port-forward command that brings it to this machine, the URL it is
then at, and its address inside the cluster. -o json or yaml prints the
same as a record: url, namespace, name, ports and path.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
			r, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if r.Service == nil {
				return fmt.Errorf("run %s (%s) has no service to reach: it is not a service with ports, or is not scheduled yet", r.UUID, r.Status)
			}
			if o.output != "table" {
				return printValue(cmd.OutOrStdout(), o.output, r.Service)
			}
			return printService(cmd.OutOrStdout(), r)
		},
	}
}

// printService says how to reach a service run.
func printService(w io.Writer, r *store.Run) error {
	s := r.Service
	switch {
	case r.Status.Final():
		fmt.Fprintf(w, "run %s is %s: its service is gone\n", r.UUID, r.Status)
	case r.Status != store.Running:
		fmt.Fprintf(w, "run %s is %s: its service does not answer yet\n", r.UUID, r.Status)
	}
	if s.URL != "" {
		fmt.Fprintln(w, s.URL)
		return nil
	}
	if len(s.Ports) == 0 {
		return fmt.Errorf("run %s's service has no ports", r.UUID)
	}
	port := strconv.Itoa(s.Ports[0])
	local := port
	if s.Ports[0] < 1024 {
		local = strconv.Itoa(8000 + s.Ports[0]) // a port below 1024 needs root here
	}
	fmt.Fprintf(w, "service %s in namespace %s, port %s\n", s.Name, s.Namespace, port)
	fmt.Fprintf(w, "from this machine:\n  kubectl port-forward -n %s service/%s %s:%s\n  then http://%s%s\n",
		s.Namespace, s.Name, local, port, net.JoinHostPort("127.0.0.1", local), s.Path)
	fmt.Fprintf(w, "inside the cluster:\n  http://%s.%s.svc:%s%s\n", s.Name, s.Namespace, port, s.Path)
	return nil
}

// announceService says once per attempt, when a service run answers, how
// to reach it; announced is the last attempt it said so for, and it
// returns the new one.
func announceService(out *console, r *store.Run, announced int) int {
	if r.Service == nil || r.Status != store.Running || r.Attempt <= announced {
		return announced
	}
	if r.Service.URL != "" {
		out.statusf("service %s answers at %s\n", r.UUID, r.Service.URL)
	} else {
		out.statusf("service %s runs: plexus ops service %s says how to reach it\n", r.UUID, r.UUID)
	}
	return r.Attempt
}
