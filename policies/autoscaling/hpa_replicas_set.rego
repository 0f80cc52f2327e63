# What it does: flags a Deployment, StatefulSet, ReplicaSet or Argo Rollout that sets spec.replicas
#   while a HorizontalPodAutoscaler of its namespace scales it. A workload scaled to 0 on purpose
#   is left alone (the HPA does not scale it either).
# Why: every apply of the manifest (a deploy, a GitOps sync) resets the replica count to the
#   written value, fighting the autoscaler: a workload scaled out under load drops back to a few
#   pods in the middle of a release, until the HPA scales it out again.
# Example:
#   # fails: HorizontalPodAutoscaler web targets this Deployment
#   kind: Deployment
#   spec:
#     replicas: 3
#   # passes
#   kind: Deployment
#   spec:
#     selector: ...
# Fix: remove spec.replicas from the manifest (in a chart, render it only when autoscaling is off)
#   and let the HorizontalPodAutoscaler's minReplicas set the floor.
package seaworthy.rules.autoscaling.hpa_replicas_set

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "hpa-replicas-set",
	"area": "autoscaling",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "ReplicaSet", "Rollout"],
	"summary": "Workload sets spec.replicas while a HorizontalPodAutoscaler scales it",
	"remediation": "Remove spec.replicas from the manifest and let the HorizontalPodAutoscaler's minReplicas set the floor.",
	"scope": "related",
	"reads": ["autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	input.workload.hpa != null
	replicas := object.get(input.object, ["spec", "replicas"], null)
	is_number(replicas)
	replicas != 0
	v := {
		"msg": sprintf("%s %q sets replicas: %v while HorizontalPodAutoscaler %q scales it: each apply resets the replica count the autoscaler chose", [
			input.object.kind, names.object_name(input.object), replicas, input.workload.hpa.name,
		]),
		"path": ["spec", "replicas"],
	}
}
