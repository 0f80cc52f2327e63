# What it does: flags each host of an Ingress's rules that no entry of its `tls` section covers
#   (exactly or by a `*.` wildcard), so the ingress controller serves it over plain HTTP. Rules
#   without a host, hosts that never leave the cluster or the machine (`localhost`, `*.local`,
#   `*.internal`, `*.cluster.local`) and Ingresses whose TLS is terminated by a cloud load balancer
#   configured in annotations (AWS certificate-arn, GKE managed certificates, Azure
#   appgw-ssl-certificate) are not flagged.
# Why: credentials, cookies and tokens sent to the host cross the network in clear text, and
#   browsers mark the site as not secure.
# Example:
#   # fails
#   spec:
#     rules:
#       - host: shop.example.com
#   # passes
#   spec:
#     tls:
#       - hosts: [shop.example.com]
#         secretName: shop-tls
#     rules:
#       - host: shop.example.com
# Fix: add the host to a `tls` entry with the Secret that holds its certificate (cert-manager can
#   issue it: annotate the Ingress with cert-manager.io/cluster-issuer).
package seaworthy.rules.ingress.ingress_host_without_tls

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "ingress-host-without-tls",
	"area": "ingress",
	"severity": "notice",
	"kinds": ["Ingress"],
	"summary": "Ingress host served without TLS",
	"remediation": "Add the host to a tls entry of the Ingress with the Secret that holds its certificate.",
}

tls_hosts contains lower(host) if {
	some entry in values.items(input.object.spec.tls)
	some host in values.items(entry.hosts)
	is_string(host)
}

violations contains v if {
	not terminated_elsewhere
	some i, rule in values.items(input.object.spec.rules)
	host := rule.host
	is_string(host)
	host != ""
	not internal(lower(host))
	not covered(lower(host))
	v := {
		"msg": sprintf("Ingress %q serves host %q without TLS: no tls entry lists it", [names.object_name(input.object), host]),
		"path": ["spec", "rules", i, "host"],
	}
}

covered(host) if host in tls_hosts

covered(host) if {
	some pattern in tls_hosts
	startswith(pattern, "*.")
	suffix := substring(pattern, 1, -1)
	endswith(host, suffix)
	not contains(trim_suffix(host, suffix), ".")
}

internal(host) if host == "localhost"

internal(host) if {
	some suffix in {".local", ".localhost", ".internal", ".cluster.local"}
	endswith(host, suffix)
}

terminated_elsewhere if {
	some key, _ in input.object.metadata.annotations
	key in {
		"alb.ingress.kubernetes.io/certificate-arn",
		"networking.gke.io/managed-certificates",
		"appgw.ingress.kubernetes.io/appgw-ssl-certificate",
		"service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
	}
}
