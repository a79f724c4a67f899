//! The server's keys for secrets at rest (TOTP secrets, pending setups, recovery-code MACs).
//!
//! Keys come from `MSSP_SECRET_KEYS` (`id:base64,id:base64`, the last one current) or from the
//! key file (one `id base64` line per key, the last one current). The file is created, with mode
//! 0600 and one new key, only when it does not exist and the database holds nothing encrypted
//! (the caller says so); an existing file readable by group or others is refused. Key ids are
//! random, so a key created by mistake never passes for a lost one of the same name.
//!
//! Encryption is XChaCha20-Poly1305 with a random 192-bit nonce; the additional data binds a
//! value to its row, so a ciphertext moved to another admin does not decrypt. Each stored value
//! records its key id, so `rotate-key` can add a key and re-encrypt without a pause.

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
    /// When the key file was last read again for an unknown id (at most every 10 s).
    reread: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
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
    #[error(
        "key file {0} does not exist, and the database holds secrets encrypted with keys that \
         were in it; a new key would make them unreadable"
    )]
    Missing(PathBuf),
    #[error(
        "key file {0} can be read by other users (mode {1:o}): run `chmod 600 {0}` and start again"
    )]
    Exposed(PathBuf, u32),
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
        let id = id.trim();
        // Ids are stored beside secrets and inside tokens: letters, digits, '-' and '_' only.
        if id.is_empty()
            || id.len() > 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "key id {id:?}: use 1 to 32 letters, digits, '-' or '_'"
            ));
        }
        let raw = B64
            .decode(encoded.trim().trim_end_matches('='))
            .map_err(|e| format!("key {id}: {e}"))?;
        let bytes: [u8; KEY_BYTES] = raw
            .try_into()
            .map_err(|_| format!("key {id}: must be {KEY_BYTES} bytes"))?;
        keys.push(Key {
            id: id.to_string(),
            bytes,
        });
    }
    if keys.is_empty() {
        return Err("no keys".into());
    }
    Ok(keys)
}

/// A new key with a random id (`k` and eight hex digits).
fn new_key(existing: &[Key]) -> Key {
    let mut bytes = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    loop {
        let id = format!("k{:08x}", rand::random::<u32>());
        if !existing.iter().any(|k| k.id == id) {
            return Key { id, bytes };
        }
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

/// A key file others can read is refused.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| KeyError::File(path.to_path_buf(), e.to_string()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed(path.to_path_buf(), mode));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<Key>, KeyError> {
    let err = |e: String| KeyError::File(path.to_path_buf(), e);
    check_private(path)?;
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    parse_keys(&text, ' ').map_err(err)
}

impl Keyring {
    /// From `MSSP_SECRET_KEYS` when given, else from the key file. A missing file is created
    /// (with one new key) only when `may_create`: the database holds nothing encrypted.
    pub fn load(
        env_keys: Option<&str>,
        key_file: &Path,
        may_create: bool,
    ) -> Result<Keyring, KeyError> {
        let (keys, source) = match env_keys {
            Some(text) => (parse_keys(text, ':').map_err(KeyError::Env)?, Source::Env),
            None => (
                Self::read_or_create(key_file, may_create)?,
                Source::File(key_file.to_path_buf()),
            ),
        };
        Ok(Keyring {
            keys: Arc::new(RwLock::new(keys)),
            source,
            reread: Arc::default(),
        })
    }

    /// Where the keys come from, for messages.
    pub fn source(&self) -> String {
        match &self.source {
            Source::File(path) => format!("the key file {}", path.display()),
            Source::Env => "MSSP_SECRET_KEYS".to_string(),
        }
    }

    /// The ids of the keys held.
    pub fn ids(&self) -> Vec<String> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|k| k.id.clone())
            .collect()
    }

    /// Whether a key with this id is held.
    pub fn has(&self, id: &str) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|k| k.id == id)
    }

    fn read_or_create(path: &Path, may_create: bool) -> Result<Vec<Key>, KeyError> {
        let err = |e: String| KeyError::File(path.to_path_buf(), e);
        match std::fs::metadata(path) {
            Ok(_) => read_file(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(KeyError::Missing(path.to_path_buf()));
                }
                let keys = vec![new_key(&[])];
                match write_private(path, &render(&keys), true) {
                    Ok(()) => {
                        tracing::warn!(file = %path.display(), "created a new key file for secrets at rest: back it up");
                        Ok(keys)
                    }
                    // Another instance created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_file(path),
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
        // Another instance may have rotated the keys: read the file again (at most every 10 s)
        // and add keys it holds that we do not. Never replace or drop a key we hold.
        let due = {
            let mut last = self.reread.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(10));
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if due
            && let Source::File(path) = &self.source
            && let Ok(on_disk) = read_file(path)
        {
            let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
            for key in on_disk {
                match keys.iter().find(|k| k.id == key.id) {
                    None => {
                        tracing::info!(key = %key.id, "learned a new key from the key file");
                        // Older keys first, the current one last: a learned key is the newest.
                        keys.push(key);
                    }
                    Some(held) if held.bytes != key.bytes => {
                        tracing::error!(key = %key.id, "the key file holds a different key under an id we know; keeping ours");
                    }
                    Some(_) => {}
                }
            }
        }
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|k| k.id == id)
            .cloned()
            .ok_or_else(|| KeyError::UnknownKey(id.to_string()))
    }

    /// The check value of key `id`: a fixed text sealed under it, which only that key opens.
    pub fn seal_check(&self, id: &str) -> Result<String, KeyError> {
        let key = self.find(id)?;
        Ok(seal(&key, CHECK_TEXT, CHECK_CONTEXT).1)
    }

    /// Whether key `id` is held and opens `check_value`.
    pub fn opens_check(&self, id: &str, check_value: &str) -> bool {
        self.decrypt(id, check_value, CHECK_CONTEXT)
            .is_ok_and(|text| text == CHECK_TEXT)
    }

    /// Encrypts `plaintext` bound to `context` (e.g. "totp:42"); answers (key id, base64 of
    /// nonce and ciphertext).
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> (String, String) {
        seal(&self.current(), plaintext, context)
    }
}

