package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
)

// Defaults and bounds of `plexus notify`.
const (
	notifyTimeout = 10 * time.Second
	notifyRetries = 3
	// The wait before the first retry, doubled for each one after, up to
	// notifyMaxBackoff.
	notifyBackoff    = time.Second
	notifyMaxBackoff = 30 * time.Second
	// notifyMaxRetryAfter bounds the wait a 429 or 5xx answer asks for
	// with Retry-After.
	notifyMaxRetryAfter = 5 * time.Minute
	// notifyBodyShown is how much of a refusal's body an error shows.
	notifyBodyShown = 200
)

type notifyOptions struct {
	url         string
	method      string
	headers     []string
	fields      []string
	payloadJSON string
	timeout     time.Duration
	retries     int
}

func newNotifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Send a finished run's notification to a webhook or to Slack",
		Long: `Notify sends one notification over HTTP: "webhook" a JSON object, "slack" a
Slack incoming-webhook message. The hub's webhook and slack components, which
hooks run when a run ends, call it with the run as --field flags.

Each --field name=value becomes a key of the JSON sent; a value that reads as
JSON (an object, an array, a number, true, false, null or a quoted string) is
sent as that value, any other as a string, and an empty value leaves the field
out. Network errors, 429 and 5xx answers are retried with an exponential
back-off (or after the Retry-After the server asks for); any 2xx is success;
another answer fails at once. Errors name the URL without its user info and
query (and, for Slack, without the secret part of its path), and header values
are never printed.`,
	}
	cmd.AddCommand(newNotifyWebhookCmd(), newNotifySlackCmd())
	return cmd
}

func newNotifyWebhookCmd() *cobra.Command {
	var o notifyOptions
	cmd := &cobra.Command{
		Use:   "webhook --url URL [--method POST] [--header 'Name: value']... [--field name=value]... [--payload-json '{...}']",
		Short: "Send a JSON object: --payload-json with each --field set in it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNotifyWebhook(cmd, o)
		},
	}
	addNotifyFlags(cmd, &o)
	f := cmd.Flags()
	f.StringVar(&o.method, "method", http.MethodPost, "the HTTP method")
	f.StringArrayVar(&o.headers, "header", nil, `a request header as "Name: value" (repeatable; values are never printed)`)
	return cmd
}

