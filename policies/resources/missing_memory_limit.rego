# What it does: flags every container (regular, init and native sidecar) that has no
#   resources.limits.memory.
# Why: memory is not compressible. A container without a limit can grow until the node runs out of
#   memory, and then the kernel's OOM killer or the kubelet's eviction picks victims among the other
#   pods on the node. Init containers count too: they run on the same node and their peak usage
#   shapes the pod's effective request.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {memory: 256Mi}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {memory: 256Mi}
#         limits: {memory: 512Mi}
# Fix: set resources.limits.memory on each container, a little above its observed peak.
package seaworthy.rules.resources.missing_memory_limit

import rego.v1

metadata := {
	"id": "missing-memory-limit",
	"area": "resources",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no memory limit",
	"remediation": "Set resources.limits.memory on each container.",
}

violations contains v if {
	some ref in input.workload.all_containers
	object.get(ref.container, ["resources", "limits", "memory"], null) == null
	v := {
		"msg": sprintf("container %q has no memory limit", [ref.name]),
		"path": array.concat(ref.path, ["resources", "limits", "memory"]),
	}
}
