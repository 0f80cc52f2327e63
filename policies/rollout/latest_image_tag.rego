# What it does: flags containers (regular, init and native sidecar) whose image has the tag latest
#   or no tag at all (which means latest). An image pinned by digest (`@sha256:...`) passes, with or
#   without a tag. A registry port is not a tag: `registry:5000/app` has none,
#   `registry:5000/app:1.2` has one. Ephemeral (kubectl debug) containers are not checked, nor is
#   Istio's placeholder, a container named istio-proxy with `image: auto`, which Istio's mutating
#   webhook replaces with its proxy image before any validating webhook sees the pod.
# Why: latest is whatever was pushed last. Two nodes can run different code under the same spec, a
#   rollback redeploys the same moving tag instead of the old version, and the default
#   imagePullPolicy becomes Always, so every pod start depends on the registry.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: registry.example.com/shop/web
#   # passes
#   containers:
#     - name: web
#       image: registry.example.com/shop/web:4.2.1
# Fix: reference a version tag or a digest, and change it to roll out a new version.
package seaworthy.rules.rollout.latest_image_tag

import rego.v1

metadata := {
	"id": "latest-image-tag",
	"area": "rollout",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout"],
	"summary": "Container image is not pinned to a version",
	"remediation": "Reference the image by a version tag or a digest.",
}

violations contains v if {
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
	image := ref.container.image
	is_string(image)
	image != ""
	not contains(image, "@")
	# The tag follows the last ':' of the last path segment; a ':' before a '/' belongs to the
	# registry's host:port.
	segments := split(image, "/")
	problem := tag_problem(segments[count(segments) - 1])
	# Last: only an image without a tag can be the placeholder, and most images have one.
	not istio_placeholder(ref.container)
	v := {
		"msg": sprintf("container %q uses image %q %s", [ref.display_name, image, problem]),
		"path": array.concat(ref.path, ["image"]),
	}
}

istio_placeholder(container) if {
	container.name == "istio-proxy"
	container.image == "auto"
}

# One definition with `else`: the RVM evaluates every definition of a function on each call.
tag_problem(segment) := "without a tag, which means latest" if not contains(segment, ":")
else := "with the moving tag latest" if endswith(segment, ":latest")
