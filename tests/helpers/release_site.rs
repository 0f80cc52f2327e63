//! A release download site on 127.0.0.1 for the tests of `scripts/install`, the prebuilt
//! pre-commit hook and the GitHub Action: the layout the release workflow publishes
//! (`v<version>/seaworthy-<version>-<target>.tar.gz` and its `.sha256`), holding the binary these
//! tests were built with, served over real HTTP to the real `curl` the scripts run.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct ReleaseSite {
    /// The base the scripts take as `$SEAWORTHY_RELEASE_URL`.
    pub url: String,
    /// The version published.
    pub version: String,
    _dir: tempfile::TempDir,
}

/// The release target `scripts/install` picks on this machine.
pub fn this_target() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("no release target for {other}"),
    };
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-musl"),
        "macos" => format!("{arch}-apple-darwin"),
        other => panic!("no release target for {other}"),
    }
}

/// Publishes `binary` as release `version`; with `tamper`, the published checksum is wrong.
pub fn publish(version: &str, binary: &Path, tamper: bool) -> ReleaseSite {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let name = format!("seaworthy-{version}-{}", this_target());
    let staging = dir.path().join("staging").join(&name);
    std::fs::create_dir_all(&staging).expect("staging directory");
    std::fs::copy(binary, staging.join("seaworthy")).expect("copy the binary");
    let release = dir.path().join(format!("v{version}"));
    std::fs::create_dir_all(&release).expect("release directory");
    let archive = release.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path().join("staging"))
        .arg(&name)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar failed");
    let digest = sha256_hex(&archive);
    let published = if tamper { "0".repeat(64) } else { digest };
    std::fs::write(
        release.join(format!("{name}.tar.gz.sha256")),
        format!("{published}  {name}.tar.gz\n"),
    )
    .expect("write the checksum");
    let url = serve(dir.path().to_path_buf());
    ReleaseSite {
        url,
        version: version.to_string(),
        _dir: dir,
    }
}

fn sha256_hex(path: &Path) -> String {
    // The same tools the scripts use, so the test does not carry its own SHA-256.
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(path)
                .output()
        })
        .expect("sha256sum or shasum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// Serves the files under `root` (GET only) until the test process ends.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let file = root.join(path.trim_start_matches('/'));
            let response = match (path.contains(".."), std::fs::read(&file)) {
                (false, Ok(body)) => {
                    let mut head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    head.extend(body);
                    head
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    url
}
