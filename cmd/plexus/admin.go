package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/engine/store"
)

func newAdminCmd() *cobra.Command {
	var etcd store.ClientConfig
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Back up and restore the store",
		Long: `Admin works on the store itself: the etcd of --etcd-endpoints, or with none
the embedded one under $PLEXUS_HOME (while no plexus server or run holds it).`,
	}
	etcdFlags(cmd.PersistentFlags(), &etcd)
	open := func() (*store.Store, func(), error) {
		c, err := etcdConfig(etcd)
		if err != nil {
			return nil, nil, err
		}
		if len(c.Endpoints) > 0 {
			cli, err := store.Connect(c)
			if err != nil {
				return nil, nil, err
			}
			return store.New(cli, "", nil), func() { cli.Close() }, nil
		}
		home, err := plexusHome()
		if err != nil {
			return nil, nil, err
		}
		emb, err := store.StartEmbedded(filepath.Join(home, "etcd"), 10*time.Second)
		if err != nil {
			return nil, nil, err
		}
		cli := emb.Client()
		return store.New(cli, "", nil), func() { cli.Close(); emb.Close() }, nil
	}
	backup := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent snapshot of Plexus's keys to FILE",
		Long: `Backup reads every key of Plexus's keyspace as of one revision (runs,
their indexes, the cache, schedules' and events' state) and writes them to
FILE, which it refuses to overwrite. The leader's election key is left
out: it belongs to a live server. Runs go on meanwhile; a restore takes
them back to where they were at the backup's revision.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			st, done, err := open()
			if err != nil {
				f.Close()
				os.Remove(args[0])
				return err
			}
			defer done()
			h, err := st.Backup(cmd.Context(), f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(args[0])
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %d keys of %s at revision %d to %s\n", h.Keys, h.Prefix, h.Revision, args[0])
			return nil
		},
	}
	restore := &cobra.Command{
		Use:   "restore FILE",
		Short: "Write a backup into an empty store",
		Long: `Restore writes a backup's keys into Plexus's keyspace, which must hold
nothing (a new etcd, or a new $PLEXUS_HOME). A backup that does not read to
its end leaves nothing written. Start a server on it afterwards: it
elects itself and takes every run on from where the backup left it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			defer f.Close()
			st, done, err := open()
			if err != nil {
				return err
			}
			defer done()
			h, err := st.Restore(cmd.Context(), f)
			if errors.Is(err, store.ErrNotEmpty) {
				return fmt.Errorf("%w: restore into a new etcd or $PLEXUS_HOME", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %d keys (backed up from %s at revision %d)\n", h.Keys, h.Prefix, h.Revision)
			return nil
		},
	}
	cmd.AddCommand(backup, restore)
	return cmd
}
