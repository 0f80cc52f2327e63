# What it does: flags pods that share a namespace with the node: hostNetwork, hostPID or hostIPC set
#   to true (one finding per field) (Pod Security Standards, baseline, control "Host Namespaces").
# Why: with the host's network namespace a pod can bind any node port and reach services listening
#   on localhost, and sidesteps NetworkPolicies; with its PID namespace it can see and signal every
#   process on the node and read their environment; with its IPC namespace it can read other
#   processes' shared memory.
# Example:
#   # fails
#   spec:
#     hostNetwork: true
#     containers:
#       - name: exporter
#         image: quay.io/prometheus/node-exporter:v1.8.2
#   # passes
#   spec:
#     hostNetwork: false
#     containers:
#       - name: exporter
#         image: quay.io/prometheus/node-exporter:v1.8.2
# Fix: remove hostNetwork, hostPID and hostIPC (they default to false); expose the pod through a
#   Service instead of the node's network.
package seaworthy.rules.security.host_namespaces

import rego.v1

metadata := {
	"id": "host-namespaces",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod shares the node's network, PID or IPC namespace",
	"remediation": "Remove hostNetwork, hostPID and hostIPC from the pod spec, or set them to false.",
	"level": "baseline",
	"control": "hostNamespaces",
}

descriptions := {
	"hostNetwork": "uses the host network",
	"hostPID": "shares the host's process namespace",
	"hostIPC": "shares the host's IPC namespace",
}

violations contains v if {
	some field, description in descriptions
	input.workload.pod_spec[field] == true
	v := {
		"msg": sprintf("pod %s (%s: true)", [description, field]),
		"path": array.concat(input.workload.pod_spec_path, [field]),
	}
}
