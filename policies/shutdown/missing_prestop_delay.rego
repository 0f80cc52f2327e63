# What it does: flags a Deployment, StatefulSet or Argo Rollout whose pods a Service of its
#   namespace selects while none of its containers has a preStop hook, naming the Service.
#   Any preStop hook counts (a `sleep` action, `sleep N`, or a drain script).
# Why: when a pod is deleted (a rollout, a scale-in, a node drain), the kubelet sends SIGTERM at
#   the same time as the endpoint controller removes the pod from the Service; kube-proxy, the
#   ingress controllers and the cloud load balancers learn of it seconds later and keep sending new
#   connections to a process that is already exiting: requests fail on every rollout. A short
#   preStop sleep keeps the pod serving until they have caught up.
# Example:
#   # fails (Service web selects these pods)
#   containers:
#     - name: web
#       image: nginx:1.27
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       lifecycle:
#         preStop:
#           sleep: {seconds: 5}
# Fix: add a preStop hook that waits a few seconds (`sleep: {seconds: 5}`, or exec `sleep 5` on
#   older clusters) and keep terminationGracePeriodSeconds above that wait plus the shutdown time.
package seaworthy.rules.shutdown.missing_prestop_delay

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.prestop

metadata := {
	"id": "missing-prestop-delay",
	"area": "shutdown",
	"severity": "notice",
	"kinds": ["Deployment", "StatefulSet", "Rollout"],
	"summary": "Pods behind a Service have no preStop delay",
	"remediation": "Add a preStop hook that waits a few seconds before the container gets SIGTERM, for example lifecycle.preStop.sleep.seconds: 5.",
	"scope": "related",
	"reads": ["v1/Service"],
}

# The Services that select the pods (with a selector, not ExternalName), from the workload view:
# matched once per run in Rust rather than every Service of the namespace tried in Rego.
services := {name | some name in input.workload.services}

violations contains v if {
	not input.workload.template_from
	count(services) > 0
	count(input.workload.containers) > 0
	not any_pre_stop
	v := {
		"msg": sprintf("%s %q is behind Service %s, but no container has a preStop hook: its pods get SIGTERM while load balancers still send them connections", [
			input.object.kind, names.object_name(input.object), concat(", ", [sprintf("%q", [s]) | some s in sort(services)]),
		]),
		"path": array.concat(input.workload.pod_spec_path, ["containers"]),
	}
}

any_pre_stop if {
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
	prestop.has_pre_stop(ref.container)
}
