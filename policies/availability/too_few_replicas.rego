# What it does: flags Deployments, StatefulSets and Argo Rollouts that run fewer replicas than the
#   high-availability minimum (param `min_replicas`, default 3). When a HorizontalPodAutoscaler
#   targets the workload, its minReplicas is the floor that counts, not spec.replicas: an
#   autoscaler with minReplicas 1 fails even if spec.replicas is 5, and one with minReplicas 3
#   passes even if spec.replicas is 1. `replicas: 0` (scaled to zero on purpose; an autoscaler
#   leaves such a target alone) and an autoscaler with minReplicas 0 are not flagged, nor is a
#   canary (a pod label with the value "canary", e.g. `track: canary`, or a name ending in
#   "-canary"): it is the deliberately small companion of a stable workload that carries the
#   traffic.
# Why: with one replica every node drain, eviction, crash or rollout is an outage; with two, one
#   disruption leaves a single pod carrying all the traffic with nothing in reserve. Three
#   replicas survive one lost pod while keeping redundancy.
# Example:
#   # fails
#   kind: Deployment
#   spec:
#     replicas: 1
#   # passes
#   kind: Deployment
#   spec:
#     replicas: 3
# Fix: set spec.replicas (or the HorizontalPodAutoscaler's minReplicas) to at least 3.
package seaworthy.rules.availability.too_few_replicas

import data.seaworthy.lib.availability as av
import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "too-few-replicas",
	"area": "availability",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "Rollout"],
	# content: The workloads it judges (and the HorizontalPodAutoscalers in reads).
	"content": ["Deployment", "StatefulSet", "Rollout"],
	"summary": "Workload runs fewer replicas than the high-availability minimum",
	"remediation": "Run at least the minimum number of replicas, in spec.replicas or in the HorizontalPodAutoscaler's minReplicas.",
	"params": {"min_replicas": 3},
	# related: the floor that counts is a HorizontalPodAutoscaler's minReplicas when one targets the
	# workload, and it can pass a workload whose spec.replicas is low or fail one whose spec.replicas
	# is high, so the webhook judges it only with its cluster cache (a warning either way).
	"scope": "related",
	"reads": ["autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	not scaled_to_zero
	not canary
	hpa := input.workload.hpa
	hpa != null
	is_number(hpa.min_replicas)
	hpa.min_replicas > 0
	hpa.min_replicas < input.params.min_replicas
	v := {
		"msg": sprintf("HorizontalPodAutoscaler %q allows %s (%s), fewer than the minimum of %d", [
			hpa.name,
			av.count_of(hpa.min_replicas, "replica"),
			hpa_floor(hpa),
			input.params.min_replicas,
		]),
		"path": replicas_path,
	}
}

violations contains v if {
	not canary
	input.workload.hpa == null
	n := input.workload.replicas
	is_number(n)
	n > 0
	n < input.params.min_replicas
	v := {
		"msg": sprintf("%s runs %s%s, fewer than the minimum of %d", [
			av.workload(input.workload.kind, names.object_name(input.object)),
			av.count_of(n, "replica"),
			unset_note,
			input.params.min_replicas,
		]),
		"path": replicas_path,
	}
}

scaled_to_zero if input.object.spec.replicas == 0

canary if {
	some value in input.workload.pod_labels
	is_string(value)
	lower(value) == "canary"
}

canary if endswith(input.workload.name, "-canary")

replicas_set if object.get(input.object, ["spec", "replicas"], null) != null

replicas_path := ["spec", "replicas"] if replicas_set else := ["spec"]

unset_note := "" if replicas_set else := " (spec.replicas is unset)"

# The autoscaler's own object, to tell a written minReplicas from the default of 1. (The iteration
# sits in its own rule: regorus' RVM does not take an `else` after a body that iterates.)
hpa_floor(hpa) := sprintf("minReplicas: %d", [hpa.min_replicas]) if {
	min_replicas_written(hpa.name)
} else := sprintf("minReplicas unset, defaults to %d", [hpa.min_replicas])

min_replicas_written(name) if {
	some hpa_object in hpa_objects(name)
	is_number(hpa_object.spec.minReplicas)
}

hpa_objects(name) := [o |
	some api_version, kinds in data.inventory.namespace[namespace]
	startswith(api_version, "autoscaling/")
	o := kinds.HorizontalPodAutoscaler[name]
]

namespace := input.workload.namespace if input.workload.namespace != null else := "default"
