# What it does: flags a field whose value has a type the Kubernetes API does not accept there.
#   In every built-in kind, the schema check reads the object into its Kubernetes 1.33 API type
#   and reports each value that does not fit (`replicas: "3"`, `containerPort: http`, an env
#   var's `value: 8080`, a label value `true`, base64 that does not decode under a Secret's
#   `data`); a custom resource is checked against its CustomResourceDefinition's schema when that
#   is in the same run. On top of that, the fields the other rules read are checked by hand, so
#   they are judged in Argo Rollouts too (whose schema is not at hand): a string, number or list
#   where the API expects an object (a container, resources, securityContext, a probe, a selector,
#   a NetworkPolicy rule), an object or scalar where it expects a list (containers, ports,
#   volumes, capabilities.add, ingress, from), a non-integer replica count or container port, a
#   boolean-valued host namespace field written as a string, and `containers: null` or `[]` (a pod
#   needs at least one container). One mistake gives one finding. `null` elsewhere is not
#   flagged: the API server stores it as an absent field. Int-or-string fields (probe ports,
#   minAvailable, maxUnavailable, NetworkPolicy ports) accept both, and a quantity may be a number.
# Why: the API server rejects such an object, so it never runs; and the rules that read the field
#   cannot judge it, so without this finding a malformed manifest would pass every other check in
#   silence (a `ports: "8080"` hides a probe-port problem, `containers: null` hides every container
#   rule). It usually comes from a template that renders a value where a block was expected.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources: "small"
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       resources:
#         requests: {cpu: 100m, memory: 128Mi}
# Fix: write the field with the type the API expects (see `kubectl explain <kind>.<field>`); for a
#   template, render the block instead of a scalar, or leave the field out.
package seaworthy.rules.manifest.invalid_field_type

import rego.v1

metadata := {
	"id": "invalid-field-type",
	"area": "manifest",
	"severity": "error",
	# content: The kinds it checks by hand; of any other object, only the schema check's report.
	"content": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Job", "CronJob", "Rollout", "PodDisruptionBudget", "NetworkPolicy"],
	"summary": "Field has a type the Kubernetes API rejects",
	"remediation": "Write the field with the type the Kubernetes API expects, or leave it out.",
}

violations contains v if {
	some [path, value, expected] in wrong_fields
	v := {
		"msg": sprintf("%s is %s, but the API expects %s: the API server rejects the object, and other rules cannot check it", [path_text(path), describe(value), expected_text[expected]]),
		"path": path,
	}
}

violations contains v if {
	"containers" in object.keys(pod_spec)
	empty_or_null(pod_spec.containers)
	path := array.concat(input.workload.pod_spec_path, ["containers"])
	v := {
		"msg": sprintf("%s is %s, but a pod needs at least one container: the API server rejects the object", [path_text(path), describe(pod_spec.containers)]),
		"path": path,
	}
}

# What the schema check found, except where a field checked below is reported already.
violations contains v if {
	some problem in input.schema.wrong_types
	not problem.path in flagged_here
	v := {"msg": schema_message(problem), "path": problem.path}
}

schema_message(problem) := sprintf("%s is %s, but the API expects %s: the API server rejects the object", [path_text(problem.path), problem.found, problem.expected]) if problem.expected

schema_message(problem) := sprintf("%s is %s, which the API cannot read (%s): the API server rejects the object", [path_text(problem.path), problem.found, problem.reason]) if {
	not problem.expected
}

flagged_here contains path if {
	some [path, _, _] in wrong_fields
}

pod_spec := input.workload.pod_spec if is_object(input.workload.pod_spec)

empty_or_null(value) if value == null

empty_or_null(value) if {
	is_array(value)
	count(value) == 0
}

# The fields below are checked by hand only where the schema check cannot vouch for them: a kind
# it did not read into its built-in Kubernetes type (an Argo Rollout, a custom resource, an API
# version it does not know), or an object in which it found a wrong type (the hand-written
# messages say more, and `flagged_here` keeps one finding per mistake). A built-in kind that the
# schema check read without a wrong type has none of the wrong types below either, so the webhook
# pays nothing here for the well-typed workloads it admits all day.
wrong_fields := checked_by_hand if hand_check

wrong_fields := set() if not hand_check

