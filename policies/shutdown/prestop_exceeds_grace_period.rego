# What it does: flags a container whose preStop hook sleeps as long as the pod's
#   terminationGracePeriodSeconds (30 when unset) or longer. The grace period counts from the
#   start of the preStop hook, so the process gets SIGTERM only when the sleep ends, and SIGKILL
#   when the grace period does.
# Why: with no time left after the sleep, the process is killed mid-request instead of shutting
#   down: open connections are cut and in-flight work is lost on every rollout.
# Example:
#   # fails
#   terminationGracePeriodSeconds: 10
#   containers:
#     - lifecycle:
#         preStop:
#           exec: {command: ["sleep", "15"]}
#   # passes
#   terminationGracePeriodSeconds: 45
# Fix: set terminationGracePeriodSeconds to the preStop sleep plus the time the process needs to
#   shut down, or shorten the sleep.
package seaworthy.rules.shutdown.prestop_exceeds_grace_period

import rego.v1

import data.seaworthy.lib.prestop

metadata := {
	"id": "prestop-exceeds-grace-period",
	"area": "shutdown",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "preStop sleep as long as the termination grace period",
	"remediation": "Set terminationGracePeriodSeconds to the preStop sleep plus the time the process needs to shut down.",
}

grace := object.get(input.workload.pod_spec, "terminationGracePeriodSeconds", 30)

violations contains v if {
	is_number(grace)
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
	seconds := prestop.sleep_seconds(ref.container)
	seconds >= grace
	v := {
		"msg": sprintf("container %q sleeps %vs in its preStop hook, but terminationGracePeriodSeconds is %v%s: the process is killed before it can shut down", [
			ref.display_name, seconds, grace, default_note,
		]),
		"path": array.concat(ref.path, ["lifecycle", "preStop"]),
	}
}

default_note := " (the default)" if not is_number(input.workload.pod_spec.terminationGracePeriodSeconds)

default_note := "" if is_number(input.workload.pod_spec.terminationGracePeriodSeconds)
