# What it does: flags containers (regular, init and native sidecar) that request more of a resource
#   than their limit allows, for any resource (cpu, memory, ephemeral-storage, hugepages, extended
#   resources), comparing the quantities exactly as the API server parses them: requests.memory
#   1Gi against limits.memory 1000Mi is flagged, requests.cpu 1000m against limits.cpu 1 is not.
#   Values that are not quantities are left to the API server. Ephemeral containers take no
#   resources and are not checked.
# Why: the API server rejects the object ("must be less than or equal to memory limit"), for a
#   workload's pod template as for a Pod, so the apply fails; this finds it before the deploy does.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {memory: 1Gi}
#         limits: {memory: 512Mi}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {memory: 512Mi}
#         limits: {memory: 1Gi}
# Fix: lower the request to at most the limit, or raise the limit.
package seaworthy.rules.resources.request_exceeds_limit

import rego.v1

metadata := {
	"id": "request-exceeds-limit",
	"area": "resources",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container requests more than its limit",
	"remediation": "Make each request at most the limit of the same resource.",
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
	some resource, request in ref.quantities.requests
	limit := ref.quantities.limits[resource]
	request > limit
	v := {
		"msg": sprintf("container %q requests %s %s, more than its limit of %s", [
			ref.display_name,
			shown(ref.container.resources.requests[resource]),
			label(resource),
			shown(ref.container.resources.limits[resource]),
		]),
		"path": array.concat(ref.path, ["resources", "requests", resource]),
	}
}

label("cpu") := "CPU"

label(resource) := resource if resource != "cpu"

# A quantity as written: a string as is, a YAML number in its decimal form.
shown(value) := value if is_string(value)

shown(value) := sprintf("%v", [value]) if not is_string(value)