const CHECK_TEXT: &[u8] = b"mssp-dashboard key check";
const CHECK_CONTEXT: &str = "key-check";

fn seal(key: &Key, plaintext: &[u8], context: &str) -> (String, String) {
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
    (key.id.clone(), B64.encode(out))
}

impl Keyring {
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
        // A new file of our own (never an existing one, never through a link), then an atomic
        // rename, then the directory synced so the rename survives a crash.
        let tmp = path.with_extension(format!("new-{:08x}", rand::random::<u32>()));
        write_private(&tmp, &render(&keys), true)
            .map_err(|e| KeyError::File(tmp.clone(), e.to_string()))?;
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(KeyError::File(path.clone(), e.to_string()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(id)
    }
}

/// Compares two MACs in time that does not depend on where they differ.
pub fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
        let ring = Keyring::load(None, &path, true).unwrap();
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
        let again = Keyring::load(None, &path, true).unwrap();
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
        let ring = Keyring::load(None, &path, true).unwrap();
        let (old_id, sealed) = ring.encrypt(b"secret", "ctx");
        let other_process = Keyring::load(None, &path, true).unwrap();
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
        let ring = Keyring::load(
            Some(&format!("a:{key},b:{key}")),
            Path::new("/nonexistent"),
            true,
        )
        .unwrap();
        assert_eq!(ring.current_id(), "b");
        assert!(Keyring::load(Some("a:short"), Path::new("/nonexistent"), true).is_err());
        assert!(ring.rotate().is_err());
        let (id, mac) = ring.mac("CODE", "recovery:1");
        assert_eq!(ring.mac_with(&id, "CODE", "recovery:1").unwrap(), mac);
        assert_ne!(ring.mac("CODE", "recovery:2").1, mac);
    }

    #[test]
    fn a_missing_file_is_created_only_when_allowed_and_ids_are_random() {
        let path = temp_file("missing");
        assert!(matches!(
            Keyring::load(None, &path, false),
            Err(KeyError::Missing(_))
        ));
        assert!(
            !path.exists(),
            "no key file may be created when not allowed"
        );
        let first = Keyring::load(None, &path, true).unwrap().current_id();
        std::fs::remove_file(&path).unwrap();
        let second = Keyring::load(None, &path, true).unwrap().current_id();
        assert_ne!(first, second, "a new key never takes the id of a lost one");
        assert!(first.starts_with('k') && first.len() == 9, "{first}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_file("exposed");
        Keyring::load(None, &path, true).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = Keyring::load(None, &path, true).unwrap_err();
        assert!(matches!(refused, KeyError::Exposed(_, 0o644)));
        assert!(refused.to_string().contains("chmod 600"), "{refused}");
    }
}
