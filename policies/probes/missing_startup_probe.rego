# What it does: flags long-running containers (regular containers and native sidecars) whose
#   livenessProbe waits `min_initial_delay_seconds` (default 60) or more before its first check
#   (initialDelaySeconds) while the container has no startupProbe. Jobs, CronJobs and Pods with
#   restartPolicy Never or OnFailure are not checked.
# Why: a long initial delay is a guess at the slowest start. When a start takes longer (a cold
#   cache, a slow node, a migration), the liveness probe kills the container before it is up and
#   the pod never starts; when it is quicker, a deadlock right after start goes unnoticed for the
#   whole delay, on every restart. A startupProbe holds the liveness probe back exactly until the
#   container has started, however long that takes, up to failureThreshold x periodSeconds.
# Example:
#   # fails
#   containers:
#     - name: search
#       image: opensearchproject/opensearch:2.17.1
#       livenessProbe:
#         httpGet: {path: /_cluster/health, port: 9200}
#         initialDelaySeconds: 120
#   # passes
#   containers:
#     - name: search
#       image: opensearchproject/opensearch:2.17.1
#       startupProbe:
#         httpGet: {path: /_cluster/health, port: 9200}
#         periodSeconds: 10
#         failureThreshold: 30
#       livenessProbe:
#         httpGet: {path: /_cluster/health, port: 9200}
# Fix: add a startupProbe that allows for the slowest start (failureThreshold x periodSeconds) and
#   drop the livenessProbe's initialDelaySeconds.
package seaworthy.rules.probes.missing_startup_probe

import rego.v1

import data.seaworthy.lib.probes

metadata := {
	"id": "missing-startup-probe",
	"area": "probes",
	"severity": "notice",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Rollout"],
	"summary": "Slow-starting container has no startup probe",
	"remediation": "Replace the livenessProbe's long initialDelaySeconds with a startupProbe.",
	"params": {"min_initial_delay_seconds": 60},
}

violations contains v if {
	# By its full path: through the `probes` import, a rule (not a function) is looked up in the
	# package's whole document, every rule of it evaluated, on each object.
	some ref in data.seaworthy.lib.probes.long_running
	delay := ref.container.livenessProbe.initialDelaySeconds
	is_number(delay)
	delay >= input.params.min_initial_delay_seconds
	not has_startup_probe(ref.container)
	v := {
		"msg": sprintf("container %q delays its livenessProbe by %vs and has no startupProbe", [ref.display_name, delay]),
		"path": array.concat(ref.path, ["livenessProbe", "initialDelaySeconds"]),
	}
}

# `startupProbe: null` is what a template leaves behind when it renders no probe.
has_startup_probe(container) if container.startupProbe != null
