# What it does: flags a Service whose selector matches the pod templates of several workloads that
#   are different components: they run no container image in common (tags and digests aside) and
#   their pod labels name different components (`app`, `app.kubernetes.io/name`,
#   `app.kubernetes.io/component`, `component`, `tier` or `role` differ), naming them: a selector
#   shared by an application's components (`app.kubernetes.io/name` alone catches the web server and
#   the worker of a chart). Versions of one component (blue and green, stable and canary, v1 and v2
#   differing in a `version` label, even with per-version images) are the intended way to split
#   traffic and are not flagged.
# Why: the Service balances connections across every selected pod: a share of the requests goes to
#   pods that do not serve that protocol (a worker, a database) and fails.
# Example:
#   # fails: both Deployments' pods are labelled app.kubernetes.io/name: shop
#   kind: Service
#   spec:
#     selector: {app.kubernetes.io/name: shop}
#   # passes
#   kind: Service
#   spec:
#     selector: {app.kubernetes.io/name: shop, app.kubernetes.io/component: web}
# Fix: add the label that tells the workloads apart (app.kubernetes.io/component) to the Service's
#   selector and to the pod template of the workload it should reach.
package seaworthy.rules.services.service_selects_unrelated_workloads

import rego.v1

import data.seaworthy.lib.names

metadata := {
	"id": "service-selects-unrelated-workloads",
	"area": "services",
	"severity": "warning",
	"kinds": ["Service"],
	"summary": "Service selects pods of workloads that run different software",
	"remediation": "Add the label that tells the workloads apart (app.kubernetes.io/component) to the Service's selector and to the pod template it should reach.",
	"scope": "complete",
}

violations contains v if {
	is_array(input.related.workloads)
	candidates := [w | some w in input.related.workloads; count(w.images) > 0]
	count(candidates) >= 2
	first := sort([label(w) | some w in candidates])[0]
	some a in candidates
	label(a) == first
	unrelated := [w | some w in candidates; no_common_image(a, w); different_component(a, w)]
	count(unrelated) > 0
	v := {
		"msg": sprintf("Service %q selects the pods of %s and of %s, which run different images (%s; %s): it sends part of its traffic to pods that may not serve it", [
			names.object_name(input.object),
			label(a),
			concat(", ", sort([label(w) | some w in unrelated])),
			concat(", ", a.images),
			concat(", ", sort({i | some w in unrelated; some i in w.images})),
		]),
		"path": ["spec", "selector"],
	}
}

# The labels that name what a workload is (rather than which version of it runs): two workloads
# that differ in one of them are different components.
identity_labels := {"app", "app.kubernetes.io/name", "app.kubernetes.io/component", "component", "tier", "role"}

different_component(a, b) if {
	some key in identity_labels
	is_string(a.labels[key])
	is_string(b.labels[key])
	a.labels[key] != b.labels[key]
}

no_common_image(a, b) if count({i | some i in a.images} & {i | some i in b.images}) == 0

label(w) := sprintf("%s %q", [w.kind, w.name])
