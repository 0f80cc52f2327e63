# What it does: flags seLinuxOptions in the pod's or a container's securityContext (regular, init,
#   native sidecar, ephemeral) that set a type other than container_t, container_init_t,
#   container_kvm_t or container_engine_t, or that set any user or role (Pod Security Standards,
#   baseline, control "SELinux"). One finding per offending field; level (the MCS categories) is
#   allowed.
# Why: on SELinux nodes the container types confine what a container can touch on the host. A type
#   such as spc_t ("super privileged container") or unconfined_t, or a custom user or role, lifts that
#   confinement.
# Example:
#   # fails
#   securityContext:
#     seLinuxOptions:
#       type: spc_t
#   # passes
#   securityContext:
#     seLinuxOptions:
#       type: container_t
#       level: "s0:c123,c456"
# Fix: remove the SELinux type, user and role overrides, or use one of the container types.
package seaworthy.rules.security.selinux_override

import rego.v1

metadata := {
	"id": "selinux-override",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod or container overrides its SELinux type, user or role",
	"remediation": "Remove seLinuxOptions.user and seLinuxOptions.role, and use a container SELinux type (container_t, container_init_t, container_kvm_t or container_engine_t) or none.",
	"level": "baseline",
	"control": "seLinuxOptions",
}

# kubernetes/pod-security-admission, policy/check_seLinuxOptions.go, selinuxAllowedTypes1_31 (the
# newest set; the empty string means unset).
allowed_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

# Every place seLinuxOptions can be set, with who sets it and its path. Only options that are an
# object can set anything; testing that first also keeps the RVM from building the entry of every
# container without options (there, binding an undefined value does not end the body).
settings contains {"who": "pod", "options": options, "path": array.concat(input.workload.pod_spec_path, ["securityContext", "seLinuxOptions"])} if {
	options := input.workload.pod_spec.securityContext.seLinuxOptions
	is_object(options)
}

settings contains {"who": sprintf("container %q", [ref.display_name]), "options": options, "path": array.concat(ref.path, ["securityContext", "seLinuxOptions"])} if {
	some ref in input.workload.all_containers
	options := ref.container.securityContext.seLinuxOptions
	is_object(options)
}

violations contains v if {
	some setting in settings
	selinux_type := setting.options.type
	is_string(selinux_type)
	not selinux_type in allowed_types
	v := {
		"msg": sprintf("%s sets SELinux type %q, which the baseline Pod Security Standard forbids: only container_t, container_init_t, container_kvm_t and container_engine_t are allowed", [setting.who, selinux_type]),
		"path": array.concat(setting.path, ["type"]),
	}
}

violations contains v if {
	some setting in settings
	some field in ["user", "role"]
	value := setting.options[field]
	is_string(value)
	value != ""
	v := {
		"msg": sprintf("%s sets SELinux %s %q, which the baseline Pod Security Standard forbids", [setting.who, field, value]),
		"path": array.concat(setting.path, [field]),
	}
}
