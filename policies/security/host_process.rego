# What it does: flags Windows HostProcess pods and containers: securityContext.windowsOptions.hostProcess
#   set to true at pod level or on any container (regular, init, native sidecar, ephemeral) (Pod
#   Security Standards, baseline, control "HostProcess").
# Why: a HostProcess container runs directly on the Windows node as a host process, with the node's
#   network and file system and, as SYSTEM, full control of the node. It is the Windows equivalent of
#   a privileged container.
# Example:
#   # fails
#   securityContext:
#     windowsOptions:
#       hostProcess: true
#       runAsUserName: "NT AUTHORITY\\SYSTEM"
#   hostNetwork: true
#   # passes
#   securityContext:
#     windowsOptions:
#       runAsUserName: ContainerUser
# Fix: remove windowsOptions.hostProcess: true; run node-level Windows agents outside the baseline
#   namespaces.
package seaworthy.rules.security.host_process

import rego.v1

metadata := {
	"id": "host-process",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod or container runs as a Windows HostProcess container",
	"remediation": "Remove securityContext.windowsOptions.hostProcess: true, or run the workload in a namespace meant for privileged node agents.",
	"level": "baseline",
	"control": "windowsHostProcess",
}

violations contains v if {
	input.workload.pod_spec.securityContext.windowsOptions.hostProcess == true
	v := {
		"msg": "pod runs as a Windows HostProcess pod (securityContext.windowsOptions.hostProcess: true)",
		"path": array.concat(input.workload.pod_spec_path, ["securityContext", "windowsOptions", "hostProcess"]),
	}
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.container.securityContext.windowsOptions.hostProcess == true
	v := {
		"msg": sprintf("container %q runs as a Windows HostProcess container (windowsOptions.hostProcess: true)", [ref.display_name]),
		"path": array.concat(ref.path, ["securityContext", "windowsOptions", "hostProcess"]),
	}
}
