#!/usr/bin/env python3
"""A stand-in for `helm template` in seaworthy's tests.

The helm binary is not in the package registries CI installs from, so the tests render charts with
the real Helm SDK (Go, through `helm-python-sdk`: `pip install helm-python-sdk`, `import
helm_python`) and this script gives it helm's command line and output:

    helm template [NAME] CHART [--values|-f FILE]... [--set K=V]... [--namespace|-n NS]

Output is what `helm template` prints: every rendered document after `---` and a
`# Source: <chart>/templates/<file>` line, ordered by kind as helm installs them; errors go to
stderr as `Error: <message>` with exit code 1. Only what seaworthy's tests use is implemented.
"""

import re
import sys

# helm's install order (pkg/release/util/kind_sorter.go); other kinds come after these.
INSTALL_ORDER = [
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
    "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
    "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
]

USAGE = "usage: helm template [NAME] CHART [--values FILE]... [--set K=V]... [--namespace NS]"


def fail(message):
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def parse_args(argv):
    if not argv or argv[0] != "template":
        fail(f"this stand-in only implements `helm template`\n{USAGE}")
    positional, values, sets, namespace = [], [], [], None
    args = iter(argv[1:])
    for arg in args:
        flag, eq, inline = arg.partition("=")
        if flag in ("--values", "-f", "--set", "--namespace", "-n"):
            value = inline if eq else next(args, None)
            if value is None:
                fail(f"flag needs an argument: {flag}")
            if flag in ("--values", "-f"):
                values.append(value)
            elif flag == "--set":
                sets.append(value)
            else:
                namespace = value
        elif arg.startswith("-"):
            fail(f"unknown flag: {arg}")
        else:
            positional.append(arg)
    if len(positional) == 1:
        return "release-name", positional[0], values, sets, namespace
    if len(positional) == 2:
        return positional[0], positional[1], values, sets, namespace
    fail(f"expected [NAME] CHART\n{USAGE}")


def merge(base, override):
    """helm's values merge: maps merge key by key, anything else is replaced."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def split_documents(text):
    """The documents of a rendered template, as helm's releaseutil.SplitManifests splits them."""
    docs = re.split(r"(?:^|\s*\n)---\s*", text)
    return [d.strip() for d in docs if d.strip()]


def kind_rank(doc):
    match = re.search(r"^kind:\s*[\"']?([A-Za-z0-9]+)", doc, re.MULTILINE)
    kind = match.group(1) if match else ""
    return INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)


def main():
    name, chart_dir, values_files, sets, namespace = parse_args(sys.argv[1:])
    import helm_python as helm

    values = {}
    for path in values_files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            fail(f"open {path}: {e.strerror.lower()}")
        try:
            merge(values, helm.values_from_yaml(text) or {})
        except helm.HelmError as e:
            fail(f"failed to parse {path}: {e.detail}")
    for expression in sets:
        try:
            merge(values, helm.parse_set_string(expression))
        except helm.HelmError as e:
            fail(f"failed parsing --set data: {e.detail}")
    try:
        with helm.Chart.load(chart_dir) as chart:
            rendered = chart.render(values, name=name, namespace=namespace or "default", is_install=True)
    except helm.HelmError as e:
        fail(e.detail)

    manifests = []
    for source in sorted(rendered):
        if source.endswith("NOTES.txt"):
            continue
        for doc in split_documents(rendered[source]):
            manifests.append((kind_rank(doc), source, doc))
    # Stable: documents of one kind keep their order within a template.
    manifests.sort(key=lambda m: m[0])
    for _, source, doc in manifests:
        sys.stdout.write(f"---\n# Source: {source}\n{doc}\n")


if __name__ == "__main__":
    main()
