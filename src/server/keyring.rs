//! The server's keys for secrets at rest (TOTP secrets, pending setups, recovery-code MACs).
//!
//! Keys come from `MSSP_SECRET_KEYS` (`id:base64,id:base64`, the last one current) or from the
//! key file (`MSSP_KEY_FILE`, one `id base64` line per key, the last one current), which is
//! created with mode 0600 holding one new key when it does not exist. Encryption is
//! XChaCha20-Poly1305 with a random 192-bit nonce; the additional data binds a value to its
//! row, so a ciphertext moved to another admin does not decrypt. Each stored value records its
//! key id, so `rotate-key` can add a key and re-encrypt without a pause.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

#[derive(Clone)]
struct Key {
    id: String,
    bytes: [u8; KEY_BYTES],
}

/// Where the keys come from, to read them again after a rotation by another process.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Env,
}

#[derive(Clone)]
pub struct Keyring {
    keys: Arc<RwLock<Vec<Key>>>,
    source: Source,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self
            .keys
            .read()
            .map(|k| k.iter().map(|k| k.id.clone()).collect())
            .unwrap_or_default();
        write!(f, "Keyring({ids:?}, <keys redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0}: {1}")]
    File(PathBuf, String),
    #[error("MSSP_SECRET_KEYS: {0}")]
    Env(String),
    #[error("no key with id {0:?} (was the key file replaced?)")]
    UnknownKey(String),
    #[error("a stored secret does not decrypt (wrong key or altered data)")]
    Decrypt,
}

fn parse_keys(text: &str, separator: char) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    // The file has one key per line (and # comments); the environment a comma-separated list.
    let entries: Vec<&str> = if separator == ':' {
        text.split(',').collect()
    } else {
        text.lines().collect()
    };
    for entry in entries
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (id, encoded) = entry
            .split_once(separator)
            .ok_or_else(|| format!("expected `id{separator}base64`, got a line without it"))?;
        let raw = B64
            .decode(encoded.trim().trim_end_matches('='))
            .map_err(|e| format!("key {id}: {e}"))?;
        let bytes: [u8; KEY_BYTES] = raw
            .try_into()
            .map_err(|_| format!("key {id}: must be {KEY_BYTES} bytes"))?;
        keys.push(Key {
            id: id.trim().to_string(),
            bytes,
        });
    }
    if keys.is_empty() {
        return Err("no keys".into());
    }
    Ok(keys)
}

fn new_key(existing: &[Key]) -> Key {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let mut n = existing.len() + 1;
    while existing.iter().any(|k| k.id == format!("k{n}")) {
        n += 1;
    }
    Key {
        id: format!("k{n}"),
        bytes,
    }
}

