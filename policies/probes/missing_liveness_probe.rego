# What it does: flags long-running containers (regular containers and native sidecars) that have no
#   livenessProbe.
# Why: a process that deadlocks or stops serving without exiting is never restarted; the pod stays
#   Running while doing nothing. Init containers, Jobs, CronJobs and Pods with restartPolicy Never or
#   OnFailure run to completion and are not checked.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       livenessProbe:
#         httpGet: {path: /healthz, port: 8080}
# Fix: add a livenessProbe that fails only when the process cannot recover by itself (never one that
#   checks a database or another service).
package seaworthy.rules.probes.missing_liveness_probe

import rego.v1

metadata := {
	"id": "missing-liveness-probe",
	"area": "probes",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Rollout"],
	"summary": "Container has no liveness probe",
	"remediation": "Add a livenessProbe to each long-running container.",
}

violations contains v if {
	not runs_to_completion
	some ref in input.workload.all_containers
	ref.type in {"container", "sidecar"}
	not has_liveness_probe(ref.container)
	v := {
		"msg": sprintf("container %q has no livenessProbe", [ref.display_name]),
		"path": ref.path,
	}
}

# `livenessProbe: null` is what a template leaves behind when it renders no probe; the API server
# stores it as absent.
has_liveness_probe(container) if container.livenessProbe != null

# A bare Pod that is not restarted is a one-off task: a liveness probe has nothing to restart.
runs_to_completion if input.workload.pod_spec.restartPolicy in {"Never", "OnFailure"}
