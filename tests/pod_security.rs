//! The Pod Security Standards, control by control, as the published standard states them: for each
//! control a table of the fields it restricts, the values it allows, pods that pass and pods that
//! fail. Written here from the text of the standard (baseline and restricted profiles, policy
//! version 1.37), not copied from anyone's fixtures; the comparison with the Kubernetes project's own
//! Pod Security Admission fixtures is a separate conformance command (`scripts/conformance`).
//!
//! Each case is a change to one pod that passes the restricted level (`base_pod`). A passing case
//! gets no finding from any rule of area `security` at the control's level; a failing case gets a
//! finding from the control's own rule at its level and at every stricter level. A restricted
//! control's failing cases pass the baseline level: they are what the restricted level adds.

mod common;

use std::collections::BTreeSet;

use seaworthy::config::{Config, PodSecurity};
use seaworthy::engine::{Backend, Catalog, Evaluator};
use seaworthy::lint::{self, Outcome};
use seaworthy::manifest::{Input, LoadOptions};
use seaworthy::suppress::Suppressor;
use serde_json::{json, Value};

/// A change to the base pod: `(dotted path, JSON value)`; `null` removes the field. Numeric path
/// segments index lists.
type Case = &'static [(&'static str, &'static str)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Baseline,
    Restricted,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    fn pod_security(self) -> PodSecurity {
        match self {
            Level::Baseline => PodSecurity::Baseline,
            Level::Restricted => PodSecurity::Restricted,
        }
    }

    /// This level and every stricter one.
    fn and_stricter(self) -> &'static [Level] {
        match self {
            Level::Baseline => &[Level::Baseline, Level::Restricted],
            Level::Restricted => &[Level::Restricted],
        }
    }
}

/// One control of the standard.
struct Control {
    /// The control's key in a rule's metadata (`control`).
    id: &'static str,
    level: Level,
    /// The rule whose metadata names this control.
    rule: &'static str,
    /// The restricted fields, as the standard lists them.
    fields: &'static [&'static str],
    /// The allowed values, as the standard states them.
    allowed: &'static str,
    pass: &'static [Case],
    fail: &'static [Case],
}

