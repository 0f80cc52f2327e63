# What it does: flags a HorizontalPodAutoscaler whose scaleTargetRef names a Deployment,
#   StatefulSet, ReplicaSet, ReplicationController or Argo Rollout that is not in its namespace in
#   the run. Targets of other kinds (custom scalable resources) are not judged. To avoid false
#   alarms when only part of a repository is linted, an HPA is only judged when its namespace has
#   workloads in the run.
# Why: an HPA whose target does not exist scales nothing: usually the workload was renamed (a
#   blue-green suffix, a chart's fullname) and the HPA was not, so the workload it was meant for
#   runs at a fixed size.
# Example:
#   # fails: the Deployment is called payment-service-blue
#   scaleTargetRef:
#     apiVersion: apps/v1
#     kind: Deployment
#     name: payment-service
#   # passes
#   scaleTargetRef:
#     apiVersion: apps/v1
#     kind: Deployment
#     name: payment-service-blue
# Fix: make scaleTargetRef name the workload as it is deployed (kind, name and API group).
package seaworthy.rules.autoscaling.hpa_target_missing

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "hpa-target-missing",
	"area": "autoscaling",
	"severity": "warning",
	"kinds": ["HorizontalPodAutoscaler"],
	# content: The target is looked up in data.inventory by kind and name alone.
	"content": ["HorizontalPodAutoscaler"],
	"summary": "HorizontalPodAutoscaler targets a workload that does not exist",
	"remediation": "Make scaleTargetRef name the workload as it is deployed: kind, name and API group.",
	"scope": "complete",
}

target := input.object.spec.scaleTargetRef

workload_groups := {
	"Deployment": {"apps", "extensions"},
	"StatefulSet": {"apps"},
	"ReplicaSet": {"apps", "extensions"},
	"ReplicationController": {""},
	"Rollout": {"argoproj.io"},
}

group_of(api_version) := "" if not contains(api_version, "/")

group_of(api_version) := split(api_version, "/")[0] if contains(api_version, "/")

violations contains v if {
	is_string(target.kind)
	is_string(target.name)
	workload_groups[target.kind]
	input.related.namespace.workloads > 0
	not exists
	v := {
		"msg": sprintf("HorizontalPodAutoscaler %q scales %s %q, which is not in namespace %q in the run", [
			names.object_name(input.object), target.kind, target.name, input.related.namespace.name,
		]),
		"path": ["spec", "scaleTargetRef", "name"],
	}
}

exists if {
	some api_version, kinds in data.inventory.namespace[input.related.namespace.name]
	group_of(api_version) in workload_groups[target.kind]
	kinds[target.kind][target.name]
}
