# What it does: flags rollout strategies that take every pod down at once:
#   - a Deployment with strategy.type Recreate (all old pods are stopped before any new one starts);
#   - a RollingUpdate (or an Argo Rollout canary without traffic routing) whose maxUnavailable,
#     scaled as the controller does (percentages rounded down), is at least the replica count, or
#     whose maxSurge 0 with a maxUnavailable that rounds down to 0 makes the controller take one
#     pod down anyway when there is only one. The replica count is the workload's floor: the
#     HorizontalPodAutoscaler's minReplicas when one targets it, else spec.replicas.
#   Not flagged: a workload whose pod template mounts a persistentVolumeClaim volume (Recreate, or
#   an equivalent rolling update, is then the right choice: a ReadWriteOnce volume cannot be
#   attached to the new pod while the old one holds it, so the new pod would hang in
#   ContainerCreating), workloads scaled to zero, Argo Rollouts with blueGreen (the new version is
#   fully up before traffic switches) or with canary trafficRouting (maxUnavailable is then not
#   used: the stable pods stay until promotion).
# Why: with nothing left running, every rollout is an outage for as long as the new pods take to
#   start and pass their readiness probes, and a bad image leaves no pod serving at all.
# Example:
#   # fails
#   kind: Deployment
#   spec:
#     replicas: 2
#     strategy:
#       type: Recreate
#   # passes
#   kind: Deployment
#   spec:
#     replicas: 2
#     strategy:
#       type: RollingUpdate
#       rollingUpdate:
#         maxUnavailable: 0
#         maxSurge: 1
# Fix: use a RollingUpdate strategy whose maxUnavailable leaves at least one pod running, for
#   example maxUnavailable: 0 with maxSurge: 1.
package seaworthy.rules.rollout.unsafe_rollout_strategy

import data.seaworthy.lib.availability as av
import data.seaworthy.lib.intstr
import rego.v1

import data.seaworthy.lib.values

import data.seaworthy.lib.names

metadata := {
	"id": "unsafe-rollout-strategy",
	"area": "rollout",
	"severity": "warning",
	"kinds": ["Deployment", "Rollout"],
	"summary": "Rollout strategy can take every pod down at once",
	"remediation": "Use a RollingUpdate strategy whose maxUnavailable leaves at least one pod running, for example maxUnavailable: 0 with maxSurge: 1.",
	# related: whether every pod goes down at once depends on the autoscaler's floor as well as
	# spec.replicas, so the webhook judges it only with its cluster cache; it warns at most.
	"scope": "related",
	"reads": ["autoscaling/v2/HorizontalPodAutoscaler"],
}

violations contains v if {
	input.workload.kind == "Deployment"
	input.object.spec.strategy.type == "Recreate"
	runs_pods
	not mounts_claim
	v := {
		"msg": sprintf("%s uses the Recreate strategy: every pod is stopped before the new ones start, so each rollout is an outage", [
			av.workload(input.workload.kind, names.object_name(input.object)),
		]),
		"path": ["spec", "strategy", "type"],
	}
}

violations contains v if {
	some strategy in rolling
	runs_pods
	not mounts_claim
	n := av.min_pods(input.workload)
	intstr.scaled(strategy.max_unavailable, n, false) >= n
	v := {
		"msg": sprintf("maxUnavailable %s allows every pod of %s (%s) to be down at once during a rollout", [
			value_text(strategy.max_unavailable),
			av.workload(input.workload.kind, names.object_name(input.object)),
			av.floor_text(input.workload),
		]),
		"path": field_path(strategy.path, "maxUnavailable"),
	}
}

# The controllers' fencepost rule: when maxSurge and the rounded-down maxUnavailable are both 0,
# maxUnavailable becomes 1, which is every pod of a single-replica workload.
violations contains v if {
	some strategy in rolling
	runs_pods
	not mounts_claim
	av.min_pods(input.workload) == 1
	n := 1
	intstr.scaled(strategy.max_surge, n, true) == 0
	intstr.scaled(strategy.max_unavailable, n, false) == 0
	v := {
		"msg": sprintf("maxSurge 0 with maxUnavailable %s (0 of %s, rounded down) makes the controller take one pod down first: %s has no pod running during a rollout", [
			value_text(strategy.max_unavailable),
			av.floor_text(input.workload),
			av.workload(input.workload.kind, names.object_name(input.object)),
		]),
		"path": field_path(strategy.path, "maxSurge"),
	}
}

runs_pods if {
	is_number(av.min_pods(input.workload))
	av.min_pods(input.workload) > 0
}

# The rolling strategies, with their defaults (25% and 25% for both controllers).
rolling contains strategy if {
	input.workload.kind == "Deployment"
	object.get(input.object, ["spec", "strategy", "type"], null) in {null, "RollingUpdate"}
	strategy := with_defaults(["spec", "strategy", "rollingUpdate"])
}

rolling contains strategy if {
	input.workload.kind == "Rollout"
	is_object(input.object.spec.strategy.canary)
	object.get(input.object.spec.strategy.canary, "trafficRouting", null) == null
	strategy := with_defaults(["spec", "strategy", "canary"])
}

with_defaults(path) := {
	"path": path,
	"max_unavailable": field_or(path, "maxUnavailable", "25%"),
	"max_surge": field_or(path, "maxSurge", "25%"),
}

field_or(path, key, fallback) := value if {
	value := object.get(input.object, array.concat(path, [key]), null)
	value != null
} else := fallback

# The field when it is written, else the closest enclosing one that is.
field_path(path, key) := array.concat(path, [key]) if {
	object.get(input.object, array.concat(path, [key]), null) != null
} else := path if {
	object.get(input.object, path, null) != null
} else := ["spec", "strategy"] if {
	object.get(input.object, ["spec", "strategy"], null) != null
} else := ["spec"]

value_text(value) := sprintf("%q", [value]) if is_string(value) else := sprintf("%v", [value])

# Any PersistentVolumeClaim volume: while the old pod holds a ReadWriteOnce claim, a new pod on
# another node cannot attach it.
mounts_claim if {
	some volume in values.items(object.get(input.workload.pod_spec, "volumes", []))
	is_object(volume.persistentVolumeClaim)
}
