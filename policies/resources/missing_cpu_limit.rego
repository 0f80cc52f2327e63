# What it does: flags containers (regular, init and native sidecar) that run without a CPU limit:
#   none in resources.limits.cpu, no default from the namespace's LimitRange and no pod-level
#   resources.limits.cpu. Also flags a limit written as an empty string (the API server rejects it)
#   or as 0, which the kubelet takes as no limit. Ephemeral containers take no resources and are
#   not checked.
# Why: a container without a CPU limit can use every idle core of the node. That is often what you
#   want, which is why this is a notice: but its latency then depends on its neighbours, a
#   runaway process slows down the node's other pods down to their requests, and the pod cannot be
#   in the Guaranteed QoS class.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {cpu: 250m, memory: 256Mi}
#         limits: {memory: 256Mi}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {cpu: 250m, memory: 256Mi}
#         limits: {cpu: "1", memory: 256Mi}
# Fix: set resources.limits.cpu on each container where predictable latency matters more than using
#   idle CPU, or disable this rule.
package seaworthy.rules.resources.missing_cpu_limit

import rego.v1

import data.seaworthy.lib.resources

metadata := {
	"id": "missing-cpu-limit",
	"area": "resources",
	"severity": "notice",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no CPU limit",
	"remediation": "Set resources.limits.cpu on each container whose latency must not depend on its neighbours.",
	# The object alone decides: a LimitRange default (from the run or the cluster cache) can only
	# clear the finding, so the webhook runs this rule with or without cluster context.
	"scope": "object",
	"reads": ["v1/LimitRange"],
}

violations contains v if {
	some v in resources.problems("limits", "cpu")
}
