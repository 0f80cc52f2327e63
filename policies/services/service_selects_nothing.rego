# What it does: flags a Service whose selector matches the pod template of no workload in its
#   namespace (the blue-green switch that points at a colour no Deployment has, a label renamed on
#   one side only). Services without a selector (endpoints managed by hand) and ExternalName
#   Services are not judged. To avoid false alarms when only part of a repository is linted, a
#   Service is only judged when its namespace has workloads in the run, and not when the namespace
#   also holds custom resources whose operators may create the pods (see pdb-selects-nothing), nor in kube-system, whose control-plane
#   pods are static pods the kubelet starts from files on the node.
# Why: a Service that selects no pods has no endpoints: every connection to it is refused, and
#   nothing fails at apply time to say so.
# Example:
#   # fails (the pods are labelled app: web, version: blue)
#   kind: Service
#   spec:
#     selector: {app: web, version: green}
#   # passes
#   kind: Service
#   spec:
#     selector: {app: web, version: blue}
# Fix: make the selector match the pod template labels of the workload that serves the traffic
#   (or deploy that workload with the Service).
package seaworthy.rules.services.service_selects_nothing

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.operators

metadata := {
	"id": "service-selects-nothing",
	"area": "services",
	"severity": "warning",
	"kinds": ["Service"],
	# content: Operators' custom resources are found in data.inventory by kind alone.
	"content": ["Service"],
	"summary": "Service selects no pod template",
	"remediation": "Make the selector match the pod template labels of the workload that serves the traffic.",
	"scope": "complete",
}

violations contains v if {
	is_array(input.related.workloads)
	count(input.related.workloads) == 0
	input.related.namespace.workloads > 0
	not operators.may_create_pods(input.related.namespace.name)
	# The control plane's static pods (kube-scheduler, etcd, ...) are started by the kubelet from
	# files on the node, never from manifests of the run.
	input.related.namespace.name != "kube-system"
	v := {
		"msg": sprintf("Service %q selects %s, which no pod template in namespace %q carries (%s in the run), so it has no endpoints", [
			names.object_name(input.object),
			selector_text,
			input.related.namespace.name,
			workloads_text,
		]),
		"path": ["spec", "selector"],
	}
}

selector_text := concat(", ", sort([sprintf("%s=%s", [k, v]) | some k, v in input.object.spec.selector]))

workloads_text := "1 workload" if input.related.namespace.workloads == 1 else := sprintf("%d workloads", [input.related.namespace.workloads])
