# What it does: flags a seccompProfile.type of Unconfined (or any value other than RuntimeDefault and
#   Localhost) in the pod's or a container's securityContext (regular, init, native sidecar,
#   ephemeral) (Pod Security Standards, baseline, control "Seccomp"). An unset profile passes the
#   baseline; the restricted level requires one.
# Why: the runtime's default seccomp filter blocks system calls that containers do not need and that
#   kernel exploits rely on (keyctl, unshare, bpf, mount, ...). Unconfined removes the filter, so a
#   kernel bug reachable through one of them becomes a node escape.
# Example:
#   # fails
#   securityContext:
#     seccompProfile:
#       type: Unconfined
#   # passes
#   securityContext:
#     seccompProfile:
#       type: RuntimeDefault
# Fix: set seccompProfile.type to RuntimeDefault, or to Localhost with a profile that allows the
#   extra system calls the workload needs.
package seaworthy.rules.security.seccomp_unconfined

import rego.v1

metadata := {
	"id": "seccomp-unconfined",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod or container runs without a seccomp filter",
	"remediation": "Set seccompProfile.type to RuntimeDefault, or to Localhost with a profile tailored to the workload.",
	"level": "baseline",
	"control": "seccompProfile_baseline",
}

allowed_types := {"RuntimeDefault", "Localhost"}

violations contains v if {
	profile_type := input.workload.pod_spec.securityContext.seccompProfile.type
	is_string(profile_type)
	profile_type != ""
	not profile_type in allowed_types
	v := {
		"msg": sprintf("pod %s", [problem(profile_type)]),
		"path": array.concat(input.workload.pod_spec_path, ["securityContext", "seccompProfile", "type"]),
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	profile_type := ref.container.securityContext.seccompProfile.type
	is_string(profile_type)
	profile_type != ""
	not profile_type in allowed_types
	v := {
		"msg": sprintf("container %q %s", [ref.display_name, problem(profile_type)]),
		"path": array.concat(ref.path, ["securityContext", "seccompProfile", "type"]),
	}
}

problem("Unconfined") := "runs without a seccomp filter (seccompProfile.type: Unconfined)"

problem(profile_type) := msg if {
	profile_type != "Unconfined"
	msg := sprintf("sets seccompProfile.type %q, which the baseline Pod Security Standard forbids: only RuntimeDefault and Localhost are allowed", [profile_type])
}
