package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// auditPolicy records, once answered, every create and delete of Jobs,
// Pods, Deployments and Services, with the object's name but not its body,
// and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
  - level: Metadata
    verbs: [create, delete]
    resources:
      - group: batch
        resources: [jobs]
      - group: apps
        resources: [deployments]
      - group: ""
        resources: [pods, services]
  - level: None
`

// writeAuditPolicy writes auditPolicy into dir and returns the API server
// flags that log by it to AuditLog.
func writeAuditPolicy(dir string) ([]string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return nil, fmt.Errorf("cluster: writing the audit policy: %w", err)
	}
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + filepath.Join(dir, "audit.log"),
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--audit-log-maxsize=0",
	}, nil
}

// AuditEvent is one line of the API server's audit log: a create or
// delete of a Job, Pod, Deployment or Service, and its answer.
type AuditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef struct {
		Resource  string `json:"resource"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		APIGroup  string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp  time.Time `json:"stageTimestamp"`
}

// Succeeded says whether the request did what it asked (a 2xx answer).
func (e AuditEvent) Succeeded() bool {
	return e.ResponseStatus.Code >= 200 && e.ResponseStatus.Code < 300
}

// AuditLog is the path of the API server's audit log, "" unless the
// cluster was started with Options.Audit.
func (c *Cluster) AuditLog() string {
	if !c.audit {
		return ""
	}
	return filepath.Join(c.dir, "audit.log")
}

// AuditEvents reads the audit log: every create and delete of a Job, Pod,
// Deployment or Service the API server answered so far, in the order it
// answered them. It fails unless the cluster was started with
// Options.Audit.
func (c *Cluster) AuditEvents() ([]AuditEvent, error) {
	path := c.AuditLog()
	if path == "" {
		return nil, fmt.Errorf("cluster: no audit log: start the cluster with Options.Audit")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cluster: reading the audit log: %w", err)
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		var e AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("cluster: audit log %s:%d: %w", path, n, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cluster: reading the audit log: %w", err)
	}
	return events, nil
}
