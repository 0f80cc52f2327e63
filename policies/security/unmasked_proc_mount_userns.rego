# What it does: flags containers that set securityContext.procMount to anything but Default in a pod
#   with hostUsers: false (Pod Security Standards, restricted, control "/proc Mount Type"). Regular,
#   init, native sidecar and ephemeral containers are checked. The baseline level allows this in a
#   user namespace and the restricted level does not; every other unmasked /proc is the finding of
#   the baseline rule unmasked-proc-mount.
# Why: the default /proc mount masks and makes read-only the paths that reveal or change host state
#   (/proc/kcore, /proc/sys, /proc/sysrq-trigger, ...). A user namespace limits what root in the
#   container can do with them, but the restricted level keeps the masks as a second line of
#   defence.
# Example:
#   # fails
#   spec:
#     hostUsers: false
#     containers:
#       - name: builder
#         image: quay.io/buildah/stable:v1.38
#         securityContext:
#           procMount: Unmasked
#   # passes
#   spec:
#     hostUsers: false
#     containers:
#       - name: builder
#         image: quay.io/buildah/stable:v1.38
# Fix: remove securityContext.procMount (or set it to Default), or run the pod in a namespace that
#   does not enforce the restricted level.
package seaworthy.rules.security.unmasked_proc_mount_userns

import rego.v1

metadata := {
	"id": "unmasked-proc-mount-userns",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container unmasks /proc in a user namespace",
	"remediation": "Remove securityContext.procMount or set it to Default.",
	"level": "restricted",
	"control": "procMount_restricted",
}

violations contains v if {
	input.workload.pod_spec.hostUsers == false
	some ref in input.workload.all_containers
	proc_mount := ref.container.securityContext.procMount
	is_string(proc_mount)
	not proc_mount in {"", "Default"}
	v := {
		"msg": sprintf("container %q sets securityContext.procMount to %v (in a user namespace, hostUsers: false)", [ref.display_name, proc_mount]),
		"path": array.concat(ref.path, ["securityContext", "procMount"]),
	}
}