func newNotifySlackCmd() *cobra.Command {
	var o notifyOptions
	cmd := &cobra.Command{
		Use:   "slack --url WEBHOOK_URL [--field name=value]... [--payload-json '{...}']",
		Short: "Post a message about a finished run to a Slack incoming webhook",
		Long: `Slack posts {"text": ...} to an incoming webhook. The text is built from the
fields name, uuid, status, duration (seconds), project, kind, condition (the
last condition's message) and outputs (an object, shown as name=value lines),
whichever are given; other fields are not shown. --payload-json gives the rest
of the message (channel, username, icon_emoji, attachments, blocks); its own
"text", if any, is kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNotifySlack(cmd, o)
		},
	}
	addNotifyFlags(cmd, &o)
	return cmd
}

func addNotifyFlags(cmd *cobra.Command, o *notifyOptions) {
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "the http or https URL to send to")
	f.StringArrayVar(&o.fields, "field", nil, "a field as name=value; a value that reads as JSON is sent as that value (repeatable)")
	f.StringVar(&o.payloadJSON, "payload-json", "", "a JSON object the fields are set in")
	f.DurationVar(&o.timeout, "timeout", notifyTimeout, "how long each attempt may take")
	f.IntVar(&o.retries, "retries", notifyRetries, "how many times to retry after a network error, a 429 or a 5xx")
	_ = cmd.MarkFlagRequired("url")
}

func runNotifyWebhook(cmd *cobra.Command, o notifyOptions) error {
	target, err := parseNotifyURL(o.url)
	if err != nil {
		return err
	}
	method := strings.ToUpper(strings.TrimSpace(o.method))
	if !isToken(method) {
		return fmt.Errorf("--method %q is not an HTTP method", o.method)
	}
	header, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	payload, err := notifyPayload(o)
	if err != nil {
		return err
	}
	return notify(cmd, o, delivery{method: method, url: target.String(), shown: redactURL(target, true), header: header}, payload)
}

func runNotifySlack(cmd *cobra.Command, o notifyOptions) error {
	target, err := parseNotifyURL(o.url)
	if err != nil {
		return err
	}
	base, err := parsePayloadJSON(o.payloadJSON)
	if err != nil {
		return err
	}
	fields, err := parseFields(o.fields)
	if err != nil {
		return err
	}
	if _, ok := base["text"]; !ok {
		base["text"] = slackText(fields)
	}
	return notify(cmd, o, delivery{method: http.MethodPost, url: target.String(), shown: redactURL(target, false), header: http.Header{}}, base)
}

// notify sends payload as JSON and prints one line when it is accepted.
func notify(cmd *cobra.Command, o notifyOptions, d delivery, payload map[string]any) error {
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	if o.retries < 0 {
		return fmt.Errorf("--retries must be 0 or more, got %d", o.retries)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding the payload: %w", err)
	}
	d.body = body
	if d.header.Get("Content-Type") == "" {
		d.header.Set("Content-Type", "application/json")
	}
	if d.header.Get("User-Agent") == "" {
		d.header.Set("User-Agent", "plexus/"+version)
	}
	n := &notifier{
		client:        newNotifyClient(o.timeout),
		retries:       o.retries,
		backoff:       notifyBackoff,
		maxBackoff:    notifyMaxBackoff,
		maxRetryAfter: notifyMaxRetryAfter,
		sleep:         sleepContext,
		log:           cmd.ErrOrStderr(),
	}
	status, err := n.send(cmd.Context(), d)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "notified %s: %s\n", d.shown, status)
	return nil
}

// newNotifyClient is the HTTP client of a notifier: each attempt ends
// after timeout, and redirects are not followed but fail, as any answer
// other than 2xx does: following one would turn a POST into a GET without
// its body, which a server may well accept.
func newNotifyClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// parseNotifyURL reads --url: an absolute http or https URL. Its errors
// show it redacted, if at all: it may hold a secret.
func parseNotifyURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("--url is not a URL: %w", err)
	}
	if u.Scheme == "" {
		return nil, errors.New("--url must be an http or https URL, starting with http:// or https://")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url must be an http or https URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--url %s has no host", redactURL(u, true))
	}
	return u, nil
}

// redactURL is u as errors and logs show it: without its user info and
// query, which may hold secrets, nor its fragment. Without keepPath only
// the path's first segment is kept: a Slack webhook's path is its secret.
func redactURL(u *url.URL, keepPath bool) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host}
	if u.User != nil {
		r.User = url.User("REDACTED")
	}
	switch {
	case keepPath:
		r.Path, r.RawPath = u.Path, u.RawPath
	case strings.Trim(u.Path, "/") != "":
		first, _, more := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		r.Path = "/" + first
		if more {
			r.Path += "/REDACTED"
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		r.RawQuery = "REDACTED"
	}
	return r.String()
}

// parseHeaders reads --header flags ("Name: value"). Its errors name a
// header by its position, never by its value.
func parseHeaders(flags []string) (http.Header, error) {
	h := http.Header{}
	for i, f := range flags {
		name, value, ok := strings.Cut(f, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !isToken(name) {
			return nil, fmt.Errorf(`--header number %d is not "Name: value"`, i+1)
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }) {
			return nil, fmt.Errorf("--header %s: the value holds a control character", name)
		}
		h.Add(name, value)
	}
	return h, nil
}

// isToken says whether s is an HTTP token (RFC 9110 §5.6.2), as a method
// or a header name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// notifyPayload is the webhook's body: --payload-json with the fields set
// in it.
func notifyPayload(o notifyOptions) (map[string]any, error) {
	payload, err := parsePayloadJSON(o.payloadJSON)
	if err != nil {
		return nil, err
	}
	fields, err := parseFields(o.fields)
	if err != nil {
		return nil, err
	}
	for k, v := range fields {
		payload[k] = v
	}
	return payload, nil
}

// parsePayloadJSON reads --payload-json: a JSON object, or nothing.
func parsePayloadJSON(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]any{}, nil
	}
	v, ok := readJSON(s)
	if !ok {
		return nil, errors.New("--payload-json is not valid JSON")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("--payload-json must be a JSON object")
	}
	return m, nil
}

// parseFields reads --field flags (name=value). A value that reads as
// JSON is kept as that value, any other is a string; an empty value leaves
// the field out, so that a template can leave out a param that is absent.
func parseFields(flags []string) (map[string]any, error) {
	fields := map[string]any{}
	seen := map[string]bool{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("--field %q: expected name=value", f)
		}
		if seen[name] {
			return nil, fmt.Errorf("--field %s is given twice", name)
		}
		seen[name] = true
		if value == "" {
			continue
		}
		if v, ok := readJSON(value); ok {
			fields[name] = v
		} else {
			fields[name] = value
		}
	}
	return fields, nil
}

// readJSON decodes s when it is one JSON value, keeping numbers as
// written.
func readJSON(s string) (any, bool) {
	if !json.Valid([]byte(s)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// slackText is the message about a finished run: a line with its name,
// uuid, status and duration, one with its project and kind, the last
// condition's message, then its outputs as name=value lines. Slack's
// control characters (&, <, >) are escaped.
func slackText(fields map[string]any) string {
	str := func(name string) string {
		switch v := fields[name].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return jsonText(v)
		}
	}
	var lines []string
	head := "Run"
	name, uuid := str("name"), str("uuid")
	switch {
	case name != "" && uuid != "":
		head += " " + name + " (" + uuid + ")"
	case name != "" || uuid != "":
		head += " " + name + uuid
	}
	status, during := str("status"), " in "
	switch status {
	case "":
		status = "finished"
	case "stopped":
		status, during = "was stopped", " after "
	case "skipped":
		status, during = "was skipped", ""
	case "upstream_failed":
		status, during = "was not run: an upstream failed", ""
	}
	head += " " + status
	if d, ok := secondsText(fields["duration"]); ok && during != "" {
		head += during + d
	}
	lines = append(lines, head)
	var about []string
	for _, name := range []string{"project", "kind"} {
		if v := str(name); v != "" {
			about = append(about, name+": "+v)
		}
	}
	if len(about) > 0 {
		lines = append(lines, strings.Join(about, ", "))
	}
	if c := str("condition"); c != "" {
		lines = append(lines, c)
	}
	if outputs, ok := fields["outputs"].(map[string]any); ok {
		keys := make([]string, 0, len(outputs))
		for k := range outputs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v, ok := outputs[k].(string)
			if !ok {
				v = jsonText(outputs[k])
			}
			lines = append(lines, k+"="+v)
		}
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(strings.Join(lines, "\n"))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// secondsText shows a duration given in seconds: to the second from one
// second on ("1m5s"), to the millisecond below.
func secondsText(v any) (string, bool) {
	var s float64
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		s = f
	case float64:
		s = x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return "", false
		}
		s = f
	default:
		return "", false
	}
	if s < 0 || s > float64(1<<62)/float64(time.Second) {
		return "", false
	}
	d := time.Duration(s * float64(time.Second))
	if d >= time.Second {
		return d.Round(time.Second).String(), true
	}
	return d.Round(time.Millisecond).String(), true
}

// delivery is one notification to send.
type delivery struct {
	method string
	url    string // the URL to send to
	shown  string // the URL as errors and logs show it
	header http.Header
	body   []byte
}

// notifier sends deliveries, retrying network errors, 429 and 5xx
// answers with a capped exponential back-off.
type notifier struct {
	client        *http.Client // its Timeout bounds each attempt
	retries       int
	backoff       time.Duration // before the first retry; doubled for each one after
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
	log           io.Writer // where retries are told
}

// statusError is an answer other than 2xx.
type statusError struct {
	URL    string // as shown: redacted
	Status string // such as "404 Not Found"
	Code   int
	Body   string // the start of the answer's body, made printable
}

func (e *statusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("notifying %s: %s", e.URL, e.Status)
	}
	return fmt.Sprintf("notifying %s: %s: %s", e.URL, e.Status, e.Body)
}

// attemptError is why an attempt failed, and whether to try again.
type attemptError struct {
	err   error
	retry bool
	// after is the wait the server asked for with Retry-After (at most
	// the notifier's maxRetryAfter), if hasAfter.
	after    time.Duration
	hasAfter bool
}

// send delivers d and returns the status of the answer that accepted it.
func (n *notifier) send(ctx context.Context, d delivery) (string, error) {
	for i := 0; ; i++ {
		status, fail := n.attempt(ctx, d)
		if fail == nil {
			return status, nil
		}
		if !fail.retry || i >= n.retries || ctx.Err() != nil {
			if i > 0 {
				return "", fmt.Errorf("%w (gave up after %d attempts)", fail.err, i+1)
			}
			return "", fail.err
		}
		wait := n.maxBackoff
		if i < 30 {
			wait = min(n.backoff<<i, n.maxBackoff)
		}
		if fail.hasAfter {
			wait = fail.after
		}
		fmt.Fprintf(n.log, "%v; retrying in %s (attempt %d of %d)\n", fail.err, wait, i+2, n.retries+1)
		if err := n.sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("notifying %s: %w", d.shown, err)
		}
	}
}

// attempt sends d once.
func (n *notifier) attempt(ctx context.Context, d delivery) (string, *attemptError) {
	req, err := http.NewRequestWithContext(ctx, d.method, d.url, bytes.NewReader(d.body))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", &attemptError{err: fmt.Errorf("notifying %s: %w", d.shown, err)}
	}
	req.Header = d.header.Clone()
	resp, err := n.client.Do(req)
	if err != nil {
		// url.Error repeats the whole URL: keep only its cause.
		var ue *url.Error
		timeout := false
		if errors.As(err, &ue) {
			err, timeout = ue.Err, ue.Timeout()
		}
		if timeout && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", n.client.Timeout, err)
		}
		return "", &attemptError{err: fmt.Errorf("notifying %s: %w", d.shown, err), retry: ctx.Err() == nil}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, notifyBodyShown))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.Status, nil
	}
	fail := &attemptError{
		err:   &statusError{URL: d.shown, Status: resp.Status, Code: resp.StatusCode, Body: printable(head)},
		retry: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500,
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		fail.after, fail.hasAfter = min(time.Duration(min(s, 1<<30))*time.Second, n.maxRetryAfter), true
	}
	return "", fail
}

// printable is the start of an answer's body as one line of text.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// sleepContext waits for d, or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
