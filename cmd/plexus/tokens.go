package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// loadTokens reads the tokens the server's flags give: --token, the
// `TOKEN USER` lines of --tokens-file (each an admin of every project) and
// the entries of --tokens. Nil, with none of them: the API is open. A token
// given twice is an error naming both places; none names a token.
func loadTokens(o serverOptions) (map[string]api.Identity, error) {
	if o.token == "" && o.tokensFile == "" && o.tokensYAML == "" {
		return nil, nil
	}
	tokens := map[string]api.Identity{}
	from := map[string]string{} // token -> where it was given
	add := func(where, token string, id api.Identity) error {
		if first, dup := from[token]; dup {
			return fmt.Errorf("%s: the same token as %s: each token is one user's", where, first)
		}
		from[token], tokens[token] = where, id
		return nil
	}
	if o.token != "" {
		_ = add("--token", o.token, api.AdminIdentity("admin"))
	}
	var errs []error
	if o.tokensFile != "" {
		lines, err := readTokenLines(o.tokensFile)
		if err != nil {
			return nil, fmt.Errorf("--tokens-file: %w", err)
		}
		for _, l := range lines {
			if err := add(l.where, l.token, api.AdminIdentity(l.user)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if o.tokensYAML != "" {
		entries, err := api.ReadTokens(o.tokensYAML)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
		for _, e := range entries {
			if err := add(e.Where, e.Token, e.Identity); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tokens, nil
}

type tokenLine struct{ where, token, user string }

// readTokenLines reads `TOKEN USER` lines (# starts a comment line).
func readTokenLines(file string) ([]tokenLine, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading tokens: %w", err)
	}
	defer f.Close()
	var out []tokenLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want TOKEN USER", file, n)
		}
		out = append(out, tokenLine{where: fmt.Sprintf("%s:%d", file, n), token: fields[0], user: fields[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the tokens file holds no token", file)
	}
	return out, nil
}

// reloadOnHangup reads the tokens files and the access policy again on
// each SIGHUP until ctx ends: good ones replace those in use at once; an
// error is logged and those in use are kept.
func reloadOnHangup(ctx context.Context, o serverOptions, s *api.Server, eng *engine.Engine) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		if o.policy != "" {
			if policy, err := compiler.ReadPolicy(o.policy); err != nil {
				slog.Error("SIGHUP: the access policy cannot be read; the policy in use is kept", "err", err)
			} else {
				eng.SetPolicy(policy)
				slog.Info("SIGHUP: access policy read again", "rules", len(policy.Rules))
			}
		}
		if o.tokensFile == "" && o.tokensYAML == "" {
			slog.Info("SIGHUP: no tokens file to read again (--tokens, --tokens-file)")
			continue
		}
		tokens, err := loadTokens(o)
		if err != nil {
			slog.Error("SIGHUP: the tokens files cannot be read; the tokens in use are kept", "err", err)
			continue
		}
		s.SetTokens(api.NewTokenSet(tokens))
		slog.Info("SIGHUP: tokens read again", "tokens", len(tokens))
	}
}
