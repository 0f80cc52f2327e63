# What it does: flags long-running containers (regular containers and native sidecars) whose
#   livenessProbe and readinessProbe are the same check with the same timing, once the API server's
#   defaults are applied. The same check: httpGet with the same path ("/" when empty), port (a port
#   name counts as the number it names in the container's ports), host, scheme (HTTP by default) and
#   headers (names in any case, in any order); tcpSocket with the same port and host; exec with the
#   same command; grpc with the same port and service. The same timing: the same initialDelaySeconds
#   (default 0), periodSeconds (10), timeoutSeconds (1) and failureThreshold (3), where 0 or null
#   stands for the default, as in the API. successThreshold is not compared: it changes how a probe
#   recovers, not when the two fail. Probes that differ in anything else are not flagged (the same
#   endpoint with a higher liveness failureThreshold is the recommended pattern). Jobs, CronJobs and
#   Pods with restartPolicy Never or OnFailure are not checked.
# Why: identical probes fail at the same moment, so a failing readiness check never gets to take
#   the pod out of rotation on its own: the kubelet restarts the container at the same time. When
#   the check depends on something outside the process (a database, a slow downstream), one
#   outage restarts every replica at once instead of draining them until it recovers.
# Example:
#   # fails
#   containers:
#     - name: web
#       image: nginx:1.27
#       readinessProbe:
#         httpGet: {path: /healthz, port: 8080}
#       livenessProbe:
#         httpGet: {path: /healthz, port: 8080}
#   # passes
#   containers:
#     - name: web
#       image: nginx:1.27
#       readinessProbe:
#         httpGet: {path: /ready, port: 8080}
#       livenessProbe:
#         httpGet: {path: /healthz, port: 8080}
#         failureThreshold: 6
# Fix: point the livenessProbe at a check of the process alone, or make it more tolerant than the
#   readinessProbe (a higher failureThreshold or periodSeconds).
package seaworthy.rules.probes.identical_probes

import rego.v1

import data.seaworthy.lib.probes

metadata := {
	"id": "identical-probes",
	"area": "probes",
	"severity": "warning",
	"kinds": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pod", "Rollout"],
	"summary": "Liveness and readiness probes are identical",
	"remediation": "Make the livenessProbe check only the process itself, or fail later than the readinessProbe.",
}

violations contains v if {
	# By its full path: through the `probes` import, a rule (not a function) is looked up in the
	# package's whole document, every rule of it evaluated, on each object.
	some ref in data.seaworthy.lib.probes.long_running
	liveness := ref.container.livenessProbe
	readiness := ref.container.readinessProbe
	# The handler both probes have, then the cheap test of it, and only then the exact ones: most
	# pairs differ there, and on the RVM each helper call costs more than a lookup.
	some kind in handler_names
	liveness[kind] != null
	readiness[kind] != null
	may_match(kind, liveness[kind], readiness[kind])
	handler_kind(liveness) == kind
	handler_kind(readiness) == kind
	normalized(liveness, ref.container) == normalized(readiness, ref.container)
	v := {
		"msg": sprintf("container %q has a livenessProbe identical to its readinessProbe (%s)", [ref.display_name, summary(ref.container.livenessProbe)]),
		"path": array.concat(ref.path, ["livenessProbe"]),
	}
}

# A cheap necessary condition, tested before normalizing both probes: most pairs of HTTP probes
# already differ in their path. (The webhook runs this rule on every workload it admits.)
may_match(kind, liveness, readiness) if {
	kind == "httpGet"
	http_path(liveness) == http_path(readiness)
} else := true if kind != "httpGet"

normalized(probe, container) := {
	"handler": handler(probe, container),
	"initialDelaySeconds": setting(probe, "initialDelaySeconds", 0),
	"periodSeconds": setting(probe, "periodSeconds", 10),
	"timeoutSeconds": setting(probe, "timeoutSeconds", 1),
	"failureThreshold": setting(probe, "failureThreshold", 3),
}

# A probe has exactly one handler; one with none or several is rejected by the API server.
handler_kind(probe) := kinds[0] if {
	kinds := [kind | some kind in handler_names; probe[kind] != null]
	count(kinds) == 1
}

handler_names := ["exec", "httpGet", "tcpSocket", "grpc"]

handler(probe, container) := target(kind, probe[kind], container) if kind := handler_kind(probe)

target("httpGet", action, container) := {
	"path": http_path(action),
	"port": port(action.port, container),
	"host": field(action, "host", ""),
	"scheme": field(action, "scheme", "HTTP"),
	"headers": {[lower(h.name), h.value] | some h in field(action, "httpHeaders", [])},
}

target("tcpSocket", action, container) := {
	"port": port(action.port, container),
	"host": field(action, "host", ""),
}

target("exec", action, _) := {"command": field(action, "command", [])}

target("grpc", action, _) := {
	"port": action.port,
	"service": field(action, "service", ""),
}

# What the message shows of the shared check.
summary(probe) := sprintf("httpGet %s on port %v", [http_path(probe.httpGet), probe.httpGet.port]) if {
	handler_kind(probe) == "httpGet"
}

summary(probe) := sprintf("tcpSocket on port %v", [probe.tcpSocket.port]) if handler_kind(probe) == "tcpSocket"

summary(probe) := sprintf("exec %s", [concat(" ", [sprintf("%v", [arg]) | some arg in field(probe.exec, "command", [])])]) if {
	handler_kind(probe) == "exec"
}

summary(probe) := sprintf("grpc on port %v", [probe.grpc.port]) if handler_kind(probe) == "grpc"

# The path an httpGet action requests: an empty, null or absent path is "/" (the API server's
# default); the kubelet adds the leading "/" when missing.
http_path(action) := concat("", ["/", trim_prefix(action.path, "/")]) if is_string(action.path)
else := "/" if object.get(action, "path", null) == null

# A port name stands for the number it names in the container's ports; an unknown name stays a
# name (probe-port-mismatch reports it).
port(value, container) := number if number := probes.port_number(value, container)

port(value, container) := value if not probes.port_number(value, container)

# A field's value, or its default when it is absent or null. (These helpers are one definition
# with `else`: the RVM evaluates every definition of a function on each call.)
field(object, key, fallback) := object[key] if object[key] != null
else := fallback

# A probe timing field: 0, null or absent stand for the default, as in the API server's defaulting.
setting(probe, key, fallback) := probe[key] if {
	probe[key] != null
	probe[key] != 0
} else := fallback
