#!/usr/bin/env python3
"""The Helm SDK side of tests/chart.rs: renders and lints charts with helm-python-sdk (Helm's Go
SDK through its C ABI; no helm binary), and answers in JSON on stdout.

    helm_sdk.py render CHART --name NAME --namespace NS [--values JSON] [--upgrade]
        {"manifest": "<the stream `helm template` prints>", "notes": "<NOTES.txt rendered>"}
    helm_sdk.py lint CHART --namespace NS [--values JSON]
        {"total_charts_linted": n, "messages": [{"severity", "path", "error"}], "errors": [...]}
    helm_sdk.py version
        {"sdk": "0.2.2", "helm": "v4.2.3"}

Exit codes: 0 done; 1 Helm refused (the error class and message on stderr, e.g.
"HelmValuesError: ..."); 3 the SDK is not installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

# Kept in step with the pin in scripts/test-requirements.txt.
PINNED = "helm-python-sdk==0.2.2"

try:
    import helm_python
except ImportError as err:
    print(
        f"cannot import helm_python ({err}); install the Helm SDK with `pip install {PINNED}`",
        file=sys.stderr,
    )
    sys.exit(3)

# How Helm splits a rendered template into documents (releaseutil.SplitManifests).
DOCUMENT_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def manifest_stream(rendered: dict[str, str]) -> str:
    """The output of `helm template`: every non-empty document of every template, each after a
    `# Source: <chart>/templates/<file>` marker. NOTES.txt and partials are not manifests."""
    parts = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt") or path.rsplit("/", 1)[-1].startswith("_"):
            continue
        for document in DOCUMENT_SEPARATOR.split(rendered[path]):
            if document.strip():
                parts.append(f"---\n# Source: {path}\n{document.strip()}\n")
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["render", "lint", "version"])
    parser.add_argument("chart", nargs="?")
    parser.add_argument("--name", default="seaworthy")
    parser.add_argument("--namespace", default="seaworthy-system")
    parser.add_argument("--values", default="{}", help="values as a JSON object")
    parser.add_argument("--upgrade", action="store_true", help="render as `helm upgrade` would")
    args = parser.parse_args()
    values = json.loads(args.values)

    if args.command == "version":
        result = {"sdk": helm_python.__version__, "helm": helm_python.helm_sdk_version()}
    elif args.command == "render":
        with helm_python.Chart.load(args.chart) as chart:
            rendered = chart.render(
                values,
                name=args.name,
                namespace=args.namespace,
                is_install=not args.upgrade,
                is_upgrade=args.upgrade,
                revision=2 if args.upgrade else 1,
            )
        notes = next((text for path, text in rendered.items() if path.endswith("NOTES.txt")), "")
        result = {"manifest": manifest_stream(rendered), "notes": notes}
    else:
        result = helm_python.lint(args.chart, values, strict=True, namespace=args.namespace)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except helm_python.HelmError as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)
