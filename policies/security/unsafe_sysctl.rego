# What it does: flags sysctls in the pod's securityContext.sysctls that are not in the baseline's
#   safe set (Pod Security Standards, baseline, control "Sysctls", policy version 1.37):
#   kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start,
#   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports,
#   net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl,
#   net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem, net.ipv4.tcp_wmem,
#   net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat.
# Why: a safe sysctl is namespaced and isolated from other pods on the node. Any other sysctl can
#   change the node's kernel for every pod or weaken a protection; the kubelet also refuses to start
#   a pod with an unsafe sysctl unless the node allows it explicitly, so such a pod often fails at
#   start-up.
# Example:
#   # fails
#   securityContext:
#     sysctls:
#       - name: net.core.somaxconn
#         value: "4096"
#   # passes
#   securityContext:
#     sysctls:
#       - name: net.ipv4.ip_local_port_range
#         value: "1024 65535"
# Fix: remove the sysctl, or tune it on the nodes (node configuration, tuning DaemonSet in a
#   privileged namespace) instead of in the pod.
package seaworthy.rules.security.unsafe_sysctl

import rego.v1

import data.seaworthy.lib.values

metadata := {
	"id": "unsafe-sysctl",
	"area": "security",
	"severity": "error",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Pod sets a sysctl outside the safe set",
	"remediation": "Remove sysctls that are not in the safe set from securityContext.sysctls and tune them on the nodes instead.",
	"level": "baseline",
	"control": "sysctls",
}

# kubernetes/pod-security-admission, policy/check_sysctls.go, sysctlsAllowedV1Dot37 (the union of
# the 1.0, 1.27, 1.29, 1.32 and 1.37 sets).
safe := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
	"net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_notsent_lowat",
}

violations contains v if {
	some i, sysctl in values.items(input.workload.pod_spec.securityContext.sysctls)
	is_string(sysctl.name)
	not sysctl.name in safe
	v := {
		"msg": sprintf("pod sets sysctl %q, which is not in the baseline Pod Security Standard's safe set", [sysctl.name]),
		"path": array.concat(input.workload.pod_spec_path, ["securityContext", "sysctls", i, "name"]),
	}
}
