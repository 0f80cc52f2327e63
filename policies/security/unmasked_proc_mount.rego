# What it does: flags containers (regular, init, native sidecar, ephemeral) whose
#   securityContext.procMount is anything but Default (in practice Unmasked), unless the pod runs in
#   a user namespace (spec.hostUsers: false), which the baseline allows since policy version 1.35
#   (Pod Security Standards, baseline, control "/proc Mount Type").
# Why: the runtime masks and makes read-only the parts of /proc that leak host information or let a
#   process change kernel settings (/proc/kcore, /proc/sys, /proc/sysrq-trigger, ...). An unmasked
#   /proc in the host's user namespace gives a container those files as the node's root sees them.
# Example:
#   # fails
#   spec:
#     containers:
#       - name: buildkitd
#         image: moby/buildkit:v0.16.0-rootless
#         securityContext:
#           procMount: Unmasked
#   # passes
#   spec:
#     hostUsers: false
#     containers:
#       - name: buildkitd
#         image: moby/buildkit:v0.16.0-rootless
#         securityContext:
#           procMount: Unmasked
# Fix: remove procMount (or set it to Default), or run the pod in a user namespace with
#   hostUsers: false.
package seaworthy.rules.security.unmasked_proc_mount

import rego.v1

metadata := {
	"id": "unmasked-proc-mount",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container unmasks /proc outside a user namespace",
	"remediation": "Remove securityContext.procMount or set it to Default, or set hostUsers: false on the pod to run it in a user namespace.",
	"level": "baseline",
	"control": "procMount",
}

violations contains v if {
	not user_namespace
	some ref in input.workload.all_containers
	proc_mount := ref.container.securityContext.procMount
	is_string(proc_mount)
	not proc_mount in {"", "Default"}
	v := {
		"msg": sprintf("container %q sets procMount: %s outside a user namespace (the pod does not set hostUsers: false)", [ref.display_name, proc_mount]),
		"path": array.concat(ref.path, ["securityContext", "procMount"]),
	}
}

# Only an explicit false: hostUsers defaults to true (the host's user namespace).
user_namespace if input.workload.pod_spec.hostUsers == false