const CONTROLS: &[Control] = &[
    // ---------------------------------------------------------------- baseline
    Control {
        id: "windowsHostProcess",
        level: Level::Baseline,
        rule: "host-process",
        fields: &[
            "spec.securityContext.windowsOptions.hostProcess",
            "spec.containers[*].securityContext.windowsOptions.hostProcess",
            "spec.initContainers[*].securityContext.windowsOptions.hostProcess",
            "spec.ephemeralContainers[*].securityContext.windowsOptions.hostProcess",
        ],
        allowed: "undefined/nil, false",
        pass: &[
            &[(
                "spec.securityContext.windowsOptions",
                r#"{"hostProcess": false}"#,
            )],
            &[(
                "spec.containers.0.securityContext.windowsOptions",
                r#"{"hostProcess": false}"#,
            )],
        ],
        fail: &[
            &[(
                "spec.securityContext.windowsOptions",
                r#"{"hostProcess": true}"#,
            )],
            &[(
                "spec.containers.0.securityContext.windowsOptions",
                r#"{"hostProcess": true}"#,
            )],
            &[(
                "spec.initContainers.0.securityContext.windowsOptions",
                r#"{"hostProcess": true}"#,
            )],
        ],
    },
    Control {
        id: "hostNamespaces",
        level: Level::Baseline,
        rule: "host-namespaces",
        fields: &["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"],
        allowed: "undefined/nil, false",
        pass: &[&[
            ("spec.hostNetwork", "false"),
            ("spec.hostPID", "false"),
            ("spec.hostIPC", "false"),
        ]],
        fail: &[
            &[("spec.hostNetwork", "true")],
            &[("spec.hostPID", "true")],
            &[("spec.hostIPC", "true")],
        ],
    },
    Control {
        id: "privileged",
        level: Level::Baseline,
        rule: "privileged-container",
        fields: &[
            "spec.containers[*].securityContext.privileged",
            "spec.initContainers[*].securityContext.privileged",
            "spec.ephemeralContainers[*].securityContext.privileged",
        ],
        allowed: "undefined/nil, false",
        pass: &[&[("spec.containers.0.securityContext.privileged", "false")]],
        fail: &[
            &[("spec.containers.0.securityContext.privileged", "true")],
            &[("spec.initContainers.0.securityContext.privileged", "true")],
        ],
    },
    Control {
        id: "capabilities_baseline",
        level: Level::Baseline,
        rule: "dangerous-capabilities",
        fields: &[
            "spec.containers[*].securityContext.capabilities.add",
            "spec.initContainers[*].securityContext.capabilities.add",
            "spec.ephemeralContainers[*].securityContext.capabilities.add",
        ],
        allowed: "undefined/nil, AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, \
                  NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT",
        // Baseline-only: at the restricted level only NET_BIND_SERVICE may be added.
        pass: &[],
        fail: &[
            &[(
                "spec.containers.0.securityContext.capabilities.add",
                r#"["SYS_ADMIN"]"#,
            )],
            &[(
                "spec.containers.0.securityContext.capabilities.add",
                r#"["NET_RAW"]"#,
            )],
            &[(
                "spec.initContainers.0.securityContext.capabilities.add",
                r#"["CHOWN", "SYS_PTRACE"]"#,
            )],
        ],
    },
    Control {
        id: "hostPathVolumes",
        level: Level::Baseline,
        rule: "host-path-volume",
        fields: &["spec.volumes[*].hostPath"],
        allowed: "undefined/nil",
        pass: &[&[("spec.volumes", r#"[{"name": "scratch", "emptyDir": {}}]"#)]],
        fail: &[&[(
            "spec.volumes",
            r#"[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]"#,
        )]],
    },
    Control {
        id: "hostPorts",
        level: Level::Baseline,
        rule: "host-port",
        fields: &[
            "spec.containers[*].ports[*].hostPort",
            "spec.initContainers[*].ports[*].hostPort",
            "spec.ephemeralContainers[*].ports[*].hostPort",
        ],
        allowed: "undefined/nil, 0 (and a known list the cluster's admin sets; empty by default)",
        pass: &[
            &[("spec.containers.0.ports", r#"[{"containerPort": 8080}]"#)],
            &[(
                "spec.containers.0.ports",
                r#"[{"containerPort": 8080, "hostPort": 0}]"#,
            )],
        ],
        fail: &[
            &[(
                "spec.containers.0.ports",
                r#"[{"containerPort": 8080, "hostPort": 8080}]"#,
            )],
            &[(
                "spec.initContainers.0.ports",
                r#"[{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]"#,
            )],
        ],
    },
    Control {
        id: "appArmorProfile",
        level: Level::Baseline,
        rule: "apparmor-unconfined",
        fields: &[
            "spec.securityContext.appArmorProfile.type",
            "spec.containers[*].securityContext.appArmorProfile.type",
            "spec.initContainers[*].securityContext.appArmorProfile.type",
            "spec.ephemeralContainers[*].securityContext.appArmorProfile.type",
            "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/*\"]",
        ],
        allowed: "type: undefined/nil, RuntimeDefault, Localhost; annotation: undefined, \
                  runtime/default, localhost/*",
        pass: &[
            &[(
                "spec.securityContext.appArmorProfile",
                r#"{"type": "RuntimeDefault"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.appArmorProfile",
                r#"{"type": "Localhost", "localhostProfile": "k8s-app"}"#,
            )],
            &[(
                "metadata.annotations",
                r#"{"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}"#,
            )],
            &[(
                "metadata.annotations",
                r#"{"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-app"}"#,
            )],
        ],
        fail: &[
            &[(
                "spec.securityContext.appArmorProfile",
                r#"{"type": "Unconfined"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.appArmorProfile",
                r#"{"type": "Unconfined"}"#,
            )],
            &[(
                "metadata.annotations",
                r#"{"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}"#,
            )],
        ],
    },
    Control {
        id: "seLinuxOptions",
        level: Level::Baseline,
        rule: "selinux-override",
        fields: &[
            "spec.securityContext.seLinuxOptions.type",
            "spec.containers[*].securityContext.seLinuxOptions.type",
            "spec.securityContext.seLinuxOptions.user",
            "spec.containers[*].securityContext.seLinuxOptions.user",
            "spec.securityContext.seLinuxOptions.role",
            "spec.containers[*].securityContext.seLinuxOptions.role",
            "(and the same under initContainers and ephemeralContainers)",
        ],
        allowed: "type: undefined/\"\", container_t, container_init_t, container_kvm_t, \
                  container_engine_t; user and role: undefined/\"\"",
        pass: &[
            &[(
                "spec.securityContext.seLinuxOptions",
                r#"{"type": "container_t", "level": "s0:c123,c456"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.seLinuxOptions",
                r#"{"type": "container_init_t"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.seLinuxOptions",
                r#"{"type": "container_kvm_t"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.seLinuxOptions",
                r#"{"type": "container_engine_t"}"#,
            )],
            &[(
                "spec.securityContext.seLinuxOptions",
                r#"{"type": "", "user": "", "role": ""}"#,
            )],
        ],
        fail: &[
            &[(
                "spec.securityContext.seLinuxOptions",
                r#"{"type": "spc_t"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.seLinuxOptions",
                r#"{"type": "unconfined_t"}"#,
            )],
            &[(
                "spec.securityContext.seLinuxOptions",
                r#"{"user": "system_u"}"#,
            )],
            &[(
                "spec.initContainers.0.securityContext.seLinuxOptions",
                r#"{"role": "system_r"}"#,
            )],
        ],
    },
    Control {
        id: "procMount",
        level: Level::Baseline,
        rule: "unmasked-proc-mount",
        fields: &[
            "spec.containers[*].securityContext.procMount",
            "spec.initContainers[*].securityContext.procMount",
            "spec.ephemeralContainers[*].securityContext.procMount",
        ],
        allowed: "undefined/nil, Default; any value in a user namespace (spec.hostUsers: false)",
        pass: &[&[(
            "spec.containers.0.securityContext.procMount",
            r#""Default""#,
        )]],
        fail: &[
            &[(
                "spec.containers.0.securityContext.procMount",
                r#""Unmasked""#,
            )],
            &[
                ("spec.hostUsers", "true"),
                (
                    "spec.initContainers.0.securityContext.procMount",
                    r#""Unmasked""#,
                ),
            ],
        ],
    },
    Control {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        rule: "seccomp-unconfined",
        fields: &[
            "spec.securityContext.seccompProfile.type",
            "spec.containers[*].securityContext.seccompProfile.type",
            "spec.initContainers[*].securityContext.seccompProfile.type",
            "spec.ephemeralContainers[*].securityContext.seccompProfile.type",
        ],
        allowed: "undefined/nil, RuntimeDefault, Localhost",
        pass: &[&[(
            "spec.containers.0.securityContext.seccompProfile",
            r#"{"type": "Localhost", "localhostProfile": "profiles/app.json"}"#,
        )]],
        fail: &[
            &[(
                "spec.securityContext.seccompProfile",
                r#"{"type": "Unconfined"}"#,
            )],
            &[(
                "spec.containers.0.securityContext.seccompProfile",
                r#"{"type": "Unconfined"}"#,
            )],
        ],
    },
    Control {
        id: "sysctls",
        level: Level::Baseline,
        rule: "unsafe-sysctl",
        fields: &["spec.securityContext.sysctls[*].name"],
        allowed:
            "undefined/nil, kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, \
                  net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, \
                  net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, \
                  net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, \
                  net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem, \
                  net.ipv4.tcp_wmem, net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat",
        pass: &[
            &[(
                "spec.securityContext.sysctls",
                r#"[{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
                    {"name": "kernel.shm_rmid_forced", "value": "1"},
                    {"name": "net.ipv4.tcp_keepalive_time", "value": "600"}]"#,
            )],
            &[(
                "spec.securityContext.sysctls",
                r#"[{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]"#,
            )],
        ],
        fail: &[
            &[(
                "spec.securityContext.sysctls",
                r#"[{"name": "net.core.somaxconn", "value": "4096"}]"#,
            )],
            &[(
                "spec.securityContext.sysctls",
                r#"[{"name": "kernel.shm_rmid_forced", "value": "1"},
                    {"name": "kernel.msgmax", "value": "65536"}]"#,
            )],
        ],
    },
    Control {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        rule: "host-field-in-handler",
        fields: &[
            "spec.containers[*].livenessProbe.httpGet.host",
            "spec.containers[*].readinessProbe.httpGet.host",
            "spec.containers[*].startupProbe.httpGet.host",
            "spec.containers[*].livenessProbe.tcpSocket.host",
            "spec.containers[*].readinessProbe.tcpSocket.host",
            "spec.containers[*].startupProbe.tcpSocket.host",
            "spec.containers[*].lifecycle.postStart.httpGet.host",
            "spec.containers[*].lifecycle.preStop.httpGet.host",
            "spec.containers[*].lifecycle.postStart.tcpSocket.host",
            "spec.containers[*].lifecycle.preStop.tcpSocket.host",
            "(and the same under initContainers)",
        ],
        allowed: "undefined/nil, \"\"",
        pass: &[
            &[(
                "spec.containers.0.livenessProbe",
                r#"{"httpGet": {"path": "/healthz", "port": 8080}}"#,
            )],
            &[(
                "spec.containers.0.readinessProbe",
                r#"{"tcpSocket": {"host": "", "port": 8080}}"#,
            )],
        ],
        fail: &[
            &[(
                "spec.containers.0.livenessProbe",
                r#"{"httpGet": {"host": "169.254.169.254", "path": "/", "port": 80}}"#,
            )],
            &[(
                "spec.containers.0.readinessProbe",
                r#"{"tcpSocket": {"host": "10.0.0.1", "port": 22}}"#,
            )],
            &[(
                "spec.containers.0.lifecycle",
                r#"{"preStop": {"httpGet": {"host": "localhost", "path": "/drain", "port": 10250}}}"#,
            )],
        ],
    },
    // ---------------------------------------------------------------- restricted
    Control {
        id: "restrictedVolumes",
        level: Level::Restricted,
        rule: "restricted-volume-type",
        fields: &["spec.volumes[*]"],
        allowed: "configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, \
                  projected, secret",
        pass: &[&[(
            "spec.volumes",
            r#"[{"name": "a", "configMap": {"name": "cfg"}},
                {"name": "b", "csi": {"driver": "secrets-store.csi.k8s.io"}},
                {"name": "c", "downwardAPI": {"items": []}},
                {"name": "d", "emptyDir": {}},
                {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "f", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "g", "projected": {"sources": []}},
                {"name": "h", "secret": {"secretName": "tls"}}]"#,
        )]],
        fail: &[
            &[(
                "spec.volumes",
                r#"[{"name": "media", "nfs": {"server": "nas.example.com", "path": "/exports"}}]"#,
            )],
            &[(
                "spec.volumes",
                r#"[{"name": "src", "gitRepo": {"repository": "https://example.com/repo.git"}}]"#,
            )],
        ],
    },
    Control {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        rule: "privilege-escalation-allowed",
        fields: &[
            "spec.containers[*].securityContext.allowPrivilegeEscalation",
            "spec.initContainers[*].securityContext.allowPrivilegeEscalation",
            "spec.ephemeralContainers[*].securityContext.allowPrivilegeEscalation",
        ],
        allowed: "false",
        pass: &[],
        fail: &[
            &[(
                "spec.containers.0.securityContext.allowPrivilegeEscalation",
                "true",
            )],
            &[(
                "spec.containers.0.securityContext.allowPrivilegeEscalation",
                "null",
            )],
            &[(
                "spec.initContainers.0.securityContext.allowPrivilegeEscalation",
                "null",
            )],
        ],
    },
    Control {
        id: "runAsNonRoot",
        level: Level::Restricted,
        rule: "missing-run-as-non-root",
        fields: &[
            "spec.securityContext.runAsNonRoot",
            "spec.containers[*].securityContext.runAsNonRoot",
            "spec.initContainers[*].securityContext.runAsNonRoot",
            "spec.ephemeralContainers[*].securityContext.runAsNonRoot",
        ],
        allowed: "true; the container fields may be undefined/nil if the pod-level field is true",
        pass: &[&[
            ("spec.securityContext.runAsNonRoot", "null"),
            ("spec.containers.0.securityContext.runAsNonRoot", "true"),
            ("spec.initContainers.0.securityContext.runAsNonRoot", "true"),
        ]],
        fail: &[
            &[("spec.securityContext.runAsNonRoot", "null")],
            &[("spec.securityContext.runAsNonRoot", "false")],
            &[("spec.containers.0.securityContext.runAsNonRoot", "false")],
        ],
    },
    Control {
        id: "runAsUser",
        level: Level::Restricted,
        rule: "run-as-root",
        fields: &[
            "spec.securityContext.runAsUser",
            "spec.containers[*].securityContext.runAsUser",
            "spec.initContainers[*].securityContext.runAsUser",
            "spec.ephemeralContainers[*].securityContext.runAsUser",
        ],
        allowed: "any non-zero value, undefined/nil",
        pass: &[&[
            ("spec.securityContext.runAsUser", "1000"),
            ("spec.containers.0.securityContext.runAsUser", "65532"),
        ]],
        fail: &[
            &[("spec.securityContext.runAsUser", "0")],
            &[("spec.containers.0.securityContext.runAsUser", "0")],
        ],
    },
    Control {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        rule: "missing-seccomp-profile",
        fields: &[
            "spec.securityContext.seccompProfile.type",
            "spec.containers[*].securityContext.seccompProfile.type",
            "spec.initContainers[*].securityContext.seccompProfile.type",
            "spec.ephemeralContainers[*].securityContext.seccompProfile.type",
        ],
        allowed: "RuntimeDefault, Localhost; the container fields may be undefined/nil if the \
                  pod-level field is set",
        pass: &[&[
            ("spec.securityContext.seccompProfile", "null"),
            (
                "spec.containers.0.securityContext.seccompProfile",
                r#"{"type": "RuntimeDefault"}"#,
            ),
            (
                "spec.initContainers.0.securityContext.seccompProfile",
                r#"{"type": "Localhost", "localhostProfile": "profiles/init.json"}"#,
            ),
        ]],
        fail: &[
            &[("spec.securityContext.seccompProfile", "null")],
            &[
                ("spec.securityContext.seccompProfile", "null"),
                (
                    "spec.containers.0.securityContext.seccompProfile",
                    r#"{"type": "RuntimeDefault"}"#,
                ),
            ],
        ],
    },
    Control {
        id: "capabilities_restricted",
        level: Level::Restricted,
        rule: "capabilities-not-dropped",
        fields: &[
            "spec.containers[*].securityContext.capabilities.drop",
            "spec.initContainers[*].securityContext.capabilities.drop",
            "spec.ephemeralContainers[*].securityContext.capabilities.drop",
            "spec.containers[*].securityContext.capabilities.add (and init, ephemeral)",
        ],
        allowed: "drop: any list of capabilities that includes ALL; add: undefined/nil, \
                  NET_BIND_SERVICE",
        pass: &[&[(
            "spec.containers.0.securityContext.capabilities",
            r#"{"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}"#,
        )]],
        fail: &[
            &[("spec.containers.0.securityContext.capabilities", "null")],
            &[(
                "spec.containers.0.securityContext.capabilities",
                r#"{"drop": ["NET_RAW"]}"#,
            )],
            &[(
                "spec.initContainers.0.securityContext.capabilities",
                r#"{"drop": []}"#,
            )],
        ],
    },
    Control {
        id: "procMount_restricted",
        level: Level::Restricted,
        rule: "unmasked-proc-mount-userns",
        fields: &[
            "spec.containers[*].securityContext.procMount",
            "spec.initContainers[*].securityContext.procMount",
            "spec.ephemeralContainers[*].securityContext.procMount",
        ],
        allowed: "undefined/nil, Default (also in a user namespace)",
        pass: &[&[
            ("spec.hostUsers", "false"),
            (
                "spec.containers.0.securityContext.procMount",
                r#""Default""#,
            ),
        ]],
        fail: &[&[
            ("spec.hostUsers", "false"),
            (
                "spec.containers.0.securityContext.procMount",
                r#""Unmasked""#,
            ),
        ]],
    },
];

/// A pod that passes the restricted level: a regular and an init container, the pod-level
/// runAsNonRoot and seccomp profile, each container dropping ALL and not escalating.
fn base_pod() -> Value {
    let container = |name: &str| {
        json!({
            "name": name,
            "image": "registry.example.com/app:1.4.2",
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]}
            }
        })
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "shop"},
        "spec": {
            "securityContext": {
                "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"}
            },
            "initContainers": [container("init")],
            "containers": [container("app")]
        }
    })
}

