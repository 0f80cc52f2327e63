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

import data.seaworthy.lib.names

# The containers whose resources count: regular, init and native sidecar containers. An array,
# not a set, for the reason given at probes.long_running.
checked := [ref |
	some ref in input.workload.all_containers
	ref.type != "ephemeral"
]

# The value written at resources.<section>.<resource>, when there is one (null is none).
written(container, section, resource) := value if {
	value := container.resources[section][resource]
	value != null
}

# A value written as an empty (or blank) string.
blank(container, section, resource) if {
	value := written(container, section, resource)
	is_string(value)
	trim_space(value) == ""
}

# The request is written, or the limit it defaults to is.
request_written(container, resource) if written(container, "requests", resource)

request_written(container, resource) if written(container, "limits", resource)

# Unset in the container but filled by the namespace's LimitRange at admission.
limit_range_default(section, resource) if input.workload.limit_range[section][resource] != null

# Set for the whole pod. A pod-level limit also stands for the pod-level request.
pod_level(section, resource) if {
	written(input.workload.pod_spec, section, resource)
	not blank(input.workload.pod_spec, section, resource)
}

pod_level("requests", resource) if pod_level("limits", resource)

# The problems with one section ("requests" or "limits") and resource ("cpu" or "memory") of the
# checked containers. A function, so each rule computes only its own. A positive quantity (parsed
# in the workload view) is written, not blank and not zero, so it has none of the problems below:
# the common case is told by that one lookup. (The webhook runs these rules on every workload.)
problems(section, resource) := {p |
	some ref in checked
	not ref.quantities[section][resource] > 0
	some p in container_problems(ref, section, resource)
}

container_problems(ref, section, resource) := {p |
	not set_in_container(ref.container, section, resource)
	not limit_range_default(section, resource)
	not pod_level(section, resource)
	p := finding(ref, section, resource, sprintf("has no %s %s", [label(resource), noun(section)]))
} | {p |
	blank(ref.container, section, resource)
	p := finding(ref, section, resource, sprintf("has an empty %s %s", [label(resource), noun(section)]))
} | {p |
	ref.quantities[section][resource] == 0
	not pod_level(section, resource)
	value := shown(ref.container.resources[section][resource])
	p := finding(ref, section, resource, sprintf("has a %s %s of %s, %s", [label(resource), noun(section), value, zero_means[section]]))
}

finding(ref, section, resource, text) := {
	"msg": sprintf("container %q %s", [names.container(ref), text]),
	"path": array.concat(ref.path, ["resources", section, resource]),
}

zero_means := {
	"requests": "which reserves nothing",
	"limits": "which sets no limit",
}

set_in_container(container, "requests", resource) if request_written(container, resource)

set_in_container(container, "limits", resource) if written(container, "limits", resource)

# How the rules name a resource and a section in messages.
label("cpu") := "CPU"

label("memory") := "memory"

noun("requests") := "request"

noun("limits") := "limit"

# A quantity as written: a string as is, a YAML number in its decimal form.
shown(value) := value if is_string(value)

shown(value) := sprintf("%v", [value]) if not is_string(value)
