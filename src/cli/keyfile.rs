//! The voter's key file: an Ed25519 key and the last sequence number it signed, as JSON in a
//! file only its owner can read (mode 0600, like the service's key, see `crate::keys`).
//!
//! ```json
//! {
//!   "format": "stembus-key",
//!   "version": 1,
//!   "public_key": "…64 hex digits…",
//!   "secret_key": "…64 hex digits…",
//!   "last_sequence": 1767225600000000
//! }
//! ```
//!
//! The sequence number is written to the file *before* the statement that carries it is sent,
//! so a number is never used twice from this file even when an answer is lost.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::CliError;
use crate::ledger::log::{hex, unhex};

/// The `format` field of a key file.
pub const FORMAT: &str = "stembus-key";
/// The version of the key file this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    version: u32,
    public_key: String,
    secret_key: String,
    last_sequence: u64,
}

/// A loaded key file.
pub struct KeyFile {
    path: PathBuf,
    key: SigningKey,
    last_sequence: u64,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .field("public_key", &self.public_hex())
            .field("last_sequence", &self.last_sequence)
            .finish_non_exhaustive()
    }
}

impl KeyFile {
    /// A new key from the operating system's random numbers, written to a new file at `path`
    /// (mode 0600). Refuses to replace a file that is there.
    pub fn generate(path: &Path) -> Result<Self, CliError> {
        if path.exists() {
            return Err(CliError::KeyFile {
                path: path.display().to_string(),
                reason: "the file exists; a key file is never overwritten (choose another name)".into(),
            });
        }
        let secret = crate::keys::random_secret().map_err(|e| CliError::Usage(e.to_string()))?;
        let file = KeyFile { path: path.to_owned(), key: SigningKey::from_bytes(&secret), last_sequence: 0 };
        crate::keys::create_private(path, &file.contents()?).map_err(|e| file.error(e.to_string()))?;
        Ok(file)
    }

    /// The key file at `path`, checked: its format, and that its public key is the secret key's.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let error = |reason: String| CliError::KeyFile { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let stored: Stored =
            serde_json::from_str(&text).map_err(|e| error(format!("not a Stembus key file: {e}")))?;
        if stored.format != FORMAT || stored.version != VERSION {
            return Err(error(format!(
                "it is of format {} version {}; this build reads {FORMAT} version {VERSION}",
                stored.format, stored.version
            )));
        }
        let secret: [u8; 32] = unhex(&stored.secret_key)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| error("secret_key is not 64 hexadecimal digits".into()))?;
        let key = SigningKey::from_bytes(&secret);
        if hex(key.verifying_key().as_bytes()) != stored.public_key.to_ascii_lowercase() {
            return Err(error("its public_key is not the public half of its secret_key".into()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                eprintln!("warning: the key file {} can be read by others; `chmod 600` it", path.display());
            }
        }
        Ok(KeyFile { path: path.to_owned(), key, last_sequence: stored.last_sequence })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key, as lowercase hex.
    pub fn public_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// The highest sequence number this file has given out (0 for a new key).
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Records that `sequence` is used, replacing the file atomically (a new file with mode
    /// 0600, then renamed over the old one). The number only ever goes up.
    pub fn record_sequence(&mut self, sequence: u64) -> Result<(), CliError> {
        if sequence <= self.last_sequence {
            return Ok(());
        }
        let previous = self.last_sequence;
        self.last_sequence = sequence;
        let written = self.rewrite();
        if written.is_err() {
            self.last_sequence = previous;
        }
        written
    }

    fn rewrite(&self) -> Result<(), CliError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temporary = self.path.with_file_name(format!(".{name}.new"));
        match std::fs::remove_file(&temporary) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(self.error(e.to_string())),
            _ => {}
        }
        crate::keys::create_private(&temporary, &self.contents()?).map_err(|e| self.error(e.to_string()))?;
        std::fs::rename(&temporary, &self.path).map_err(|e| self.error(e.to_string()))?;
        // The rename is durable once the directory is synced; where that is not possible the
        // file is still whole, only perhaps the older one after a crash.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    fn contents(&self) -> Result<Vec<u8>, CliError> {
        let stored = Stored {
            format: FORMAT.into(),
            version: VERSION,
            public_key: self.public_hex(),
            secret_key: hex(self.key.as_bytes()),
            last_sequence: self.last_sequence,
        };
        let mut bytes = serde_json::to_vec_pretty(&stored).map_err(|e| self.error(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    fn error(&self, reason: String) -> CliError {
        CliError::KeyFile { path: self.path.display().to_string(), reason }
    }
}

/// The sequence number to sign with next: above the last this key file gave out, above the
/// last the service recorded for the key, and at least the current time in microseconds since
/// 1970, so that it never goes back, even when the same key is used from two devices.
pub fn next_sequence(file_last: u64, service_last: Option<u64>, now_micros: u64) -> u64 {
    file_last.saturating_add(1).max(service_last.map_or(0, |s| s.saturating_add(1))).max(now_micros)
}

/// The current time in microseconds since 1970 (0 on a clock set before then).
pub fn now_micros() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_never_goes_back() {
        assert_eq!(next_sequence(0, None, 1_000), 1_000);
        assert_eq!(next_sequence(5_000, None, 1_000), 5_001);
        assert_eq!(next_sequence(5_000, Some(9_000), 1_000), 9_001);
        assert_eq!(next_sequence(0, Some(0), 0), 1);
        assert_eq!(next_sequence(u64::MAX, None, 0), u64::MAX);
    }
}
