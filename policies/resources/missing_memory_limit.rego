# What it does: flags containers (regular, init and native sidecar) that run without a memory
#   limit: none in resources.limits.memory, no default from the namespace's LimitRange and no
#   pod-level resources.limits.memory. Also flags a limit written as an empty string (the API
#   server rejects it) or as 0, which the kubelet takes as no limit. Ephemeral containers take no
#   resources and are not checked.
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

import data.seaworthy.lib.resources

metadata := {
	"id": "missing-memory-limit",
	"area": "resources",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no memory limit",
	"remediation": "Set resources.limits.memory on each container.",
	# The object alone decides: a LimitRange default (from the run or the cluster cache) can only
	# clear the finding, so the webhook runs this rule with or without cluster context.
	"scope": "object",
	"reads": ["v1/LimitRange"],
}

violations contains v if {
	some v in resources.problems("limits", "memory")
}
