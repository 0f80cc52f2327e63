# What it does: flags an Ingress whose `tls` entries name a Secret that nothing in the run provides
#   (a Secret, a cert-manager Certificate's secretName, an ExternalSecret's or SealedSecret's
#   target), and an Ingress whose cert-manager annotation (cert-manager.io/issuer,
#   cert-manager.io/cluster-issuer) names an Issuer or ClusterIssuer not in the run. To avoid false
#   alarms when secrets or issuers are managed elsewhere, a Secret is only looked for when the
#   Ingress's namespace has TLS Secrets (type kubernetes.io/tls) or secret-writing objects in the
#   run, and an issuer only when the run has issuers of that kind; a cert-manager annotation on the Ingress creates the Secret itself.
#   Lint only: in a cluster these come and go independently.
# Why: without its Secret, the ingress controller serves the host with its default (self-signed)
#   certificate, and clients fail the TLS handshake; an issuer name with a typo issues nothing.
# Example:
#   # fails: the Certificate writes shop-tls-cert
#   tls:
#     - hosts: [shop.example.com]
#       secretName: shop-tls
#   # passes
#   tls:
#     - hosts: [shop.example.com]
#       secretName: shop-tls-cert
# Fix: name the Secret the Certificate (or ExternalSecret) writes, or the issuer as it is deployed.
package seaworthy.rules.ingress.ingress_tls_reference_missing

import rego.v1

import data.seaworthy.lib.names
import data.seaworthy.lib.values

metadata := {
	"id": "ingress-tls-reference-missing",
	"area": "ingress",
	"severity": "warning",
	"kinds": ["Ingress"],
	# content: What provides a Secret, from data.inventory; Issuers and ClusterIssuers by name alone.
	"content": ["Ingress", "Secret", "Certificate", "ExternalSecret", "SealedSecret"],
	"summary": "Ingress TLS Secret or issuer is not in the run",
	"remediation": "Name the Secret the Certificate or ExternalSecret writes, or the issuer as it is deployed.",
	"scope": "complete",
}

namespace := input.related.namespace.name

objects(kind) := [o |
	some _, kinds in data.inventory.namespace[namespace]
	some _, o in kinds[kind]
]

provided contains name if {
	some name, _ in object.get(data.inventory.namespace[namespace], ["v1", "Secret"], {})
}

provided contains o.spec.secretName if {
	some o in objects("Certificate")
}

provided contains object.get(o, ["spec", "target", "name"], o.metadata.name) if {
	some o in objects("ExternalSecret")
}

provided contains object.get(o, ["spec", "template", "metadata", "name"], o.metadata.name) if {
	some o in objects("SealedSecret")
}

# The run manages TLS material in this namespace: a Secret of type kubernetes.io/tls, or an object
# that writes Secrets.
tls_secrets := [s |
	some _, s in object.get(data.inventory.namespace[namespace], ["v1", "Secret"], {})
	s.type == "kubernetes.io/tls"
]

secret_sources := ((count(tls_secrets) + count(objects("Certificate"))) + count(objects("ExternalSecret"))) + count(objects("SealedSecret"))

annotations := object.get(input.object, ["metadata", "annotations"], {})

# cert-manager's ingress-shim creates the Secret from these annotations.
shim if annotations["cert-manager.io/issuer"]

shim if annotations["cert-manager.io/cluster-issuer"]

violations contains v if {
	not shim
	secret_sources > 0
	some i, entry in values.items(input.object.spec.tls)
	is_string(entry.secretName)
	not entry.secretName in provided
	v := {
		"msg": sprintf("Ingress %q uses TLS Secret %q, which no Secret, Certificate, ExternalSecret or SealedSecret of namespace %q in the run provides", [
			names.object_name(input.object), entry.secretName, namespace,
		]),
		"path": ["spec", "tls", i, "secretName"],
	}
}

violations contains v if {
	issuer := annotations["cert-manager.io/issuer"]
	is_string(issuer)
	count(objects("Issuer")) > 0
	not issuer in {o.metadata.name | some o in objects("Issuer")}
	v := {
		"msg": sprintf("Ingress %q asks Issuer %q for its certificate, which is not in namespace %q in the run", [names.object_name(input.object), issuer, namespace]),
		"path": ["metadata", "annotations", "cert-manager.io/issuer"],
	}
}

cluster_issuers := {name |
	some api_version, kinds in data.inventory.cluster
	startswith(api_version, "cert-manager.io/")
	some name, _ in kinds.ClusterIssuer
}

violations contains v if {
	issuer := annotations["cert-manager.io/cluster-issuer"]
	is_string(issuer)
	count(cluster_issuers) > 0
	not issuer in cluster_issuers
	v := {
		"msg": sprintf("Ingress %q asks ClusterIssuer %q for its certificate, which is not in the run (it has %s)", [
			names.object_name(input.object), issuer, concat(", ", sort(cluster_issuers)),
		]),
		"path": ["metadata", "annotations", "cert-manager.io/cluster-issuer"],
	}
}
