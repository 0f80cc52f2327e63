# What it does: flags containers (regular, init and native sidecar) that run without a CPU
#   request: none in resources.requests.cpu, none in resources.limits.cpu (the API server copies a
#   limit into an unset request), no default from the namespace's LimitRange and no pod-level
#   resources.requests.cpu or resources.limits.cpu. Also flags a request written as an empty string
#   (the API server rejects it) or as 0, which reserves nothing. Ephemeral containers take no
#   resources and are not checked.
# Why: the scheduler places pods by their requests. A container without a CPU request reserves no
#   CPU: the pod lands on a node that is already busy, gets the smallest share of CPU under
#   contention, and the HorizontalPodAutoscaler cannot compute its CPU utilisation.
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
#         requests: {cpu: 250m, memory: 256Mi}
# Fix: set resources.requests.cpu on each container to its typical usage.
package seaworthy.rules.resources.missing_cpu_request

import rego.v1

import data.seaworthy.lib.resources

metadata := {
	"id": "missing-cpu-request",
	"area": "resources",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no CPU request",
	"remediation": "Set resources.requests.cpu on each container.",
	# The object alone decides: a LimitRange default (from the run or the cluster cache) can only
	# clear the finding, so the webhook runs this rule with or without cluster context.
	"scope": "object",
	"reads": ["v1/LimitRange"],
}

violations contains v if {
	some v in resources.problems("requests", "cpu")
}
