# Probes as the kubelet runs them, for the probes rules.
package seaworthy.lib.probes

import rego.v1

# Containers that run for the pod's lifetime: regular containers and native sidecars, in a pod that
# is restarted. Ordinary init containers and ephemeral containers cannot have probes; a bare Pod
# with restartPolicy Never or OnFailure is a one-off task (Jobs and CronJobs are not checked).
# An array, not a set: the RVM steps through a set by looking up the element after the last one,
# comparing whole containers, which cost more than the rules that read this.
long_running := [ref |
	not runs_to_completion
	some ref in input.workload.all_containers
	ref.type in {"container", "sidecar"}
]

runs_to_completion if input.workload.pod_spec.restartPolicy in {"Never", "OnFailure"}

# The ports a container declares (`ports: null` declares none).
declared_ports(container) := container.ports if is_array(container.ports)
else := []

# The number a probe's port stands for: a number as is; a string is a port name, looked up in the
# probed container's own ports only (as the kubelet does). Undefined when the name is not there.
port_number(port, container) := port if is_number(port)
else := numbers[0] if {
	is_string(port)
	numbers := [p.containerPort | some p in declared_ports(container); p.name == port]
	count(numbers) > 0
}
