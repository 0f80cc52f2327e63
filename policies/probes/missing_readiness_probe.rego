# What it does: flags long-running containers (regular containers and native sidecars) that have no
#   readinessProbe.
# Why: without one, a Service sends traffic to a pod before it can serve, and during a rollout old
#   pods are removed before new ones are ready. Init containers, Jobs, CronJobs and Pods with
#   restartPolicy Never or OnFailure run to completion and are not checked.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       readinessProbe:
#         httpGet: {path: /ready, port: 8080}
# Fix: add a readinessProbe that checks the endpoint the Service uses.
package seaworthy.rules.probes.missing_readiness_probe

import rego.v1

metadata := {
	"id": "missing-readiness-probe",
	"area": "probes",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Rollout"],
	"summary": "Container has no readiness probe",
	"remediation": "Add a readinessProbe to each long-running container.",
}

violations contains v if {
	not runs_to_completion
	some ref in input.workload.all_containers
	ref.type in {"container", "sidecar"}
	not has_readiness_probe(ref.container)
	v := {
		"msg": sprintf("container %q has no readinessProbe", [ref.name]),
		"path": ref.path,
	}
}

# `readinessProbe: null` is what a template leaves behind when it renders no probe; the API server
# stores it as absent.
has_readiness_probe(container) if container.readinessProbe != null

# A bare Pod that is not restarted is a one-off task: nothing routes traffic to it.
runs_to_completion if input.workload.pod_spec.restartPolicy in {"Never", "OnFailure"}