/// Sets (or, for `null`, removes) the field at a dotted path, creating maps on the way.
fn set(pod: &mut Value, path: &str, value: &str) {
    let value: Value = serde_json::from_str(value)
        .unwrap_or_else(|e| panic!("case value for {path} is not JSON: {e}: {value}"));
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments.split_last().expect("a non-empty path");
    let mut node = pod;
    for segment in parents {
        node = match segment.parse::<usize>() {
            Ok(index) => node
                .get_mut(index)
                .unwrap_or_else(|| panic!("{path}: no item {index}")),
            Err(_) => node
                .as_object_mut()
                .unwrap_or_else(|| panic!("{path}: {segment} is not under a map"))
                .entry(segment.to_string())
                .or_insert_with(|| json!({})),
        };
    }
    let map = node
        .as_object_mut()
        .unwrap_or_else(|| panic!("{path}: the parent is not a map"));
    if value.is_null() {
        map.remove(*last);
    } else {
        map.insert(last.to_string(), value);
    }
}

fn pod_with(case: Case) -> Value {
    let mut pod = base_pod();
    for (path, value) in case {
        set(&mut pod, path, value);
    }
    pod
}

fn describe_case(case: Case) -> String {
    case.iter()
        .map(|(path, value)| format!("{path}={}", value.split_whitespace().collect::<String>()))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Linter {
    dir: tempfile::TempDir,
    baseline: Evaluator,
    restricted: Evaluator,
    count: usize,
}

impl Linter {
    fn new() -> Linter {
        let evaluator = |level: Level| {
            let config = Config {
                pod_security: level.pod_security(),
                ..Config::default()
            };
            lint::evaluator_for(&config, &[], Backend::Rvm).expect("built-in policies load")
        };
        Linter {
            dir: tempfile::tempdir().expect("a temporary directory"),
            baseline: evaluator(Level::Baseline),
            restricted: evaluator(Level::Restricted),
            count: 0,
        }
    }

    /// Lints one pod alone at a level, as a file of its own.
    fn lint(&mut self, level: Level, pod: &Value) -> Outcome {
        self.count += 1;
        let path = self.dir.path().join(format!("pod-{}.json", self.count));
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(pod).expect("a pod serialises"),
        )
        .expect("write the pod");
        let exemptions = Config::default().exemptions;
        let suppressor = Suppressor {
            exemptions: &exemptions,
            allow_annotations: true,
        };
        let evaluator = match level {
            Level::Baseline => &mut self.baseline,
            Level::Restricted => &mut self.restricted,
        };
        lint::lint_inputs(
            &[Input::Path(path)],
            &LoadOptions::default(),
            evaluator,
            &suppressor,
        )
    }
}

