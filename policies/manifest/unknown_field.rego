# What it does: flags a field that the object's type does not have: a misspelt key
#   (`livenessprobe`, `imagePullpolicy`, `contaners`), a key one level off (a container's
#   `livenessProbe` written in the pod spec, `labels` beside `metadata` instead of in it), or a
#   field of a newer Kubernetes than the schema the check knows. Built-in kinds are checked
#   against the Kubernetes 1.33 API types; a custom resource against the openAPIV3Schema of its
#   CustomResourceDefinition when that is in the same run (where neither
#   `x-kubernetes-preserve-unknown-fields` nor `additionalProperties` keeps unknown keys), and
#   not at all otherwise. The message names the nearest known field ("did you mean
#   livenessProbe?") or where the field belongs.
# Why: the API server drops a field it does not know unless the client asks for strict field
#   validation (kubectl does by default since 1.27; a client library, a controller or
#   `--validate=false` may not), so the object runs without it: a misspelt livenessProbe leaves
#   the container without a probe, and a rule that asks for one says only that it is missing,
#   not why. Where the client validates strictly, the apply fails instead: better found in CI.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       livenessprobe:
#         httpGet: {path: /healthz, port: 8080}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       livenessProbe:
#         httpGet: {path: /healthz, port: 8080}
# Fix: correct the key's spelling or move it where it belongs (see `kubectl explain
#   <kind>.<field>`); remove it if it is not meant to be there.
package seaworthy.rules.manifest.unknown_field

import rego.v1

metadata := {
	"id": "unknown-field",
	"area": "manifest",
	"severity": "warning",
	# content: It reads the schema check's report, not the object: its identity is enough (see "content" in the README).
	"content": [],
	"summary": "Field is not in the schema of its kind, so the API server drops it",
	"remediation": "Correct the field's name or move it where it belongs, or remove it.",
}

violations contains v if {
	some unknown in input.schema.unknown_fields
	v := {
		"msg": sprintf("%s is not a field of %s: the API server drops it, so it has no effect%s", [path_text(unknown.path), unknown.holder, hint(unknown)]),
		"path": unknown.path,
	}
}

hint(unknown) := sprintf("; did you mean %q?", [unknown.suggestion]) if unknown.suggestion

hint(unknown) := sprintf("; %s is a field of %s", [unknown.field, unknown.belongs]) if {
	not unknown.suggestion
	unknown.belongs
}

hint(unknown) := "" if {
	not unknown.suggestion
	not unknown.belongs
}

# spec.template.spec.containers[0].livenessprobe
path_text(path) := concat("", [step_text(i, step) | some i, step in path])

step_text(0, step) := step if is_string(step)

step_text(i, step) := concat("", [".", step]) if {
	i > 0
	is_string(step)
}

step_text(_, step) := sprintf("[%d]", [step]) if is_number(step)
