# What it does: flags containers that run without a seccomp profile because neither the container
#   nor the pod sets securityContext.seccompProfile, and a pod or container whose seccompProfile has
#   no type (Pod Security Standards, restricted, control "Seccomp"). A container's own profile
#   overrides the pod's. Regular, init, native sidecar and ephemeral containers are checked; Windows
#   pods (spec.os.name: windows) are exempt, as in the standard. A type other than RuntimeDefault or
#   Localhost (Unconfined, a typo) is the finding of the baseline rule seccomp-unconfined, so one
#   mistake gives one finding.
# Why: without a profile the container runtime runs the container unconfined (unless the kubelet
#   runs with --seccomp-default): every system call is open, including the ones most kernel exploits
#   go through. RuntimeDefault blocks those and very rarely breaks an application.
# Example:
#   # fails
#   spec:
#     containers:
#       - name: web
#         image: nginx:1.27
#   # passes
#   spec:
#     securityContext:
#       seccompProfile:
#         type: RuntimeDefault
#     containers:
#       - name: web
#         image: nginx:1.27
# Fix: set securityContext.seccompProfile.type: RuntimeDefault in the pod spec (or Localhost with a
#   profile installed on the nodes).
package seaworthy.rules.security.missing_seccomp_profile

import rego.v1

metadata := {
	"id": "missing-seccomp-profile",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container has no seccomp profile",
	"remediation": "Set securityContext.seccompProfile.type: RuntimeDefault in the pod spec, or Localhost with a profile installed on the nodes.",
	"level": "restricted",
	"control": "seccompProfile_restricted",
}

pod_profile := input.workload.pod_spec.securityContext.seccompProfile

violations contains v if {
	not windows_pod
	is_set(pod_profile)
	not has_type(pod_profile)
	v := {
		"msg": sprintf("pod %s", [problem(pod_profile)]),
		"path": type_path(array.concat(input.workload.pod_spec_path, ["securityContext", "seccompProfile"]), pod_profile),
	}
}

violations contains v if {
	not windows_pod
	some ref in input.workload.all_containers
	profile := ref.container.securityContext.seccompProfile
	is_set(profile)
	not has_type(profile)
	v := {
		"msg": sprintf("container %q %s", [ref.display_name, problem(profile)]),
		"path": type_path(array.concat(ref.path, ["securityContext", "seccompProfile"]), profile),
	}
}

# A container without a profile of its own inherits the pod's. When the pod sets one with a wrong
# type, the finding above (or seccomp-unconfined) already names the field to change.
violations contains v if {
	not windows_pod
	not is_set(pod_profile)
	some ref in input.workload.all_containers
	not is_set(ref.container.securityContext.seccompProfile)
	v := {
		"msg": sprintf("container %q has no securityContext.seccompProfile, and neither does the pod", [ref.display_name]),
		"path": ref.path,
	}
}

# Any other type string (Unconfined, a typo) is seccomp-unconfined's finding.
has_type(profile) if {
	is_string(profile.type)
	profile.type != ""
}

problem(profile) := "sets securityContext.seccompProfile without a type (RuntimeDefault or Localhost)" if is_object(profile)

problem(profile) := sprintf("sets securityContext.seccompProfile to %v instead of an object with a type (RuntimeDefault or Localhost)", [json.marshal(profile)]) if {
	not is_object(profile)
}

type_path(base, profile) := array.concat(base, ["type"]) if {
	is_object(profile)
	"type" in object.keys(profile)
}

type_path(base, profile) := base if {
	not is_object(profile)
}

type_path(base, profile) := base if {
	is_object(profile)
	not "type" in object.keys(profile)
}

# `null` is what a template leaves behind when it renders nothing; the API server stores it as unset.
is_set(value) if value != null

windows_pod if input.workload.pod_spec.os.name == "windows"
