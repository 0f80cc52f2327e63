# What it does: flags containers that do not drop ALL capabilities (securityContext.capabilities.drop
#   must include "ALL"), and containers that add a capability other than NET_BIND_SERVICE (Pod
#   Security Standards, restricted, control "Capabilities"). Regular, init, native sidecar and
#   ephemeral containers are checked; Windows pods (spec.os.name: windows) are exempt, as in the
#   standard. Added capabilities outside the baseline's default set (SYS_ADMIN, NET_ADMIN, ...) are
#   left to the baseline rule dangerous-capabilities, so one mistake gives one finding.
# Why: the container runtime grants a default set of capabilities (CHOWN, DAC_OVERRIDE, FOWNER,
#   SETUID, NET_RAW, ...) that most applications never use and that turn a compromised process into
#   a much stronger one: reading any file in the container, changing users, crafting raw packets.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       securityContext:
#         capabilities:
#           add: [CHOWN]
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       securityContext:
#         capabilities:
#           drop: [ALL]
#           add: [NET_BIND_SERVICE]
# Fix: set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE, if the
#   process binds a port below 1024.
package seaworthy.rules.security.capabilities_not_dropped

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "capabilities-not-dropped",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container keeps capabilities it does not need",
	"remediation": "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if the container binds a port below 1024.",
	"level": "restricted",
	"control": "capabilities_restricted",
}

# The baseline's default set: adding anything outside it is the finding of dangerous-capabilities.
# Of these, the restricted level allows only NET_BIND_SERVICE.
baseline_defaults := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

capabilities_path(ref) := array.concat(ref.path, ["securityContext", "capabilities"])

# Only the exact string "ALL" counts, as in the standard.
violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	not drops_all(ref.container)
	not drops_all_in_other_case(ref.container)
	v := {
		"msg": sprintf("container %q does not drop ALL capabilities in securityContext.capabilities.drop", [ref.display_name]),
		"path": drop_path(ref),
	}
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	not drops_all(ref.container)
	some i, capability in values.items(ref.container.securityContext.capabilities.drop)
	is_string(capability)
	upper(capability) == "ALL"
	v := {
		"msg": sprintf("container %q drops %q; the Pod Security Standards only accept \"ALL\" in upper case", [ref.display_name, capability]),
		"path": array.concat(capabilities_path(ref), ["drop", i]),
	}
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	forbidden := [i | some i, capability in values.items(ref.container.securityContext.capabilities.add); forbidden_add(capability)]
	count(forbidden) > 0
	names := [ref.container.securityContext.capabilities.add[i] | some i in forbidden]
	v := {
		"msg": sprintf("container %q adds %s %s in securityContext.capabilities.add; only NET_BIND_SERVICE may be added", [ref.display_name, plural(count(names)), concat(", ", names)]),
		"path": add_path(ref, forbidden),
	}
}

forbidden_add(capability) if {
	capability in baseline_defaults
	capability != "NET_BIND_SERVICE"
}

plural(1) := "capability"

plural(n) := "capabilities" if n != 1

# At the capability when there is one, else at the add list.
add_path(ref, [i]) := array.concat(capabilities_path(ref), ["add", i])

add_path(ref, forbidden) := array.concat(capabilities_path(ref), ["add"]) if count(forbidden) > 1

drops_all(container) if "ALL" in container.securityContext.capabilities.drop

drops_all_in_other_case(container) if {
	some capability in values.items(container.securityContext.capabilities.drop)
	is_string(capability)
	upper(capability) == "ALL"
}

# At the drop list when there is one, else at the container.
# (One definition with `else`: the RVM runs every definition of a function on each call.)
drop_path(ref) := array.concat(capabilities_path(ref), ["drop"]) if is_array(ref.container.securityContext.capabilities.drop)
else := ref.path

windows_pod if input.workload.pod_spec.os.name == "windows"
