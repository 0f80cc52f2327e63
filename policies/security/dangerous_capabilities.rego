# What it does: flags containers (regular, init, native sidecar, ephemeral) whose
#   securityContext.capabilities.add lists a capability outside the baseline set: AUDIT_WRITE, CHOWN,
#   DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
#   SYS_CHROOT (Pod Security Standards, baseline, control "Capabilities"). Names are compared exactly,
#   as Pod Security Admission does: "chown" and "CAP_CHOWN" are rejected too.
# Why: the baseline set is the container runtime's default set without NET_RAW. Anything beyond it
#   widens what a compromised process can do to the node: NET_RAW forges packets, NET_ADMIN rewrites
#   the pod's and sometimes the node's networking, SYS_ADMIN and SYS_PTRACE open escapes to the host.
# Example:
#   # fails
#   securityContext:
#     capabilities:
#       add: [NET_ADMIN, SYS_TIME]
#   # passes
#   securityContext:
#     capabilities:
#       drop: [ALL]
#       add: [NET_BIND_SERVICE]
# Fix: remove the capability from capabilities.add, or move the workload to a namespace meant for
#   privileged system components.
package seaworthy.rules.security.dangerous_capabilities

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "dangerous-capabilities",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container adds a capability beyond the baseline set",
	"remediation": "Remove capabilities that are not in the baseline set from securityContext.capabilities.add.",
	"level": "baseline",
	"control": "capabilities_baseline",
}

# kubernetes/pod-security-admission, policy/check_capabilities_baseline.go (one version, since 1.0).
allowed := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

violations contains v if {
	some ref in input.workload.all_containers
	some i, capability in values.items(ref.container.securityContext.capabilities.add)
	is_string(capability)
	not capability in allowed
	v := {
		"msg": message(ref.display_name, capability),
		"path": array.concat(ref.path, ["securityContext", "capabilities", "add", i]),
	}
}

message(name, capability) := sprintf(
	"container %q adds capability %q, which the baseline Pod Security Standard forbids: it accepts only the exact name %q",
	[name, capability, canonical],
) if {
	canonical := canonical_name(capability)
	canonical in allowed
} else := sprintf("container %q adds capability %q, which the baseline Pod Security Standard forbids", [name, capability])

# The spelling a container runtime would also accept: any case, with or without the CAP_ prefix.
canonical_name(capability) := trim_prefix(upper(capability), "CAP_")
