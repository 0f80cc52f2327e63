# A container's CPU and memory requests and limits as the pod runs with them after admission, for
# the missing-*-request and missing-*-limit rules:
# - a value that is null (what a template leaves when it renders nothing) is not set;
# - a request left unset takes the container's limit (the API server's defaulting of Pods);
# - the namespace's LimitRange (type Container) fills a request or limit that is still unset
#   (input.workload.limit_range, after the LimitRange's own defaulting);
# - pod-level resources (pod spec `resources`, Kubernetes 1.32+) bound every container of the pod;
#   a pod-level limit is also the pod-level request when that is unset;
# - a quantity of 0 is no request or limit at all: the scheduler reserves nothing for it and the
#   kubelet sets no cgroup limit for it;
# - an empty string is not a quantity: the API server rejects the object.
# Ephemeral containers (kubectl debug) cannot have resources and are never checked.
package seaworthy.lib.resources

import rego.v1

# The containers whose resources count: regular, init and native sidecar containers. An array,
# not a set, for the reason given at probes.long_running.
checked := [ref |
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
]

# A value written as an empty (or blank) string.
blank_text(value) if {
	is_string(value)
	trim_space(value) == ""
}

# Unset in the container but filled by the namespace's LimitRange at admission.
limit_range_default(section, resource) if input.workload.limit_range[section][resource] != null

# Set for the whole pod. A pod-level limit also stands for the pod-level request.
pod_level(section, resource) if {
	some written_section in stands_for[section]
	# Tested for null, not only bound: on the RVM a binding of an undefined value does not fail the
	# body by itself, and `not blank_text(value)` would hold.
	value := input.workload.pod_spec.resources[written_section][resource]
	value != null
	not blank_text(value)
}

# Where a section's value may be written: a request left unset takes the limit.
stands_for := {"requests": ["requests", "limits"], "limits": ["limits"]}

# The problems with one section ("requests" or "limits") and resource ("cpu" or "memory") of the
# checked containers, as violations ({"msg", "path"}). A function, so each rule computes only its
# own. A positive quantity (parsed in the workload view) is written, not blank and not zero, so it
# has none of the problems below: the common case is told by that one lookup. (The webhook runs
# these rules on every workload.) An array: each container has at most one problem, at a path of
# its own, and a set would compare whole findings on every insertion and every step of the
# rule's loop over it. The violation is built here rather than by a helper: a function call costs
# more than the lookups it would wrap, on every container that has a problem.
problems(section, resource) := [p |
	some ref in checked
	not ref.quantities[section][resource] > 0
	text := container_problem(ref, section, resource)
	p := {
		"msg": sprintf("container %q %s", [ref.display_name, text]),
		"path": array.concat(ref.path, ["resources", section, resource]),
	}
]

# A container has at most one of these problems: one that is unset has no value to be blank or
# zero, and a blank string is no quantity. So they are one definition with `else`, tried in turn,
# and the lookups are written out: the RVM runs every definition of a function, and each call of
# a helper costs more than the lookup it wraps, on every container that lacks a limit.
container_problem(ref, section, resource) := sprintf("has no %s", [described[section][resource]]) if {
	not set_in_container(ref.container, section, resource)
	not limit_range_default(section, resource)
	not pod_level(section, resource)
} else := sprintf("has an empty %s", [described[section][resource]]) if {
	blank_text(ref.container.resources[section][resource])
} else := sprintf("has a %s of %s, %s", [described[section][resource], value, zero_means[section]]) if {
	ref.quantities[section][resource] == 0
	not pod_level(section, resource)
	value := shown(ref.container.resources[section][resource])
}

zero_means := {
	"requests": "which reserves nothing",
	"limits": "which sets no limit",
}

# Written in the container: the value itself, or for a request the limit it defaults to.
set_in_container(container, section, resource) if {
	some written_section in stands_for[section]
	container.resources[written_section][resource] != null
}

# How the messages name a section's resource: one table, so a message looks it up once.
described := {
	"requests": {"cpu": "CPU request", "memory": "memory request"},
	"limits": {"cpu": "CPU limit", "memory": "memory limit"},
}

# A quantity as written: a string as is, a YAML number in its decimal form.
shown(value) := value if is_string(value)
else := sprintf("%v", [value])