fn render(keys: &[Key]) -> String {
    let mut text = String::from(
        "# mssp-dashboard secret keys: `id base64`, the last line is current. Keep private.\n",
    );
    for k in keys {
        text.push_str(&format!("{} {}\n", k.id, B64.encode(k.bytes)));
    }
    text
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str, create_new: bool) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str, _create_new: bool) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn mac_with(key: &Key, value: &str, context: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.bytes).expect("any key length");
    mac.update(context.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Keyring {
    /// From `MSSP_SECRET_KEYS` when given, else from the key file (created when missing).
    pub fn load(env_keys: Option<&str>, key_file: &Path) -> Result<Keyring, KeyError> {
        let (keys, source) = match env_keys {
            Some(text) => (parse_keys(text, ':').map_err(KeyError::Env)?, Source::Env),
            None => (
                Self::read_or_create(key_file)?,
                Source::File(key_file.to_path_buf()),
            ),
        };
        Ok(Keyring {
            keys: Arc::new(RwLock::new(keys)),
            source,
        })
    }

    fn read_or_create(path: &Path) -> Result<Vec<Key>, KeyError> {
        let err = |e: String| KeyError::File(path.to_path_buf(), e);
        match std::fs::read_to_string(path) {
            Ok(text) => parse_keys(&text, ' ').map_err(err),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = vec![new_key(&[])];
                match write_private(path, &render(&keys), true) {
                    Ok(()) => {
                        tracing::warn!(file = %path.display(), "created a new key file for secrets at rest: back it up");
                        Ok(keys)
                    }
                    // Another instance created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                        parse_keys(&text, ' ').map_err(err)
                    }
                    Err(e) => Err(err(e.to_string())),
                }
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    fn current(&self) -> Key {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.last().cloned().expect("a keyring always holds a key")
    }

    pub fn current_id(&self) -> String {
        self.current().id
    }

    fn find(&self, id: &str) -> Result<Key, KeyError> {
        if let Some(key) = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|k| k.id == id)
        {
            return Ok(key.clone());
        }
        // Another instance may have rotated the keys: read them again once.
        if let Source::File(path) = &self.source
            && let Ok(keys) = Self::read_or_create(path)
        {
            *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        }
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|k| k.id == id)
            .cloned()
            .ok_or_else(|| KeyError::UnknownKey(id.to_string()))
    }

    /// Encrypts `plaintext` bound to `context` (e.g. "totp:42"); answers (key id, base64 of
    /// nonce and ciphertext).
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> (String, String) {
        let key = self.current();
        let cipher = XChaCha20Poly1305::new_from_slice(&key.bytes).expect("32-byte key");
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption of a small buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        (key.id, B64.encode(out))
    }

    pub fn decrypt(&self, key_id: &str, stored: &str, context: &str) -> Result<Vec<u8>, KeyError> {
        let key = self.find(key_id)?;
        let raw = B64.decode(stored).map_err(|_| KeyError::Decrypt)?;
        if raw.len() < NONCE_BYTES {
            return Err(KeyError::Decrypt);
        }
        let (nonce, sealed) = raw.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| KeyError::Decrypt)?;
        XChaCha20Poly1305::new_from_slice(&key.bytes)
            .map_err(|_| KeyError::Decrypt)?
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| KeyError::Decrypt)
    }

    /// A keyed hash (HMAC-SHA-256) for values looked up by equality, such as recovery codes:
    /// a database dump alone cannot test guesses against it. Answers (key id, hex).
    pub fn mac(&self, value: &str, context: &str) -> (String, String) {
        let key = self.current();
        (key.id.clone(), mac_with(&key, value, context))
    }

    /// `mac` under a given (possibly older) key.
    pub fn mac_with(&self, key_id: &str, value: &str, context: &str) -> Result<String, KeyError> {
        Ok(mac_with(&self.find(key_id)?, value, context))
    }

    /// Adds a new current key to the key file (`rotate-key`). Old keys stay so that values not
    /// yet re-encrypted still decrypt.
    pub fn rotate(&self) -> Result<String, KeyError> {
        let Source::File(path) = &self.source else {
            return Err(KeyError::Env(
                "keys from the environment are rotated by changing MSSP_SECRET_KEYS".into(),
            ));
        };
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let key = new_key(&keys);
        let id = key.id.clone();
        keys.push(key);
        let tmp = path.with_extension("new");
        write_private(&tmp, &render(&keys), false)
            .map_err(|e| KeyError::File(tmp.clone(), e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| KeyError::File(path.clone(), e.to_string()))?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mssp-keyring-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("keys")
    }

    #[test]
    fn creates_a_private_key_file_and_round_trips() {
        let path = temp_file("create");
        let ring = Keyring::load(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (id, sealed) = ring.encrypt(b"JBSWY3DPEHPK3PXP", "totp:1");
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(
            ring.decrypt(&id, &sealed, "totp:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        // Bound to its row.
        assert!(matches!(
            ring.decrypt(&id, &sealed, "totp:2"),
            Err(KeyError::Decrypt)
        ));
        // Loading again reads the same key.
        let again = Keyring::load(None, &path).unwrap();
        assert_eq!(
            again.decrypt(&id, &sealed, "totp:1").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
        // Tampering is detected.
        let mut bytes = B64.decode(&sealed).unwrap();
        bytes[30] ^= 1;
        assert!(matches!(
            ring.decrypt(&id, &B64.encode(bytes), "totp:1"),
            Err(KeyError::Decrypt)
        ));
        assert!(!format!("{ring:?}").contains(&B64.encode(ring.current().bytes)));
    }

    #[test]
    fn rotation_adds_a_current_key_and_keeps_the_old_one() {
        let path = temp_file("rotate");
        let ring = Keyring::load(None, &path).unwrap();
        let (old_id, sealed) = ring.encrypt(b"secret", "ctx");
        let other_process = Keyring::load(None, &path).unwrap();
        let new_id = ring.rotate().unwrap();
        assert_ne!(old_id, new_id);
        assert_eq!(ring.current_id(), new_id);
        assert_eq!(ring.decrypt(&old_id, &sealed, "ctx").unwrap(), b"secret");
        // Another instance learns the new key when it meets it.
        let (id, fresh) = ring.encrypt(b"fresh", "ctx");
        assert_eq!(other_process.decrypt(&id, &fresh, "ctx").unwrap(), b"fresh");
    }

    #[test]
    fn keys_from_the_environment() {
        let key = B64.encode([7u8; 32]);
        let ring =
            Keyring::load(Some(&format!("a:{key},b:{key}")), Path::new("/nonexistent")).unwrap();
        assert_eq!(ring.current_id(), "b");
        assert!(Keyring::load(Some("a:short"), Path::new("/nonexistent")).is_err());
        assert!(ring.rotate().is_err());
        let (id, mac) = ring.mac("CODE", "recovery:1");
        assert_eq!(ring.mac_with(&id, "CODE", "recovery:1").unwrap(), mac);
        assert_ne!(ring.mac("CODE", "recovery:2").1, mac);
    }
}
