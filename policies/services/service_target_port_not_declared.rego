# What it does: flags a Service port whose targetPort is a name (`targetPort: http`) that the
#   containers of a workload it selects do not declare (`ports: [{name: http, ...}]`), naming those
#   workloads. A numeric targetPort is not judged (a container need not declare the ports it
#   listens on), nor is a Service that selects no workload (service-selects-nothing).
# Why: a named targetPort is resolved per pod; a pod that declares no port of that name is left
#   out of the Service's endpoints for it, so the Service sends that pod no traffic (and none at
#   all when no selected pod declares it), without any error.
# Example:
#   # fails: the container's port is named "web"
#   kind: Service
#   spec:
#     ports:
#       - port: 80
#         targetPort: http
#   # passes
#   containers:
#     - name: web
#       ports:
#         - name: http
#           containerPort: 8080
# Fix: name the container port as the Service's targetPort says (or use the port number).
package seaworthy.rules.services.service_target_port_not_declared

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "service-target-port-not-declared",
	"area": "services",
	"severity": "warning",
	"kinds": ["Service"],
	"summary": "Service targetPort names a port no selected container declares",
	"remediation": "Name a container port as the Service's targetPort says, or use the port number.",
	"scope": "complete",
}

violations contains v if {
	is_array(input.related.workloads)
	count(input.related.workloads) > 0
	some i, port in values.items(input.object.spec.ports)
	is_string(port.targetPort)
	missing := [w | some w in input.related.workloads; not declares(w, port.targetPort)]
	count(missing) > 0
	v := {
		"msg": sprintf("Service %q port %s targets the port named %q, which %s", [
			names.object_name(input.object),
			port_label(port, i),
			port.targetPort,
			missing_text(missing),
		]),
		"path": ["spec", "ports", i, "targetPort"],
	}
}

declares(workload, name) if name in workload.port_names

port_label(port, _) := sprintf("%q", [port.name]) if names.named(port.name)

port_label(port, i) := sprintf("%v", [port.port]) if {
	not names.named(port.name)
	port.port
}

port_label(port, i) := sprintf("#%d", [i]) if {
	not names.named(port.name)
	not port.port
}

missing_text(missing) := sprintf("the containers of %s do not declare: the Service has no endpoint for it", [workload_list(missing)]) if {
	count(missing) == count(input.related.workloads)
}

missing_text(missing) := sprintf("the containers of %s do not declare: their pods get no traffic on it", [workload_list(missing)]) if {
	count(missing) < count(input.related.workloads)
}

workload_list(ws) := concat(", ", sort([sprintf("%s %q", [w.kind, w.name]) | some w in ws]))
