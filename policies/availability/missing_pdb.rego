# What it does: flags Deployments, StatefulSets, ReplicaSets, ReplicationControllers and Argo
#   Rollouts that run two or more replicas but are not covered by any PodDisruptionBudget of their
#   namespace (one whose selector selects the pod template's labels). The replica count is the
#   floor: a HorizontalPodAutoscaler's minReplicas when one targets the workload (minReplicas 1
#   passes even with spec.replicas 5; minReplicas 2 fails even with spec.replicas 1). A budget in
#   another namespace does not count, nor does a policy/v1beta1 budget with an empty selector (it
#   selects no pods in that version). Single-replica workloads are left to too-few-replicas: a
#   budget cannot keep one pod up through a drain without blocking the drain.
# Why: without a PodDisruptionBudget, a node drain (cluster upgrade, autoscaler scale-down) may
#   evict every replica at once; the budget makes evictions wait until enough pods are ready
#   elsewhere.
# Example:
#   # fails
#   kind: Deployment
#   spec:
#     replicas: 3
#     template:
#       metadata:
#         labels: {app: web}
#   # passes: the same Deployment, plus
#   kind: PodDisruptionBudget
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
# Fix: add a PodDisruptionBudget in the workload's namespace that selects its pod labels, with
#   maxUnavailable: 1 (or a minAvailable below the replica count).
package seaworthy.rules.availability.missing_pdb

import data.seaworthy.lib.availability as av
import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "missing-pdb",
	"area": "availability",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"],
	"summary": "Replicated workload has no PodDisruptionBudget",
	"remediation": "Add a PodDisruptionBudget in the same namespace that selects the pod labels, for example with maxUnavailable: 1.",
	"scope": "related",
	"reads": ["policy/v1/PodDisruptionBudget", "autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	n := av.min_pods(input.workload)
	is_number(n)
	n >= 2
	count(input.workload.pdbs) == 0
	v := {
		"msg": sprintf("%s runs %s and no PodDisruptionBudget of namespace %q selects its pods (%s)", [
			av.workload(input.workload.kind, names.object_name(input.object)),
			replicas_text,
			namespace,
			av.labels(input.workload.pod_labels),
		]),
		"path": av.pod_labels_path(input.workload, input.object),
	}
}

replicas_text := sprintf("at least %s (HorizontalPodAutoscaler %q minReplicas)", [
	av.count_of(input.workload.min_replicas, "replica"),
	input.workload.hpa.name,
]) if {
	input.workload.hpa != null
} else := av.count_of(input.workload.min_replicas, "replica")

namespace := input.workload.namespace if is_string(input.workload.namespace) else := "default"
