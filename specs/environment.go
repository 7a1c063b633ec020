package specs

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Environment holds the pod-level settings of a run. Its Kubernetes values
// are the k8s.io/api/core/v1 types themselves.
type Environment struct {
	Labels             map[string]string          `json:"labels,omitempty"`
	Annotations        map[string]string          `json:"annotations,omitempty"`
	NodeSelector       map[string]string          `json:"nodeSelector,omitempty"`
	Affinity           *corev1.Affinity           `json:"affinity,omitempty"`
	Tolerations        []corev1.Toleration        `json:"tolerations,omitempty"`
	NodeName           string                     `json:"nodeName,omitempty"`
	ServiceAccountName string                     `json:"serviceAccountName,omitempty"`
	HostAliases        []corev1.HostAlias         `json:"hostAliases,omitempty"`
	SecurityContext    *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	// ImagePullSecrets is a list of secret names.
	ImagePullSecrets  []string             `json:"imagePullSecrets,omitempty"`
	HostNetwork       *bool                `json:"hostNetwork,omitempty"`
	HostPID           *bool                `json:"hostPID,omitempty"`
	DNSPolicy         corev1.DNSPolicy     `json:"dnsPolicy,omitempty"`
	DNSConfig         *corev1.PodDNSConfig `json:"dnsConfig,omitempty"`
	SchedulerName     string               `json:"schedulerName,omitempty"`
	PriorityClassName string               `json:"priorityClassName,omitempty"`
	Priority          *int32               `json:"priority,omitempty"`
	RestartPolicy     corev1.RestartPolicy `json:"restartPolicy,omitempty"`
}

// misplacedField says where container settings written on the environment
// belong (the pre-1.1 layout put them there).
func (e *Environment) misplacedField(key string) string {
	switch key {
	case "resources", "env", "envFrom", "env_from", "command", "args", "image", "volumeMounts", "volume_mounts":
		return fmt.Sprintf("it is a container setting: set it under `container.%s`", key)
	case "secrets", "configMaps", "config_maps":
		return "mount secrets and config maps with `volumes` and `container.volumeMounts`, or use `container.envFrom`"
	case "logLevel", "log_level":
		return "it is a plugin setting: `plugins.logLevel`"
	}
	return ""
}

var restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}

var dnsPolicies = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}

func (e *Environment) validate(p Path) ErrorList {
	if e == nil {
		return nil
	}
	var errs ErrorList
	if e.RestartPolicy != "" && !slices.Contains(restartPolicies, e.RestartPolicy) {
		errs = append(errs, NotSupported(p.Child("restartPolicy"), e.RestartPolicy, restartPolicies))
	}
	if e.DNSPolicy != "" && !slices.Contains(dnsPolicies, e.DNSPolicy) {
		errs = append(errs, NotSupported(p.Child("dnsPolicy"), e.DNSPolicy, dnsPolicies))
	}
	for i, t := range e.Tolerations {
		tp := p.Child("tolerations").Index(i)
		if t.Operator != "" && t.Operator != corev1.TolerationOpExists && t.Operator != corev1.TolerationOpEqual {
			errs = append(errs, NotSupported(tp.Child("operator"), t.Operator, []corev1.TolerationOperator{corev1.TolerationOpExists, corev1.TolerationOpEqual}))
		}
		if t.Operator == corev1.TolerationOpExists && t.Value != "" {
			errs = append(errs, Invalid(tp.Child("value"), t.Value, "a toleration with operator Exists takes no value"))
		}
	}
	for i, s := range e.ImagePullSecrets {
		if s == "" {
			errs = append(errs, Required(p.Child("imagePullSecrets").Index(i), "an image pull secret needs a name"))
		}
	}
	return errs
}

// Termination bounds a run: retries, a timeout and how long its resources
// stay after it ends.
type Termination struct {
	MaxRetries *IntOrRef `json:"maxRetries,omitempty"`
	TTL        *IntOrRef `json:"ttl,omitempty"`
	Timeout    *IntOrRef `json:"timeout,omitempty"`
}

func (t *Termination) validate(p Path) ErrorList {
	if t == nil {
		return nil
	}
	var errs ErrorList
	errs = append(errs, BoundMaxRetries.checkRef(p.Child("maxRetries"), t.MaxRetries)...)
	errs = append(errs, BoundTTL.checkRef(p.Child("ttl"), t.TTL)...)
	errs = append(errs, BoundTimeout.checkRef(p.Child("timeout"), t.Timeout)...)
	return errs
}

