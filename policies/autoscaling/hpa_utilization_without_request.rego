# What it does: flags containers of a workload that a HorizontalPodAutoscaler scales on CPU or
#   memory utilization while the container has no request for that resource (none written, none
#   from the namespace's LimitRange, no pod-level request). Utilization is a percentage of the
#   request, so the HPA cannot compute it. An HPA with no metrics (or autoscaling/v1) scales on CPU
#   utilization; a ContainerResource metric needs the request of its container only. Init and
#   sidecar containers are not counted by the HPA and are not checked.
# Why: the HPA reports "missing request for cpu" and stops scaling the workload altogether: under
#   load it stays at its current replica count.
# Example:
#   # fails: the HPA targets averageUtilization 70 on cpu
#   containers:
#     - name: web
#       resources:
#         limits: {memory: 256Mi}
#   # passes
#   containers:
#     - name: web
#       resources:
#         requests: {cpu: 250m, memory: 256Mi}
# Fix: set resources.requests for that resource on every container of the pod template (or scale
#   on an AverageValue target, which needs no request).
package seaworthy.rules.autoscaling.hpa_utilization_without_request

import rego.v1

import data.seaworthy.lib.resources

metadata := {
	"id": "hpa-utilization-without-request",
	"area": "autoscaling",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"],
	"summary": "HorizontalPodAutoscaler scales on utilization of a resource the containers do not request",
	"remediation": "Set resources.requests for the resource the HorizontalPodAutoscaler scales on, on every container of the pod template.",
	"scope": "related",
	"reads": ["autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	input.workload.hpa != null
	not input.workload.template_from
	some target in input.workload.hpa.utilization
	some ref in input.workload.all_containers
	ref.type == "container"
	counted(ref, target.container)
	not resources.set_in_container(ref.container, "requests", target.resource)
	not resources.limit_range_default("requests", target.resource)
	not resources.pod_level("requests", target.resource)
	v := {
		"msg": sprintf("container %q has no %s request, but HorizontalPodAutoscaler %q scales on %s utilization, which it cannot compute without one", [
			ref.display_name, target.resource, input.workload.hpa.name, target.resource,
		]),
		"path": array.concat(ref.path, ["resources"]),
	}
}

counted(_, container) if container == null

counted(ref, container) if ref.name == container
