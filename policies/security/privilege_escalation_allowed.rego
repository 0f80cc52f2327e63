# What it does: flags containers that do not set securityContext.allowPrivilegeEscalation to false:
#   regular, init, native sidecar and ephemeral (kubectl debug) containers alike (Pod Security
#   Standards, restricted, control "Privilege Escalation"). Windows pods (spec.os.name: windows) are
#   exempt, as in the standard: the field does not exist on Windows.
# Why: the field defaults to true, so a process can gain more privileges than its parent through
#   set-user-ID binaries or file capabilities (no_new_privs is not set). A compromised process in a
#   non-root container can then become root inside it.
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
#         allowPrivilegeEscalation: false
# Fix: set securityContext.allowPrivilegeEscalation: false on every container.
package seaworthy.rules.security.privilege_escalation_allowed

import rego.v1

metadata := {
	"id": "privilege-escalation-allowed",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container allows privilege escalation",
	"remediation": "Set securityContext.allowPrivilegeEscalation: false on the container.",
	"level": "restricted",
	"control": "allowPrivilegeEscalation",
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	ref.container.securityContext.allowPrivilegeEscalation == true
	v := {
		"msg": sprintf("container %q sets securityContext.allowPrivilegeEscalation to true", [ref.display_name]),
		"path": array.concat(ref.path, ["securityContext", "allowPrivilegeEscalation"]),
	}
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	not is_set(ref.container.securityContext.allowPrivilegeEscalation)
	v := {
		"msg": sprintf("container %q does not set securityContext.allowPrivilegeEscalation to false (it defaults to true)", [ref.display_name]),
		"path": ref.path,
	}
}

# A value that is neither true nor false (a quoted "false") is rejected by the API server; say what
# the standard wants, at the field.
violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	value := ref.container.securityContext.allowPrivilegeEscalation
	value != null
	not is_boolean(value)
	v := {
		"msg": sprintf("container %q sets securityContext.allowPrivilegeEscalation to %s, which is not the boolean false", [ref.display_name, shown(value)]),
		"path": array.concat(ref.path, ["securityContext", "allowPrivilegeEscalation"]),
	}
}

shown(value) := sprintf("%q", [value]) if is_string(value)

shown(value) := sprintf("%v", [value]) if not is_string(value)

# `null` is what a template leaves behind when it renders nothing; the API server stores it as unset.
is_set(value) if value != null

windows_pod if input.workload.pod_spec.os.name == "windows"
