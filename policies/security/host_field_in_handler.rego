# What it does: flags a non-empty host in the httpGet or tcpSocket action of a container's
#   livenessProbe, readinessProbe, startupProbe, lifecycle.postStart or lifecycle.preStop (regular,
#   init, native sidecar and ephemeral containers) (Pod Security Standards, baseline, control "Host
#   Probes / Lifecycle Hooks", policy version 1.34 and later).
# Why: probes and HTTP hooks are sent by the kubelet from the node. With a host set, anyone who can
#   create a pod makes the kubelet send requests to any address the node can reach: services on the
#   node's localhost, the cloud metadata endpoint, other hosts on the node network (server-side
#   request forgery). Without a host the kubelet targets the pod's own IP (for a hostNetwork pod,
#   the node's, and the message says so: "instead of the pod" would be wrong there).
# Example:
#   # fails
#   livenessProbe:
#     httpGet:
#       host: 169.254.169.254
#       path: /latest/meta-data/
#       port: 80
#   # passes
#   livenessProbe:
#     httpGet:
#       path: /healthz
#       port: 8080
# Fix: remove the host field so the kubelet probes the pod's own IP; to send a Host header, set it in
#   httpGet.httpHeaders.
package seaworthy.rules.security.host_field_in_handler

import rego.v1

metadata := {
	"id": "host-field-in-handler",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Probe or lifecycle hook targets a host other than the pod",
	"remediation": "Remove the host field from httpGet and tcpSocket probes and lifecycle hooks; set a Host header in httpHeaders if the server needs one.",
	"level": "baseline",
	"control": "hostProbesAndHostLifecycle",
}

# Every handler that can carry a host: the probes, and the lifecycle hooks. Each loop starts from
# what the container has (most have no lifecycle and no startupProbe): on the RVM every iteration
# costs, even one whose lookup fails at once, and the webhook runs this rule on every workload.
violations contains v if {
	some ref in input.workload.all_containers
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	handler := ref.container[probe]
	is_object(handler)
	some action in ["httpGet", "tcpSocket"]
	host := handler[action].host
	named(host)
	v := violation(ref, [probe], action, host)
}

violations contains v if {
	some ref in input.workload.all_containers
	lifecycle := ref.container.lifecycle
	is_object(lifecycle)
	some hook in ["postStart", "preStop"]
	some action in ["httpGet", "tcpSocket"]
	host := lifecycle[hook][action].host
	named(host)
	v := violation(ref, ["lifecycle", hook], action, host)
}

violation(ref, handler, action, host) := {
	"msg": sprintf("container %q sends its %s to host %q (%s.%s.host) instead of %s", [ref.display_name, describe(handler), host, concat(".", handler), action, own_address]),
	"path": array.concat(ref.path, array.concat(handler, [action, "host"])),
}

# Most handlers have no host: told before `violation` is called (a call costs more than the test).
named(host) if {
	is_string(host)
	host != ""
}

# Without a host the kubelet targets the pod's IP, which for a hostNetwork pod is the node's own.
own_address := "the pod's own IP, which for this hostNetwork pod is the node's" if {
	input.workload.pod_spec.hostNetwork == true
} else := "the pod"

describe([probe]) := probe

describe(["lifecycle", hook]) := sprintf("%s hook", [hook])
