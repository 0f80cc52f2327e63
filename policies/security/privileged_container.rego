# What it does: flags containers that set securityContext.privileged to true: regular, init,
#   native sidecar and ephemeral (kubectl debug) containers alike (Pod Security Standards,
#   baseline, control "Privileged Containers").
# Why: a privileged container has every capability and all of the host's devices; it can load kernel
#   modules, read other pods' memory and take over the node. One compromised privileged container is
#   a compromised node.
# Example:
#   # fails
#   containers:
#     - name: agent
#       image: example.com/agent:2.3
#       securityContext:
#         privileged: true
#   # passes
#   containers:
#     - name: agent
#       image: example.com/agent:2.3
#       securityContext:
#         privileged: false
#         capabilities: {add: [NET_ADMIN]}
# Fix: remove privileged: true and add only the Linux capabilities the process needs.
package seaworthy.rules.security.privileged_container

import rego.v1

metadata := {
	"id": "privileged-container",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container runs privileged",
	"remediation": "Remove securityContext.privileged: true and add only the capabilities the container needs.",
	"level": "baseline",
	"control": "privileged",
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.container.securityContext.privileged == true
	v := {
		"msg": sprintf("container %q runs privileged", [ref.display_name]),
		"path": array.concat(ref.path, ["securityContext", "privileged"]),
	}
}

