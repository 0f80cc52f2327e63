# What it does: flags pods whose containers are not all required to run as a non-root user: a
#   container whose securityContext.runAsNonRoot is not true while the pod-level
#   securityContext.runAsNonRoot is not true either, and any pod or container that sets it to false
#   (Pod Security Standards, restricted, control "Running as Non-root"). Regular, init, native
#   sidecar and ephemeral containers are checked; a container's own setting overrides the pod's.
# Why: with runAsNonRoot: true the kubelet refuses to start a container whose image would run as UID
#   0, so a root image cannot slip through. Root in a container is one kernel bug or one writable
#   host mount away from root on the node.
# Example:
#   # fails
#   spec:
#     containers:
#       - name: web
#         image: nginx:1.27
#   # passes
#   spec:
#     securityContext:
#       runAsNonRoot: true
#     containers:
#       - name: web
#         image: nginxinc/nginx-unprivileged:1.27
# Fix: set securityContext.runAsNonRoot: true in the pod spec (or on every container), and run an
#   image whose user is a non-zero UID.
package seaworthy.rules.security.missing_run_as_non_root

import rego.v1

metadata := {
	"id": "missing-run-as-non-root",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container may run as root",
	"remediation": "Set securityContext.runAsNonRoot: true in the pod spec or on each container, and use an image that runs as a non-zero UID.",
	"level": "restricted",
	"control": "runAsNonRoot",
}

pod_context_path := array.concat(input.workload.pod_spec_path, ["securityContext", "runAsNonRoot"])

# The standard rejects a pod-level false even when every container overrides it.
violations contains v if {
	input.workload.pod_spec.securityContext.runAsNonRoot == false
	v := {
		"msg": "pod sets securityContext.runAsNonRoot to false",
		"path": pod_context_path,
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.container.securityContext.runAsNonRoot == false
	v := {
		"msg": sprintf("container %q sets securityContext.runAsNonRoot to false", [ref.display_name]),
		"path": array.concat(ref.path, ["securityContext", "runAsNonRoot"]),
	}
}

# A container that leaves it unset inherits the pod's value. When the pod says false, the finding
# above already names the field to change.
violations contains v if {
	not pod_sets_it
	some ref in input.workload.all_containers
	not is_set(ref.container.securityContext.runAsNonRoot)
	v := {
		"msg": sprintf("container %q does not set securityContext.runAsNonRoot to true, and neither does the pod", [ref.display_name]),
		"path": ref.path,
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	value := ref.container.securityContext.runAsNonRoot
	value != null
	not is_boolean(value)
	v := {
		"msg": sprintf("container %q sets securityContext.runAsNonRoot to %s, which is not the boolean true", [ref.display_name, shown(value)]),
		"path": array.concat(ref.path, ["securityContext", "runAsNonRoot"]),
	}
}

pod_sets_it if input.workload.pod_spec.securityContext.runAsNonRoot == true

pod_sets_it if input.workload.pod_spec.securityContext.runAsNonRoot == false

shown(value) := sprintf("%q", [value]) if is_string(value)

shown(value) := sprintf("%v", [value]) if not is_string(value)

# `null` is what a template leaves behind when it renders nothing; the API server stores it as unset.
is_set(value) if value != null
