//! The service's own Ed25519 key, which signs what the service vouches for (tree heads of the
//! log). Created on first start in a file only the service's user can read; never logged and
//! never returned: only its public half leaves the process.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::{SigningKey, VerifyingKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the service key {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the service key {path} is not a 32-byte Ed25519 secret key")]
    Malformed { path: String },
    #[error("no random numbers available: {0}")]
    Random(String),
}

/// The service key in `path`, created there when missing.
pub fn load_or_create(path: &Path) -> Result<SigningKey, KeyError> {
    let io = |e: std::io::Error| KeyError::Io { path: path.display().to_string(), reason: e.to_string() };
    match std::fs::read(path) {
        Ok(bytes) => {
            let secret: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::Malformed { path: path.display().to_string() })?;
            Ok(SigningKey::from_bytes(&secret))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_secret()?;
            create_private(path, &secret).map_err(io)?;
            Ok(SigningKey::from_bytes(&secret))
        }
        Err(e) => Err(io(e)),
    }
}

/// 32 bytes from the operating system's random number generator: a new Ed25519 secret key.
pub fn random_secret() -> Result<[u8; 32], KeyError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(secret)
}

/// Writes `bytes` to a new file at `path` that only its owner can read or write (mode 0600 on
/// Unix), creating the directory if needed; refuses to replace a file that is there.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The public half, as lowercase hex.
pub fn public_hex(key: &VerifyingKey) -> String {
    ::hex::encode(key.as_bytes())
}
