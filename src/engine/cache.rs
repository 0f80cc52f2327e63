//! The on-disk cache of what loading the policies costs at every start: the rules' checked
//! metadata (which otherwise takes parsing every policy and one evaluation per rule) and the RVM
//! program compiled for the enabled rules. A one-file lint in a pre-commit hook would otherwise
//! spend most of its time redoing this work.
//!
//! An entry is found by a name derived from its key, and used only when the key stored in the file
//! is byte for byte the key of this run (the policies' full text, the entry points, seaworthy's
//! version and the identity of the executable), so a hash collision cannot serve a wrong entry.
//! A checksum over the whole file catches a truncated or damaged one. Any failure to read, parse or
//! write the cache makes it a miss, silently: the cache never changes what a run reports.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Environment variable that turns the cache off when set to anything but "" or "0".
pub const NO_CACHE_ENV: &str = "SEAWORTHY_NO_CACHE";

/// Layout version of the cache files; bump when the layout or a payload's encoding changes.
const FORMAT: &[u8; 8] = b"SWCACHE2";

/// Entries kept per kind. Every new build of seaworthy, policy edit or set of enabled rules makes
/// a new entry; the oldest beyond this many are removed when one is written, so the directory
/// stays a few megabytes.
const KEEP_PER_KIND: usize = 8;

/// Where cache entries are kept, or nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// A cache that never hits and never writes.
    pub fn disabled() -> Cache {
        Cache { dir: None }
    }

    /// A cache in this directory (created on the first write).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: Some(dir.into()),
        }
    }

    /// The user's cache: `$XDG_CACHE_HOME/seaworthy`, else `~/.cache/seaworthy`; disabled when
    /// `SEAWORTHY_NO_CACHE` is set or no home directory is known.
    pub fn from_env() -> Cache {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if set(NO_CACHE_ENV).is_some_and(|v| v != "0") {
            return Cache::disabled();
        }
        let base = set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")));
        match base {
            Some(base) => Cache::in_dir(base.join("seaworthy")),
            None => Cache::disabled(),
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The payload stored under `key`, if there is an intact entry for exactly this key.
    pub(crate) fn load(&self, key: &Key) -> Option<Payload> {
        let path = self.path_for(key)?;
        let data = std::fs::read(path).ok()?;
        let payload = decode(&data, &key.bytes)?;
        // Where the payload lies in the file's bytes, which are kept rather than copied.
        let start = payload.as_ptr() as usize - data.as_ptr() as usize;
        Some(Payload {
            range: start..start + payload.len(),
            data,
        })
    }

    /// Stores `payload` under `key`. Written to a temporary file and renamed into place, so a
    /// concurrent run sees the old entry or the new one, never half of one. Errors are ignored: a
    /// read-only or full disk only costs the next run the time the cache would have saved.
    pub(crate) fn store(&self, key: &Key, payload: &[u8]) {
        let Some(path) = self.path_for(key) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let temp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
            std::process::id()
        ));
        let written = std::fs::File::create(&temp)
            .and_then(|mut file| file.write_all(&encode(&key.bytes, payload)));
        if written.is_err() || std::fs::rename(&temp, &path).is_err() {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        prune(dir, key.kind, KEEP_PER_KIND);
    }

    fn path_for(&self, key: &Key) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{}-{:08x}.bin", key.kind, crc32(&key.bytes))))
    }
}

/// Removes the least recently written entries of `kind` beyond the newest `keep`.
fn prune(dir: &Path, kind: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{kind}-");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".bin")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if found.len() <= keep {
        return;
    }
    found.sort();
    for (_, path) in &found[..found.len() - keep] {
        let _ = std::fs::remove_file(path);
    }
}

/// A cache entry's payload, inside the bytes read from its file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    data: Vec<u8>,
    range: std::ops::Range<usize>,
}

/// Bytes made here rather than read from the cache (the compiled program, serialized).
impl From<Vec<u8>> for Payload {
    fn from(data: Vec<u8>) -> Payload {
        Payload {
            range: 0..data.len(),
            data,
        }
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.data[self.range.clone()]
    }
}

/// What a cache entry depends on, as length-prefixed fields.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    kind: &'static str,
    bytes: Vec<u8>,
}

