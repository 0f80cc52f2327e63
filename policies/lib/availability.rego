# Wording shared by the availability and rollout rules, so that every finding names workloads,
# replica counts and labels the same way.
package seaworthy.lib.availability

import rego.v1

# `Deployment "web"`
workload(kind, name) := sprintf("%s %q", [kind, name])

# "1 replica", "3 replicas"
count_of(n, noun) := sprintf("%d %s", [n, noun]) if n == 1

count_of(n, noun) := sprintf("%d %ss", [n, noun]) if n != 1

# "app=web, tier=frontend" (sorted by key); "no labels" for none.
labels(pod_labels) := concat(", ", [sprintf("%s=%v", [k, pod_labels[k]]) | some k in sort(object.keys(pod_labels))]) if {
	count(pod_labels) > 0
} else := "no labels"

# `"a", "b"`
quoted(names) := concat(", ", [sprintf("%q", [n]) | some n in names])

# The fewest pods a workload runs: its autoscaler's minReplicas when one targets it, else
# spec.replicas; but an autoscaler leaves a target scaled to 0 alone, so 0 stays 0.
min_pods(w) := 0 if w.replicas == 0 else := w.min_replicas

# What a workload's replica floor is made of: `3 replicas`, or with an autoscaler
# `2 replicas at HorizontalPodAutoscaler "web" minReplicas`.
floor_text(w) := sprintf("%s at HorizontalPodAutoscaler %q minReplicas", [count_of(w.min_replicas, "replica"), w.hpa.name]) if {
	w.hpa != null
	w.replicas != 0
}

floor_text(w) := count_of(min_pods(w), "replica") if {
	not autoscaled(w)
}

autoscaled(w) if {
	w.hpa != null
	w.replicas != 0
}

# The path of the pod template's labels, where a finding about "the pods a selector must match"
# points; the object's metadata when the template has no labels.
pod_labels_path(w, obj) := path if {
	path := array.concat(w.pod_metadata_path, ["labels"])
	object.get(obj, path, null) != null
} else := ["metadata"]