hand_check if not input.schema.builtin

hand_check if count(input.schema.wrong_types) > 0

# [path, value, expected type] of every field checked whose value has another type (see
# `wrong`). A path whose parent has the wrong type is not listed: the parent is reported instead.
# Each rule checks the type before it builds the path, so a well-typed object costs no more than
# the type checks.
checked_by_hand contains [array.concat(input.workload.pod_spec_path, [key]), value, expected] if {
	some key, value in pod_spec
	expected := pod_spec_types[key]
	wrong(value, expected)
}

pod_spec_types := {
	"containers": "list", "initContainers": "list", "ephemeralContainers": "list",
	"volumes": "list", "securityContext": "object", "affinity": "object",
	"topologySpreadConstraints": "list", "hostNetwork": "boolean", "hostPID": "boolean",
	"hostIPC": "boolean",
}

checked_by_hand contains [array.concat(input.workload.pod_metadata_path, [key]), value, "object"] if {
	some key in ["labels", "annotations"]
	value := object.get(input.object, array.concat(input.workload.pod_metadata_path, [key]), null)
	wrong(value, "object")
}

checked_by_hand contains [["spec", "replicas"], input.object.spec.replicas, "integer"] if {
	input.workload.kind in {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"}
	wrong(input.object.spec.replicas, "integer")
}

checked_by_hand contains [array.concat(input.workload.pod_spec_path, ["volumes", i]), volume, "object"] if {
	some i, volume in pod_spec.volumes
	wrong(volume, "object")
}

checked_by_hand contains [ref.path, ref.container, "object"] if {
	some ref in input.workload.all_containers
	wrong(ref.container, "object")
}

checked_by_hand contains [array.concat(ref.path, path), value, expected] if {
	some ref in input.workload.all_containers
	is_object(ref.container)
	some [path, value, expected] in wrong_container_fields(ref.container)
}

container_types := {
	"name": "string", "image": "string", "ports": "list", "env": "list",
	"resources": "object", "securityContext": "object", "lifecycle": "object",
	"livenessProbe": "object", "readinessProbe": "object", "startupProbe": "object",
}

wrong_container_fields(c) := {[[key], value, expected] |
	some key, value in c
	expected := container_types[key]
	wrong(value, expected)
} | {[["ports", i], port, "object"] |
	some i, port in array_or_empty(c.ports)
	wrong(port, "object")
} | {[["ports", i, "containerPort"], port.containerPort, "integer"] |
	some i, port in array_or_empty(c.ports)
	is_object(port)
	wrong(port.containerPort, "integer")
} | {[["resources", section], value, "object"] |
	is_object(c.resources)
	some section in ["requests", "limits"]
	value := c.resources[section]
	wrong(value, "object")
} | {[["securityContext", "capabilities"], c.securityContext.capabilities, "object"] |
	is_object(c.securityContext)
	wrong(c.securityContext.capabilities, "object")
} | {[["securityContext", "capabilities", list], value, "list"] |
	is_object(c.securityContext)
	is_object(c.securityContext.capabilities)
	some list in ["add", "drop"]
	value := c.securityContext.capabilities[list]
	wrong(value, "list")
} | {[[probe, action], value, "object"] |
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	is_object(c[probe])
	some action in ["httpGet", "tcpSocket", "grpc", "exec"]
	value := c[probe][action]
	wrong(value, "object")
} | {[[probe, action, "port"], c[probe][action].port, expected] |
	some probe in ["livenessProbe", "readinessProbe", "startupProbe"]
	is_object(c[probe])
	some action, expected in {"httpGet": "int-or-string", "tcpSocket": "int-or-string", "grpc": "integer"}
	is_object(c[probe][action])
	wrong(c[probe][action].port, expected)
}

# PodDisruptionBudget.
checked_by_hand contains [["spec"], input.object.spec, "object"] if {
	input.object.kind in {"PodDisruptionBudget", "NetworkPolicy"}
	wrong(input.object.spec, "object")
}

checked_by_hand contains [["spec", key], value, expected] if {
	input.object.kind == "PodDisruptionBudget"
	is_object(input.object.spec)
	some key, expected in {"selector": "object", "minAvailable": "int-or-string", "maxUnavailable": "int-or-string"}
	value := input.object.spec[key]
	wrong(value, expected)
}

checked_by_hand contains [array.concat(base, path), value, expected] if {
	input.object.kind == "PodDisruptionBudget"
	base := ["spec", "selector"]
	some [path, value, expected] in wrong_selector_fields(input.object.spec.selector)
}

# NetworkPolicy of the Kubernetes API (other APIs have their own schema).
network_policy if {
	input.object.kind == "NetworkPolicy"
	startswith(input.object.apiVersion, "networking.k8s.io/")
	is_object(input.object.spec)
}

checked_by_hand contains [["spec", key], value, expected] if {
	network_policy
	some key, expected in {"podSelector": "object", "policyTypes": "list", "ingress": "list", "egress": "list"}
	value := input.object.spec[key]
	wrong(value, expected)
}

checked_by_hand contains [array.concat(["spec", "podSelector"], path), value, expected] if {
	network_policy
	some [path, value, expected] in wrong_selector_fields(input.object.spec.podSelector)
}

checked_by_hand contains [["spec", direction, i], rule, "object"] if {
	network_policy
	some direction in ["ingress", "egress"]
	some i, rule in array_or_empty(input.object.spec[direction])
	wrong(rule, "object")
}

checked_by_hand contains [["spec", direction, i, key], value, "list"] if {
	network_policy
	some direction, peers in {"ingress": "from", "egress": "to"}
	some i, rule in array_or_empty(input.object.spec[direction])
	is_object(rule)
	some key in [peers, "ports"]
	value := rule[key]
	wrong(value, "list")
}

checked_by_hand contains [["spec", direction, i, key, j], item, "object"] if {
	network_policy
	some direction, peers in {"ingress": "from", "egress": "to"}
	some i, rule in array_or_empty(input.object.spec[direction])
	is_object(rule)
	some key in [peers, "ports"]
	some j, item in array_or_empty(rule[key])
	wrong(item, "object")
}

checked_by_hand contains [["spec", direction, i, "ports", j, key], value, expected] if {
	network_policy
	some direction in ["ingress", "egress"]
	some i, rule in array_or_empty(input.object.spec[direction])
	is_object(rule)
	some j, port in array_or_empty(rule.ports)
	is_object(port)
	some key, expected in {"port": "int-or-string", "endPort": "integer", "protocol": "string"}
	value := port[key]
	wrong(value, expected)
}

wrong_selector_fields(selector) := {[[key], value, expected] |
	is_object(selector)
	some key, expected in {"matchLabels": "object", "matchExpressions": "list"}
	value := selector[key]
	wrong(value, expected)
}

# A written value (null is stored as an absent field) of another type than the API expects there.
wrong(value, expected) if {
	value != null
	not has_type(value, expected)
}

array_or_empty(value) := value if is_array(value)

array_or_empty(value) := [] if not is_array(value)

has_type(value, "object") if is_object(value)

has_type(value, "list") if is_array(value)

has_type(value, "string") if is_string(value)

has_type(value, "boolean") if is_boolean(value)

has_type(value, "integer") if integer(value)

has_type(value, "int-or-string") if is_string(value)

has_type(value, "int-or-string") if integer(value)

integer(value) if {
	is_number(value)
	value == floor(value)
}

expected_text := {
	"object": "an object",
	"list": "a list",
	"string": "a string",
	"boolean": "true or false",
	"integer": "an integer",
	"int-or-string": "an integer or a string",
}

describe(value) := sprintf("the string %q", [value]) if is_string(value)

describe(value) := sprintf("the number %v", [value]) if is_number(value)

describe(value) := sprintf("%v", [value]) if is_boolean(value)

describe(value) := "a list" if {
	is_array(value)
	count(value) > 0
}

describe(value) := "an empty list" if {
	is_array(value)
	count(value) == 0
}

describe(value) := "an object" if is_object(value)

describe(value) := "null" if value == null

# spec.template.spec.containers[0].ports
path_text(path) := concat("", [step_text(i, step) | some i, step in path])

step_text(0, step) := step if is_string(step)

step_text(i, step) := concat("", [".", step]) if {
	i > 0
	is_string(step)
}

step_text(_, step) := sprintf("[%d]", [step]) if is_number(step)
