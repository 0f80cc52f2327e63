# What it does: flags containers (regular, init and native sidecar) that run without a memory
#   request: none in resources.requests.memory, none in resources.limits.memory (the API server
#   copies a limit into an unset request), no default from the namespace's LimitRange and no
#   pod-level resources.requests.memory or resources.limits.memory. Also flags a request written as
#   an empty string (the API server rejects it) or as 0, which reserves nothing. Ephemeral
#   containers take no resources and are not checked.
# Why: the scheduler places pods by their requests. A container without a memory request reserves
#   no memory, so its pod can land on a node that cannot hold it; when the node runs short, the
#   kubelet evicts the pods that use the most memory above their requests first.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {cpu: 250m}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {cpu: 250m, memory: 256Mi}
# Fix: set resources.requests.memory on each container to its typical usage.
package seaworthy.rules.resources.missing_memory_request

import rego.v1

import data.seaworthy.lib.resources

metadata := {
	"id": "missing-memory-request",
	"area": "resources",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no memory request",
	"remediation": "Set resources.requests.memory on each container.",
	# The object alone decides: a LimitRange default (from the run or the cluster cache) can only
	# clear the finding, so the webhook runs this rule with or without cluster context.
	"scope": "object",
	"reads": ["v1/LimitRange"],
}

violations contains v if {
	some v in resources.problems("requests", "memory")
}
