# What it does: flags a HorizontalPodAutoscaler whose minReplicas (1 when unset) is greater than its
#   maxReplicas, or whose maxReplicas is missing or below 1.
# Why: the API server rejects it, so the apply (or the Helm release) fails; in a template it
#   usually means two values were swapped or one environment's override missed one of them.
# Example:
#   # fails
#   spec:
#     minReplicas: 5
#     maxReplicas: 3
#   # passes
#   spec:
#     minReplicas: 3
#     maxReplicas: 5
# Fix: set maxReplicas at or above minReplicas.
package seaworthy.rules.autoscaling.hpa_min_above_max

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "hpa-min-above-max",
	"area": "autoscaling",
	"severity": "error",
	"scope": "manifest",
	"kinds": ["HorizontalPodAutoscaler"],
	"summary": "HorizontalPodAutoscaler minReplicas above maxReplicas",
	"remediation": "Set maxReplicas at or above minReplicas.",
}

min_replicas := object.get(input.object, ["spec", "minReplicas"], 1)

max_replicas := object.get(input.object, ["spec", "maxReplicas"], null)

violations contains v if {
	is_number(min_replicas)
	is_number(max_replicas)
	min_replicas > max_replicas
	v := {
		"msg": sprintf("HorizontalPodAutoscaler %q has minReplicas %v above maxReplicas %v: the API server rejects it", [
			names.object_name(input.object), min_replicas, max_replicas,
		]),
		"path": ["spec", "maxReplicas"],
	}
}

violations contains v if {
	max_replicas == null
	is_object(input.object.spec)
	v := {
		"msg": sprintf("HorizontalPodAutoscaler %q has no maxReplicas, which is required", [names.object_name(input.object)]),
		"path": ["spec"],
	}
}

violations contains v if {
	is_number(max_replicas)
	max_replicas < 1
	v := {
		"msg": sprintf("HorizontalPodAutoscaler %q has maxReplicas %v: it must be at least 1", [names.object_name(input.object), max_replicas]),
		"path": ["spec", "maxReplicas"],
	}
}