fn security_rules() -> BTreeSet<String> {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    catalog
        .rules
        .iter()
        .filter(|r| r.meta.area == "security")
        .map(|r| r.meta.id.clone())
        .collect()
}

fn findings(outcome: &Outcome, keep: impl Fn(&str) -> bool) -> Vec<String> {
    outcome
        .active()
        .filter(|f| keep(&f.rule))
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
}

#[test]
fn the_base_pod_passes_both_levels() {
    let security = security_rules();
    let mut linter = Linter::new();
    for level in [Level::Baseline, Level::Restricted] {
        let outcome = linter.lint(level, &base_pod());
        assert!(!outcome.broken, "the base pod does not load");
        let found = findings(&outcome, |rule| security.contains(rule));
        assert!(found.is_empty(), "{}: {found:?}", level.name());
    }
}

#[test]
fn every_control_passes_its_allowed_values_and_fails_the_others() {
    let security = security_rules();
    let mut linter = Linter::new();
    let mut disagreements = Vec::new();
    let mut cases = 0;
    for control in CONTROLS {
        assert!(
            !control.fields.is_empty() && !control.allowed.is_empty(),
            "{}: the table names its fields and allowed values",
            control.id
        );
        assert!(!control.fail.is_empty(), "{}: no failing pod", control.id);
        for case in control.pass {
            for &level in control.level.and_stricter() {
                cases += 1;
                let outcome = linter.lint(level, &pod_with(case));
                let found = findings(&outcome, |rule| security.contains(rule));
                if outcome.broken || !found.is_empty() {
                    disagreements.push(format!(
                        "{} at {}: [{}] should pass, found {found:?}",
                        control.id,
                        level.name(),
                        describe_case(case)
                    ));
                }
            }
        }
        for case in control.fail {
            for &level in control.level.and_stricter() {
                cases += 1;
                let outcome = linter.lint(level, &pod_with(case));
                if findings(&outcome, |rule| rule == control.rule).is_empty() {
                    disagreements.push(format!(
                        "{} at {}: [{}] should get a {} finding, found {:?}",
                        control.id,
                        level.name(),
                        describe_case(case),
                        control.rule,
                        findings(&outcome, |_| true)
                    ));
                }
            }
            if control.level == Level::Restricted {
                // What the restricted level adds passes the baseline.
                cases += 1;
                let outcome = linter.lint(Level::Baseline, &pod_with(case));
                let found = findings(&outcome, |rule| security.contains(rule));
                if !found.is_empty() {
                    disagreements.push(format!(
                        "{} at baseline: [{}] is restricted-only, found {found:?}",
                        control.id,
                        describe_case(case)
                    ));
                }
            }
        }
    }
    assert!(cases > 100, "only {cases} cases ran");
    assert!(
        disagreements.is_empty(),
        "{} of {cases} cases disagree with the Pod Security Standards:\n  {}",
        disagreements.len(),
        disagreements.join("\n  ")
    );
}

