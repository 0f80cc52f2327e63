# What it does: flags Deployments, StatefulSets, ReplicaSets, ReplicationControllers and Argo
#   Rollouts that can run two or more pods (spec.replicas >= 2, or, when a HorizontalPodAutoscaler
#   targets them, its maxReplicas >= 2) but neither a pod anti-affinity term (required or
#   preferred) nor a topology spread constraint spreads those pods over one of the topology keys
#   (param `topology_keys`, default kubernetes.io/hostname and topology.kubernetes.io/zone). Either
#   mechanism satisfies it, but only a term whose label selector selects the pod's own labels in
#   its own namespace counts: a term aimed at other pods ("not next to the database") spreads
#   nothing, and neither does one with mismatchLabelKeys on one of the pod's labels, which excludes
#   the pod's own group by design. DaemonSets (one pod per node already), Jobs and bare Pods are not
#   checked.
# Why: without spreading, the scheduler may put every replica on the same node or in the same zone,
#   and one node failure or drain takes them all down at once: the replicas buy no availability.
# Example:
#   # fails
#   spec:
#     replicas: 3
#     template:
#       metadata:
#         labels: {app: web}
#       spec:
#         containers: [{name: web, image: nginx:1.27}]
#   # passes
#   spec:
#     replicas: 3
#     template:
#       metadata:
#         labels: {app: web}
#       spec:
#         topologySpreadConstraints:
#           - maxSkew: 1
#             topologyKey: kubernetes.io/hostname
#             whenUnsatisfiable: ScheduleAnyway
#             labelSelector:
#               matchLabels: {app: web}
#         containers: [{name: web, image: nginx:1.27}]
# Fix: add a topologySpreadConstraint (or a preferred pod anti-affinity term) on
#   kubernetes.io/hostname or topology.kubernetes.io/zone whose labelSelector matches the pod's own
#   labels.
package seaworthy.rules.availability.missing_pod_spread

import data.seaworthy.lib.availability as av
import rego.v1

import data.seaworthy.lib.values

import data.seaworthy.lib.names

metadata := {
	"id": "missing-pod-spread",
	"area": "availability",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"],
	"summary": "Replicas are not spread across nodes or zones",
	"remediation": "Add a topologySpreadConstraint or a pod anti-affinity term on kubernetes.io/hostname or topology.kubernetes.io/zone that selects the pod's own labels.",
	"params": {"topology_keys": ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]},
	# related: an autoscaler can make a one-replica workload run several pods, so without the
	# cluster cache the webhook cannot tell whether spreading matters; it warns at most.
	"scope": "related",
	"reads": ["autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	pods := pod_count
	# Tested before the spread is looked for: on the RVM a binding of an undefined value (a
	# workload of one pod) does not end the body.
	is_string(pods)
	not spread
	v := {
		"msg": sprintf("%s can run %s but does not spread them over %s%s", [
			av.workload(input.workload.kind, names.object_name(input.object)),
			pods,
			concat(" or ", [sprintf("%q", [k]) | some k in input.params.topology_keys]),
			why_not,
		]),
		"path": input.workload.pod_spec_path,
	}
}

# When the pod has anti-affinity or spread terms, say why none of them counts.
why_not := "" if count(input.workload.spread_terms) == 0

why_not := sprintf(": its one anti-affinity or spread term does not select its own pods (%s) on those keys", [av.labels(input.workload.pod_labels)]) if {
	count(input.workload.spread_terms) == 1
}

why_not := sprintf(": none of its %d anti-affinity and spread terms selects its own pods (%s) on those keys", [
	count(input.workload.spread_terms),
	av.labels(input.workload.pod_labels),
]) if {
	count(input.workload.spread_terms) > 1
}

# An autoscaler owns the count when one targets the workload.
pod_count := sprintf("up to %d pods (HorizontalPodAutoscaler %q maxReplicas)", [hpa.max_replicas, hpa.name]) if {
	hpa := input.workload.hpa
	hpa != null
	input.workload.replicas != 0
	is_number(hpa.max_replicas)
	hpa.max_replicas >= 2
}

pod_count := sprintf("%d pods", [n]) if {
	not autoscaled
	n := input.workload.replicas
	is_number(n)
	n >= 2
}

autoscaled if {
	input.workload.hpa != null
	is_number(input.workload.hpa.max_replicas)
}

spread if {
	some term in input.workload.spread_terms
	term.topology_key in input.params.topology_keys
	term.selects_own_pods
	not excludes_own_group(term)
}

# mismatchLabelKeys adds `key notin (<the pod's own value>)` to the selector: the term then never
# counts the pod's own group.
excludes_own_group(term) if {
	some key in values.items(object.get(input.object, array.concat(term.path, ["mismatchLabelKeys"]), []))
	is_string(input.workload.pod_labels[key])
}