impl Key {
    /// A key for entries of `kind`, already holding seaworthy's version and the executable's
    /// identity: a rebuilt binary (same version, new code) must not trust what an older build wrote.
    pub(crate) fn new(kind: &'static str) -> Key {
        let mut key = Key {
            kind,
            bytes: Vec::new(),
        };
        key.add(kind.as_bytes());
        key.add(env!("CARGO_PKG_VERSION").as_bytes());
        key.add(executable_identity().as_bytes());
        key
    }

    /// Makes room for `bytes` more bytes of fields, so a large key is built without regrowing.
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.bytes.reserve(bytes);
    }

    pub(crate) fn add(&mut self, field: &[u8]) {
        self.bytes
            .extend_from_slice(&(field.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(field);
    }
}

/// Size and modification time of the running executable, or "" when they cannot be read.
fn executable_identity() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    match meta {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}:{modified}", meta.len())
        }
        Err(_) => String::new(),
    }
}

/// CRC-32 (IEEE): a fixed, documented function (std's `DefaultHasher` may change between Rust
/// releases). It names files and catches accidental damage; the key is compared in full, so it
/// does not need to resist collisions (two keys with one name only take turns in one file).
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// `FORMAT | key length | key | payload length | payload | checksum of everything before it`.
fn encode(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FORMAT.len() + key.len() + payload.len() + 20);
    out.extend_from_slice(FORMAT);
    out.extend_from_slice(&(key.len() as u64).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let checksum = crc32(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// The payload of an entry, if the file is intact and was written for exactly `key`.
fn decode<'a>(data: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let (body, checksum) = data.split_at_checked(data.len().checked_sub(4)?)?;
    if u32::from_le_bytes(checksum.try_into().ok()?) != crc32(body) {
        return None;
    }
    let rest = body.strip_prefix(FORMAT.as_slice())?;
    let (stored_key, rest) = take_field(rest)?;
    if stored_key != key {
        return None;
    }
    let (payload, rest) = take_field(rest)?;
    rest.is_empty().then_some(payload)
}

fn take_field(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_at_checked(8)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    rest.split_at_checked(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        let mut key = Key::new("test");
        key.add(text.as_bytes());
        key
    }

    #[test]
    fn round_trips_and_rejects_other_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::in_dir(dir.path().join("nested"));
        assert_eq!(cache.load(&key("a")), None);
        cache.store(&key("a"), b"payload");
        assert_eq!(cache.load(&key("a")).as_deref(), Some(&b"payload"[..]));
        cache.store(&key("a"), b"");
        assert_eq!(
            cache.load(&key("a")).as_deref(),
            Some(&b""[..]),
            "an empty payload"
        );
        assert_eq!(cache.load(&key("b")), None);
    }

    #[test]
    fn damaged_entries_are_misses() {
        let encoded = encode(b"key", b"payload");
        assert_eq!(decode(&encoded, b"key"), Some(&b"payload"[..]));
        assert_eq!(decode(&encoded, b"other"), None);
        for cut in 0..encoded.len() {
            assert_eq!(decode(&encoded[..cut], b"key"), None, "truncated at {cut}");
        }
        for index in 0..encoded.len() {
            let mut flipped = encoded.clone();
            flipped[index] ^= 0x10;
            assert_eq!(decode(&flipped, b"key"), None, "byte {index} flipped");
        }
    }

    #[test]
    fn old_entries_are_pruned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::in_dir(dir.path());
        for i in 0..KEEP_PER_KIND + 3 {
            cache.store(&key(&i.to_string()), b"x");
        }
        std::fs::write(dir.path().join("unrelated.txt"), "kept").expect("write");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert_eq!(
            names.iter().filter(|n| n.starts_with("test-")).count(),
            KEEP_PER_KIND
        );
        assert!(names.contains(&"unrelated.txt".to_string()));
        assert!(!names.iter().any(|n| n.ends_with(".tmp")));
    }

    #[test]
    fn a_disabled_cache_stores_nothing() {
        let cache = Cache::disabled();
        cache.store(&key("a"), b"x");
        assert_eq!(cache.load(&key("a")), None);
    }

    #[test]
    fn the_checksum_is_crc32_ieee() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the standard check value");
    }
}
