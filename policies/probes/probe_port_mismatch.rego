# What it does: flags a livenessProbe, readinessProbe or startupProbe (httpGet, tcpSocket or grpc)
#   of a container or native sidecar whose port cannot work: a port name that is not the name of
#   one of the container's own ports (the kubelet resolves a probe's port name against the probed
#   container only, so such a probe never succeeds; a port of another container of the pod does not
#   count), or a number in quotes ("8080"), which is a port name, and one the API server rejects
#   since port names need a letter. A numeric port is never flagged, listed in `ports` or not:
#   `ports` is informational, and the kubelet probes that number on the pod's IP whatever the
#   container declares (ingress-nginx probes 10254, kubebuilder operators 8081, and both work).
#   Every probe that is written is checked, in every workload kind: the kubelet runs them all.
# Why: a probe on the wrong port fails every time: a failing livenessProbe restarts the container
#   forever, a failing readinessProbe keeps the pod out of every Service, a failing startupProbe
#   does both. These mismatches creep in when a port is renamed or moved and the probes are not.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       ports:
#         - {name: http, containerPort: 8080}
#       readinessProbe:
#         httpGet: {path: /ready, port: web}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       ports:
#         - {name: http, containerPort: 8080}
#       readinessProbe:
#         httpGet: {path: /ready, port: http}
# Fix: point the probe at the name of a port the container declares, or at a port number (unquoted).
package seaworthy.rules.probes.probe_port_mismatch

import rego.v1

import data.seaworthy.lib.probes
import data.seaworthy.lib.values

metadata := {
	"id": "probe-port-mismatch",
	"area": "probes",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Probe checks a port the container does not have",
	"remediation": "Point each probe at a port name the container declares, or at an unquoted port number.",
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.type in long_running_types
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	handler := ref.container[probe]
	is_object(handler)
	# Not grpc: its port is a plain integer (a string there fails decoding), so it has neither
	# problem below.
	some action in ["httpGet", "tcpSocket"]
	port := handler[action].port
	is_string(port)
	not declared(port, ref.container)
	some problem in mismatch(port, action, ref)
	v := {
		"msg": sprintf("container %q has %s port %s", [ref.display_name, probe, problem]),
		"path": array.concat(ref.path, [probe, action, "port"]),
	}
}

# The common cases, told cheaply: a port written as a number (only a string can be either problem
# below), or the name or number of one of the container's own ports. (The webhook runs this rule
# on every workload it admits.)
declared(port, container) if {
	is_array(container.ports)
	some p in container.ports
	is_number(p.containerPort)
	# The port is a string here and containerPort a number, so only the name can match.
	p.name == port
}

# A number in quotes. (grpc.port is a plain integer: a string there fails decoding instead.)
mismatch(port, action, _) := {sprintf("%q in quotes, which the API server reads as a port name and rejects", [port])} if {
	action != "grpc"
	is_string(port)
	values.digits(port)
}

mismatch(port, action, ref) := {sprintf("%q, which names none of its ports%s", [port, elsewhere(port, ref)])} if {
	action != "grpc"
	is_string(port)
	not values.digits(port)
	not probes.port_number(port, ref.container)
}

# The other running containers of the pod that declare the port name: a probe does not reach them
# by name.
elsewhere(port, ref) := sprintf("; %s declares it", [concat(" and ", [sprintf("container %q", [name]) | some name in sort(owners(port, ref))])]) if {
	count(owners(port, ref)) > 0
}

elsewhere(port, ref) := "" if count(owners(port, ref)) == 0

owners(port, ref) := {other.display_name |
	some other in input.workload.all_containers
	other.type in long_running_types
	other.path != ref.path
	some p in probes.declared_ports(other.container)
	has_port(p, port)
}

has_port(p, port) if p.name == port
else := true if p.containerPort == port

# The containers that run beside the app and can have probes: regular ones and native sidecars.
long_running_types := {"container", "sidecar"}
