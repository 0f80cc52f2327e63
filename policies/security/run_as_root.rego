# What it does: flags a pod or container that sets securityContext.runAsUser to 0 (root): the
#   pod-level setting and regular, init, native sidecar and ephemeral containers (Pod Security
#   Standards, restricted, control "Running as Non-root user"). The pod-level value is flagged even
#   when every container overrides it, as the standard does. Pods with hostUsers: false get no
#   exception: that relaxation is an opt-in of the API server that is off by default.
# Why: runAsUser: 0 runs the process as root whatever the image says, and it also defeats
#   runAsNonRoot. Root in a container is one kernel bug or one writable host mount away from root
#   on the node.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       securityContext:
#         runAsUser: 0
#   # passes
#   containers:
#     - name: web
#       image: nginxinc/nginx-unprivileged:1.27
#       securityContext:
#         runAsUser: 101
# Fix: remove runAsUser: 0, or set a non-zero UID the image can run as.
package seaworthy.rules.security.run_as_root

import rego.v1

metadata := {
	"id": "run-as-root",
	"area": "security",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod or container runs as UID 0",
	"remediation": "Remove runAsUser: 0 or set a non-zero UID the image can run as.",
	"level": "restricted",
	"control": "runAsUser",
}

violations contains v if {
	input.workload.pod_spec.securityContext.runAsUser == 0
	v := {
		"msg": "pod sets securityContext.runAsUser to 0 (root)",
		"path": array.concat(input.workload.pod_spec_path, ["securityContext", "runAsUser"]),
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.container.securityContext.runAsUser == 0
	v := {
		"msg": sprintf("container %q sets securityContext.runAsUser to 0 (root)", [ref.display_name]),
		"path": array.concat(ref.path, ["securityContext", "runAsUser"]),
	}
}