#[test]
fn each_failing_pod_fails_only_its_own_control() {
    // One mistake, one finding: a failing case of one control draws no finding from the rule of
    // another control of the same level (the base pod is clean, so anything else is noise).
    let mut linter = Linter::new();
    let own: BTreeSet<&str> = CONTROLS.iter().map(|c| c.rule).collect();
    let mut noisy = Vec::new();
    for control in CONTROLS {
        for case in control.fail {
            let outcome = linter.lint(control.level, &pod_with(case));
            let others = findings(&outcome, |rule| rule != control.rule && own.contains(rule));
            // The restricted capability rule also reports an added capability outside the
            // restricted set, which the baseline rule reports too; that pair is one control split
            // across two levels.
            let others: Vec<String> = others
                .into_iter()
                .filter(|f| {
                    !(control.id == "capabilities_baseline"
                        && f.starts_with("capabilities-not-dropped"))
                })
                .collect();
            if !others.is_empty() {
                noisy.push(format!(
                    "{} [{}]: {others:?}",
                    control.id,
                    describe_case(case)
                ));
            }
        }
    }
    assert!(noisy.is_empty(), "{}", noisy.join("\n"));
}

#[test]
fn the_tables_cover_every_rule_that_declares_a_control() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let ids: BTreeSet<&str> = CONTROLS.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), CONTROLS.len(), "a control is listed twice");
    for control in CONTROLS {
        let rule = catalog
            .rule(control.rule)
            .unwrap_or_else(|| panic!("{}: no built-in rule {}", control.id, control.rule));
        assert_eq!(
            rule.meta.control.as_deref(),
            Some(control.id),
            "{}",
            control.rule
        );
        assert_eq!(
            rule.meta.level.as_deref(),
            Some(control.level.name()),
            "{}",
            control.rule
        );
    }
    for rule in &catalog.rules {
        if let Some(control) = rule.meta.control.as_deref() {
            assert!(
                CONTROLS
                    .iter()
                    .any(|c| c.id == control && c.rule == rule.meta.id),
                "rule {} declares control {control}, which has no table here",
                rule.meta.id
            );
        }
    }
}
