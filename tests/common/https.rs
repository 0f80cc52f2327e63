//! The webhook tests' tools: a certificate authority made in the test (rcgen), the real
//! `seaworthy serve` binary started on 127.0.0.1 with ephemeral ports, and an HTTPS client that
//! trusts that CA (optionally presenting a client certificate).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream as AsyncTcpStream;

pub struct Ca {
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("self-signed CA");
        Ca {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for these names (DNS names or IP addresses) signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).expect("params");
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl Ca {
    /// A certificate for these names valid only between two dates (year, month, day; midnight
    /// UTC), to test expired and not-yet-valid certificates.
    pub fn leaf_valid(
        &self,
        names: &[&str],
        not_before: (i32, u8, u8),
        not_after: (i32, u8, u8),
    ) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A running `seaworthy serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub health: SocketAddr,
    pub dir: tempfile::TempDir,
    pub ca: Ca,
    pub log: Arc<Mutex<Vec<String>>>,
    /// While set, nothing reads the server's log output: its pipe fills as a stalled log
    /// collector's would.
    pub log_paused: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Options<'a> {
    pub args: Vec<String>,
    /// Files written into the server's directory before it starts (name, contents).
    pub files: Vec<(&'a str, String)>,
}

impl Server {
    /// Starts the server with a fresh CA and a certificate for 127.0.0.1 and localhost in
    /// `tls.crt` / `tls.key` of its directory; waits until it logs its addresses.
    pub fn start(options: Options) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = Ca::new("seaworthy test CA");
        let leaf = ca.leaf(&["127.0.0.1", "localhost"]);
        std::fs::write(dir.path().join("tls.crt"), &leaf.cert_pem).expect("write cert");
        std::fs::write(dir.path().join("tls.key"), &leaf.key_pem).expect("write key");
        std::fs::write(dir.path().join("ca.crt"), &ca.cert_pem).expect("write ca");
        for (name, text) in &options.files {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(path, text).expect("write file");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_seaworthy"))
            .current_dir(dir.path())
            .args([
                "serve",
                "--tls-cert",
                "tls.crt",
                "--tls-key",
                "tls.key",
                "--listen",
                "127.0.0.1:0",
                "--health-listen",
                "127.0.0.1:0",
                "--watch-interval",
                "100ms",
            ])
            .args(&options.args)
            .env_remove("POD_NAMESPACE")
            .env_remove("SEAWORTHY_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start seaworthy serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        let log_paused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let paused = log_paused.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("seaworthy serve starting") || line.starts_with("error:") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().expect("log").push(line);
                while paused.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", log.lock().expect("log")));
        assert!(
            !line.starts_with("error:"),
            "server failed to start: {line}"
        );
        // `listen=ADDR` in text logs, `"listen":"ADDR"` in JSON logs.
        let field = |name: &str| -> SocketAddr {
            [format!("{name}="), format!("\"{name}\":\"")]
                .iter()
                .find_map(|key| line.find(key.as_str()).map(|at| at + key.len()))
                .and_then(|start| {
                    line[start..]
                        .split(|c: char| c.is_whitespace() || c == '"')
                        .next()
                        .and_then(|a| a.parse().ok())
                })
                .unwrap_or_else(|| panic!("no {name} address in {line}"))
        };
        Server {
            addr: field("listen"),
            health: field("health"),
            child,
            dir,
            ca,
            log,
            log_paused,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn logs(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// GET on the health port: (status, body).
    pub fn health_get(&self, path: &str) -> (u16, String) {
        http_get(self.health, path)
    }

    /// A metric's value from /metrics (the line that starts with `series`), 0 when absent.
    pub fn metric(&self, series: &str) -> f64 {
        let (_, body) = self.health_get("/metrics");
        body.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Polls until `check` holds or the timeout passes.
    pub fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn() -> bool) {
        let start = Instant::now();
        while !check() {
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; server log:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub async fn connect(&self) -> Result<Conn, String> {
        connect(self.addr, &self.ca.cert_pem, None).await
    }
}

pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect health port");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// One keep-alive HTTPS connection.
pub struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The DER of the certificate the server presented in this connection's handshake.
    pub server_cert: Vec<u8>,
}

pub fn tls_client_config(
    ca_pem: &str,
    identity: Option<&Leaf>,
) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some(leaf) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(leaf.cert_pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?;
            let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes())
                .map_err(|e| e.to_string())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())
        }
    }
}

pub async fn connect(
    addr: SocketAddr,
    ca_pem: &str,
    identity: Option<&Leaf>,
) -> Result<Conn, String> {
    let config = tls_client_config(ca_pem, identity)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = AsyncTcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // As the API server's client does: no Nagle delay between a request's TLS records.
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let name = ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    let tls = connector
        .connect(name.to_owned(), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let server_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Conn {
        sender,
        server_cert,
    })
}

impl Conn {
    /// POST; returns the status and body. Errors are transport errors (a TLS alert, a reset).
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let request = hyper::Request::post(path)
            .header("host", "127.0.0.1")
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, bytes.to_vec()))
    }

    /// POSTs an AdmissionReview and returns (status, parsed JSON).
    pub async fn review(&mut self, body: Vec<u8>) -> (u16, serde_json::Value) {
        let (status, bytes) = self
            .post("/validate", "application/json", body)
            .await
            .expect("request answered");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "answer is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, json)
    }
}

/// The Deployment AdmissionReview `name` of fixtures/admission, with its first container repeated
/// to `n` containers (`c0`, `c1`, ...).
pub fn deployment_with_containers(name: &str, n: usize) -> Vec<u8> {
    let mut review: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("fixture");
    let containers = review["request"]["object"]["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers");
    let first = containers[0].clone();
    containers.clear();
    for i in 0..n {
        let mut c = first.clone();
        c["name"] = serde_json::Value::from(format!("c{i}"));
        containers.push(c);
    }
    serde_json::to_vec(&review).expect("json")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/admission")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `response` of an AdmissionReview answer (checked to be one).
pub fn response(review: &serde_json::Value) -> &serde_json::Value {
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1", "{review}");
    assert_eq!(review["kind"], "AdmissionReview", "{review}");
    &review["response"]
}

/// The warnings of an AdmissionResponse, in order.
pub fn warnings(response: &serde_json::Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The message of a denial ("" when allowed).
pub fn denial(response: &serde_json::Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