func nonNegative(p Path, v *IntOrRef) ErrorList {
	if v != nil && !v.IsTemplate() && v.Value < 0 {
		return ErrorList{Invalidf(p, v.Value, "must not be negative, got %d", v.Value)}
	}
	return nil
}

func atLeastOne(p Path, v *IntOrRef) ErrorList {
	if v != nil && !v.IsTemplate() && v.Value < 1 {
		return ErrorList{Invalidf(p, v.Value, "must be at least 1, got %d", v.Value)}
	}
	return nil
}

// Cache says whether a run may reuse the result of an identical earlier run.
type Cache struct {
	Disable  *bool     `json:"disable,omitempty"`
	TTL      *IntOrRef `json:"ttl,omitempty"`
	IO       []string  `json:"io,omitempty"`
	Sections []string  `json:"sections,omitempty"`
}

// CacheSections lists the sections a cache key may include.
var CacheSections = []string{"containers", "init", "connections"}

func (c *Cache) validate(p Path) ErrorList {
	if c == nil {
		return nil
	}
	var errs ErrorList
	errs = append(errs, BoundCacheTTL.checkRef(p.Child("ttl"), c.TTL)...)
	for i, s := range c.Sections {
		if !slices.Contains(CacheSections, s) {
			errs = append(errs, NotSupported(p.Child("sections").Index(i), s, CacheSections))
		}
	}
	return errs
}

// Plugins switch the platform's helpers on or off for a run.
type Plugins struct {
	Auth                *bool          `json:"auth,omitempty"`
	Docker              *bool          `json:"docker,omitempty"`
	Shm                 *bool          `json:"shm,omitempty"`
	MountArtifactsStore *bool          `json:"mountArtifactsStore,omitempty"`
	CollectArtifacts    *bool          `json:"collectArtifacts,omitempty"`
	CollectLogs         *bool          `json:"collectLogs,omitempty"`
	CollectResources    *bool          `json:"collectResources,omitempty"`
	SyncStatuses        *bool          `json:"syncStatuses,omitempty"`
	AutoResume          *bool          `json:"autoResume,omitempty"`
	ExternalHost        *bool          `json:"externalHost,omitempty"`
	LogLevel            string         `json:"logLevel,omitempty"`
	Sidecar             *SidecarConfig `json:"sidecar,omitempty"`
	Notifications       []Notification `json:"notifications,omitempty"`
}

// SidecarConfig configures the artifacts and logs sidecar.
type SidecarConfig struct {
	Image           string                       `json:"image,omitempty"`
	ImageTag        string                       `json:"imageTag,omitempty"`
	ImagePullPolicy corev1.PullPolicy            `json:"imagePullPolicy,omitempty"`
	Resources       *corev1.ResourceRequirements `json:"resources,omitempty"`
	SleepInterval   *int                         `json:"sleepInterval,omitempty"`
	SyncInterval    *int                         `json:"syncInterval,omitempty"`
	MonitorLogs     *bool                        `json:"monitorLogs,omitempty"`
}

// Notification is the legacy notifier: connections told of a status.
type Notification struct {
	Connections []string `json:"connections" plexus:"required"`
	Trigger     string   `json:"trigger,omitempty"`
}

// LogLevels are the values plugins.logLevel accepts (any case).
var LogLevels = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

func (pl *Plugins) validate(p Path) ErrorList {
	if pl == nil {
		return nil
	}
	var errs ErrorList
	if pl.LogLevel != "" && !IsTemplate(pl.LogLevel) && !slices.ContainsFunc(LogLevels, func(l string) bool { return strings.EqualFold(l, pl.LogLevel) }) {
		errs = append(errs, NotSupported(p.Child("logLevel"), pl.LogLevel, LogLevels))
	}
	if pl.Sidecar != nil {
		sp := p.Child("sidecar")
		errs = append(errs, BoundSidecarInterval.checkInt(sp.Child("sleepInterval"), pl.Sidecar.SleepInterval)...)
		errs = append(errs, BoundSidecarInterval.checkInt(sp.Child("syncInterval"), pl.Sidecar.SyncInterval)...)
	}
	for i, n := range pl.Notifications {
		if len(n.Connections) == 0 {
			errs = append(errs, Required(p.Child("notifications").Index(i).Child("connections"), "a notification needs connections"))
		}
	}
	return errs
}
