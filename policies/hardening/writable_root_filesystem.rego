# What it does: flags containers (regular, init and native sidecar) that do not set
#   securityContext.readOnlyRootFilesystem to true. Ephemeral (kubectl debug) containers are not
#   checked: they are added by hand to investigate, not deployed. Windows pods
#   (spec.os.name: windows) are not checked: the API server rejects the field there.
# Why: a writable root filesystem lets an attacker who got code execution drop tools, change
#   binaries and configuration, or plant persistence that lives as long as the container; it also
#   hides state that should live in a volume and is lost on restart.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       securityContext:
#         readOnlyRootFilesystem: true
#       volumeMounts:
#         - {name: cache, mountPath: /var/cache/nginx}
# Fix: set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process
#   writes (/tmp, caches, pid files).
package seaworthy.rules.hardening.writable_root_filesystem

import rego.v1

metadata := {
	"id": "writable-root-filesystem",
	"area": "hardening",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container root filesystem is writable",
	"remediation": "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the container writes.",
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	ref.type in {"container", "init", "sidecar"}
	field := ref.container.securityContext.readOnlyRootFilesystem
	field != null
	field != true
	v := {
		"msg": sprintf("container %q sets securityContext.readOnlyRootFilesystem to %s", [ref.display_name, shown(field)]),
		"path": array.concat(ref.path, ["securityContext", "readOnlyRootFilesystem"]),
	}
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	ref.type in {"container", "init", "sidecar"}
	not is_set(ref.container.securityContext.readOnlyRootFilesystem)
	v := {
		"msg": sprintf("container %q does not set securityContext.readOnlyRootFilesystem to true", [ref.display_name]),
		"path": ref.path,
	}
}

shown(false) := "false"

shown(value) := sprintf("%q, which is not the boolean true", [value]) if is_string(value)

shown(value) := sprintf("%v, which is not the boolean true", [value]) if {
	not is_string(value)
	value != false
}

# `null` is what a template leaves behind when it renders nothing; the API server stores it as unset.
is_set(value) if value != null

windows_pod if input.workload.pod_spec.os.name == "windows"
