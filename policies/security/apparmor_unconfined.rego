# What it does: flags AppArmor settings other than RuntimeDefault and Localhost: an
#   appArmorProfile.type of Unconfined (or any other value) in the pod's or a container's
#   securityContext, and a legacy annotation
#   container.apparmor.security.beta.kubernetes.io/<container> on the pod template whose value is not
#   runtime/default or localhost/<profile> (Pod Security Standards, baseline, control "AppArmor").
#   Pod Security Admission still enforces the deprecated annotation, so both are checked.
# Why: the runtime's default AppArmor profile blocks writes to /proc and /sys, mounts and other
#   operations a container has no business doing on the node. Unconfined switches that protection
#   off.
# Example:
#   # fails
#   metadata:
#     annotations:
#       container.apparmor.security.beta.kubernetes.io/web: unconfined
#   spec:
#     securityContext:
#       appArmorProfile:
#         type: Unconfined
#   # passes
#   spec:
#     securityContext:
#       appArmorProfile:
#         type: Localhost
#         localhostProfile: k8s-nginx
# Fix: remove the Unconfined profile (the runtime default then applies) or set type RuntimeDefault or
#   Localhost with a profile loaded on the nodes.
package seaworthy.rules.security.apparmor_unconfined

import rego.v1

metadata := {
	"id": "apparmor-unconfined",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod or container runs without AppArmor confinement",
	"remediation": "Set appArmorProfile.type to RuntimeDefault or Localhost, or remove the Unconfined profile and its annotation.",
	"level": "baseline",
	"control": "appArmorProfile",
}

allowed_types := {"RuntimeDefault", "Localhost"}

annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

violations contains v if {
	profile_type := input.workload.pod_spec.securityContext.appArmorProfile.type
	is_string(profile_type)
	profile_type != ""
	not profile_type in allowed_types
	v := {
		"msg": sprintf("pod %s", [field_problem(profile_type)]),
		"path": array.concat(input.workload.pod_spec_path, ["securityContext", "appArmorProfile", "type"]),
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	profile_type := ref.container.securityContext.appArmorProfile.type
	is_string(profile_type)
	profile_type != ""
	not profile_type in allowed_types
	v := {
		"msg": sprintf("container %q %s", [ref.display_name, field_problem(profile_type)]),
		"path": array.concat(ref.path, ["securityContext", "appArmorProfile", "type"]),
	}
}

violations contains v if {
	some key, value in input.workload.pod_annotations
	startswith(key, annotation_prefix)
	is_string(value)
	not allowed_annotation_value(value)
	container := substring(key, count(annotation_prefix), -1)
	v := {
		"msg": annotation_problem(container, key, value),
		"path": array.concat(input.workload.pod_metadata_path, ["annotations", key]),
	}
}

field_problem("Unconfined") := "runs without AppArmor confinement (appArmorProfile.type: Unconfined)"

field_problem(profile_type) := msg if {
	profile_type != "Unconfined"
	msg := sprintf("sets appArmorProfile.type %q, which the baseline Pod Security Standard forbids: only RuntimeDefault and Localhost are allowed", [profile_type])
}

allowed_annotation_value(value) if value in {"", "runtime/default"}

allowed_annotation_value(value) if startswith(value, "localhost/")

annotation_problem(container, key, "unconfined") := sprintf("container %q runs without AppArmor confinement (annotation %s: unconfined)", [container, key])

annotation_problem(container, key, value) := msg if {
	value != "unconfined"
	msg := sprintf("container %q sets AppArmor profile %q (annotation %s), which the baseline Pod Security Standard forbids: only runtime/default and localhost/<profile> are allowed", [container, value, key])
}
