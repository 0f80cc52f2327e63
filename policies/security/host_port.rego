# What it does: flags container ports with a non-zero hostPort, on regular, init, native sidecar and
#   ephemeral containers (Pod Security Standards, baseline, control "Host Ports"). hostPort 0 means
#   none and passes.
# Why: a hostPort opens the port on the node's own addresses, on every network the node is on,
#   outside the Service that normally fronts the pod (and, with some network plugins, outside its
#   NetworkPolicies). It also limits the workload to one pod per node for that port, so rollouts and
#   scale-ups stall.
# Example:
#   # fails
#   ports:
#     - containerPort: 8080
#       hostPort: 8080
#   # passes
#   ports:
#     - containerPort: 8080
# Fix: remove hostPort and expose the port through a Service (NodePort or LoadBalancer when it must
#   be reachable from outside the cluster).
package seaworthy.rules.security.host_port

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "host-port",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container binds a port on the node (hostPort)",
	"remediation": "Remove hostPort from the container ports and expose them through a Service.",
	"level": "baseline",
	"control": "hostPorts",
}

violations contains v if {
	some ref in input.workload.all_containers
	some i, port in values.items(ref.container.ports)
	non_zero(port.hostPort)
	v := {
		"msg": sprintf("container %q binds port %s of the node (hostPort: %s)", [ref.display_name, show(port.hostPort), show_raw(port.hostPort)]),
		"path": array.concat(ref.path, ["ports", i, "hostPort"]),
	}
}

non_zero(value) if {
	is_number(value)
	value != 0
}

# A quoted hostPort ("8080") is what a template that pipes the value through `quote` renders; the
# API server rejects it, but it still asks for the node's port: report it rather than stay silent.
non_zero(value) if {
	is_string(value)
	digits := trim_space(value)
	values.digits(digits)
	to_number(digits) != 0
}

show(value) := trim_space(value) if is_string(value)
else := sprintf("%v", [value])

show_raw(value) := sprintf("%q", [value]) if is_string(value)
else := sprintf("%v", [value])
