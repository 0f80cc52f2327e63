# What it does: flags PodDisruptionBudgets that allow no voluntary disruption at all:
#   - maxUnavailable 0 (or "0%");
#   - minAvailable at least the number of pods the budget covers: the sum of the replicas of the
#     workloads of the run it selects, each at its floor (a HorizontalPodAutoscaler's minReplicas
#     when one targets it, since the budget also has to hold there). A percentage is rounded up,
#     as the disruption controller rounds it: minAvailable "90%" of 3 pods is 3.
#   - minAvailable of "100%" or more, alone: whatever the number of pods, all of them must stay.
#   A number in minAvailable is not judged when the budget selects no workload of the run
#   (pdb-selects-nothing covers that), or selects one whose pod count is not known from the
#   manifests (DaemonSet, Job, CronJob): it may be below the count where the budget is deployed.
# Why: the eviction API then refuses every eviction of those pods, so `kubectl drain`, cluster
#   upgrades and the cluster autoscaler hang on their nodes until someone deletes the budget by
#   hand.
# Example:
#   # fails
#   kind: PodDisruptionBudget
#   spec:
#     minAvailable: 3      # the Deployment it selects runs 3 replicas
#     selector:
#       matchLabels: {app: web}
#   # passes
#   kind: PodDisruptionBudget
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
# Fix: use maxUnavailable: 1 (or a minAvailable below the number of pods the budget covers).
package seaworthy.rules.availability.pdb_blocks_eviction

import data.seaworthy.lib.availability as av
import data.seaworthy.lib.intstr
import rego.v1

metadata := {
	"id": "pdb-blocks-eviction",
	"area": "availability",
	"severity": "error",
	"kinds": ["PodDisruptionBudget"],
	"summary": "PodDisruptionBudget allows no pod to be evicted",
	"remediation": "Set maxUnavailable to at least 1, or minAvailable below the number of pods the budget covers.",
	"scope": "related",
	"reads": [
		"apps/v1/Deployment",
		"apps/v1/StatefulSet",
		"autoscaling/v2/HorizontalPodAutoscaler",
	],
}

violations contains v if {
	max_unavailable := input.object.spec.maxUnavailable
	intstr.scaled(max_unavailable, 1, true) == 0
	v := {
		"msg": sprintf("maxUnavailable %s allows no voluntary disruption: %s can ever be evicted", [
			value_text(max_unavailable),
			covered,
		]),
		"path": ["spec", "maxUnavailable"],
	}
}

violations contains v if {
	min_available := input.object.spec.minAvailable
	# Tested before the pods are counted: on the RVM a binding of an undefined value (a budget
	# with maxUnavailable) does not end the body.
	min_available != null
	total := pod_total
	needed := intstr.scaled(min_available, total, true)
	needed >= total
	v := {
		"msg": sprintf("minAvailable %s%s, so none can ever be evicted", [
			value_text(min_available),
			shortfall(min_available, needed, total),
		]),
		"path": ["spec", "minAvailable"],
	}
}

# "100%" needs no pod count: it keeps every pod, however many there are.
violations contains v if {
	min_available := input.object.spec.minAvailable
	intstr.whole(min_available)
	not pod_total
	v := {
		"msg": sprintf("minAvailable %s keeps every pod it selects available, so none can ever be evicted", [value_text(min_available)]),
		"path": ["spec", "minAvailable"],
	}
}

# The pods the budget covers, when every selected workload has a known count.
pod_total := total if {
	workloads := input.related.workloads
	count(workloads) > 0
	every w in workloads {
		is_number(av.min_pods(w))
	}
	total := sum([av.min_pods(w) | some w in workloads])
	total > 0
}

shortfall(min_available, needed, total) := sprintf(" of the %s it covers rounds up to %d, all of them (%s)", [
	av.count_of(total, "pod"),
	needed,
	workloads_text(total),
]) if {
	is_string(min_available)
}

shortfall(min_available, needed, total) := sprintf(" equals the number of pods it covers (%s)", [workloads_text(total)]) if {
	is_number(min_available)
	needed == total
}

shortfall(min_available, needed, total) := sprintf(" is more than the number of pods it covers (%s)", [workloads_text(total)]) if {
	is_number(min_available)
	needed > total
}

# `Deployment "web" with 3 replicas`, or for several workloads `3 in all: Deployment "a" with 2
# replicas, Deployment "b" with 1 replica`.
workloads_text(total) := text if {
	parts := [sprintf("%s with %s", [av.workload(w.kind, w.name), av.floor_text(w)]) | some w in input.related.workloads]
	count(parts) == 1
	text := parts[0]
}

workloads_text(total) := sprintf("%d in all: %s", [total, concat(", ", parts)]) if {
	parts := [sprintf("%s with %s", [av.workload(w.kind, w.name), av.floor_text(w)]) | some w in input.related.workloads]
	count(parts) > 1
}

covered := sprintf("no pod of %s", [concat(", ", [av.workload(w.kind, w.name) | some w in input.related.workloads])]) if {
	count(input.related.workloads) > 0
} else := "no pod it selects"

value_text(value) := sprintf("%q", [value]) if is_string(value) else := sprintf("%v", [value])
