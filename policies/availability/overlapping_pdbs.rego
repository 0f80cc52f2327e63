# What it does: flags workloads whose pods are selected by more than one PodDisruptionBudget of
#   their namespace. It is reported on the workload, the object both budgets point at, so the
#   admission webhook catches it when either the workload or a budget changes what it selects.
# Why: the eviction API refuses to evict a pod that more than one budget covers (HTTP 500 "This
#   pod has more than one PodDisruptionBudget, which the eviction subresource does not support"),
#   so node drains, cluster upgrades and the cluster autoscaler stall on those pods.
# Example:
#   # fails: both select pods labelled {app: web, tier: frontend}
#   kind: PodDisruptionBudget
#   metadata: {name: web}
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
#   ---
#   kind: PodDisruptionBudget
#   metadata: {name: frontend}
#   spec:
#     minAvailable: 1
#     selector:
#       matchLabels: {tier: frontend}
#   # passes
#   kind: PodDisruptionBudget
#   metadata: {name: web}
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
# Fix: keep a single PodDisruptionBudget per set of pods: narrow or delete the others.
package seaworthy.rules.availability.overlapping_pdbs

import data.seaworthy.lib.availability as av
import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "overlapping-pdbs",
	"area": "availability",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pods are selected by more than one PodDisruptionBudget",
	"remediation": "Keep exactly one PodDisruptionBudget selecting these pods: narrow the selectors of the others or delete them.",
	"scope": "related",
	"reads": ["policy/v1/PodDisruptionBudget"],
}

violations contains v if {
	count(input.workload.pdbs) > 1
	names := sort([pdb.name | some pdb in input.workload.pdbs])
	v := {
		"msg": sprintf("pods of %s (%s) are selected by %d PodDisruptionBudgets (%s): the eviction API refuses to evict them", [
			av.workload(input.workload.kind, names.object_name(input.object)),
			av.labels(input.workload.pod_labels),
			count(names),
			av.quoted(names),
		]),
		"path": av.pod_labels_path(input.workload, input.object),
	}
}
