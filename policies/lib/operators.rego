# Whether a namespace of the inventory holds custom resources whose operators may create pods (a
# database cluster, a Prometheus, a Workflow): a rule that says "nothing in the run runs these pods"
# cannot know what such an operator starts. Common custom resources known to create no pods
# (ServiceMonitor, Certificate, ExternalSecret, ScaledObject, Istio and Traefik routing, ...) and
# Argo Rollouts (workloads the run already counts) do not count; a Gateway API Gateway does (its
# controller deploys the proxy pods).
#
# - may_create_pods(namespace): some object of that namespace in data.inventory is such a resource.
package seaworthy.lib.operators

import rego.v1

may_create_pods(namespace) if {
	some api_version, kinds in data.inventory.namespace[namespace]
	some kind, _ in kinds
	not builtin(api_version, kind)
}

# A Gateway API Gateway: Istio, Envoy Gateway and others deploy its proxy pods themselves.
may_create_pods(namespace) if {
	some api_version, kinds in data.inventory.namespace[namespace]
	startswith(api_version, "gateway.networking.k8s.io/")
	kinds.Gateway
}

# Kubernetes' own API groups: the core group, the unqualified ones (apps, batch, policy, ...) and
# *.k8s.io.
builtin(api_version, _) if not contains(api_version, "/")

builtin(api_version, _) if {
	group := split(api_version, "/")[0]
	is_string(group)
	not contains(group, ".")
}

builtin(api_version, _) if endswith(split(api_version, "/")[0], ".k8s.io")

builtin(api_version, "Rollout") if startswith(api_version, "argoproj.io/")

builtin(_, kind) if kind in {
	"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig",
	"Certificate", "Issuer", "ExternalSecret", "SecretStore", "SealedSecret",
	"ScaledObject", "TriggerAuthentication", "AnalysisTemplate",
	"VirtualService", "DestinationRule", "ServiceEntry", "PeerAuthentication",
	"AuthorizationPolicy", "RequestAuthentication", "Sidecar", "IngressRoute", "Middleware",
	"HTTPRoute", "GRPCRoute", "BackendTLSPolicy",
}
