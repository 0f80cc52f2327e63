# What it does: flags a NetworkPolicy whose podSelector selects the pods of none of the workloads
#   of its namespace in the run. To avoid false alarms when only part of a repository is linted, a
#   policy is only judged when its namespace has at least one workload in the run; pods made by
#   operators from custom resources are not workloads here, so a policy meant for them is flagged
#   (suppress it with the seaworthy.dev/ignore annotation).
# Why: a policy that selects no pod protects nothing. It is usually a label that drifted (the
#   Deployment's pod labels were renamed, or the policy matches the Deployment's own labels
#   instead of its pod template's), and the workload it was written for runs unprotected.
# Example:
#   # fails: the pods are labelled app.kubernetes.io/name=cart
#   kind: NetworkPolicy
#   spec:
#     podSelector: {matchLabels: {app: cart}}
#   # passes
#   kind: NetworkPolicy
#   spec:
#     podSelector: {matchLabels: {app.kubernetes.io/name: cart}}
# Fix: make the podSelector match the pod template labels of the workload the policy is for, or
#   delete the policy.
package seaworthy.rules.network.network_policy_selects_nothing

import data.seaworthy.lib.network
import rego.v1

metadata := {
	"id": "network-policy-selects-nothing",
	"area": "network",
	"severity": "notice",
	"kinds": ["NetworkPolicy"],
	"summary": "NetworkPolicy selects no pods",
	"remediation": "Make the podSelector match the pod template labels of the workloads the policy is for.",
	"scope": "complete",
}

violations contains v if {
	network.kubernetes_policy(input.object)
	total := input.related.namespace.workloads
	total > 0
	count(input.related.workloads) == 0
	v := {
		"msg": sprintf("podSelector matches the pods of none of the workloads in namespace %q (%d in this run)", [
			input.related.namespace.name,
			total,
		]),
		"path": ["spec", "podSelector"],
	}
}
