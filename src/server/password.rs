//! Password hashing with argon2id (OWASP: 19 MiB, 2 iterations, 1 lane).
//!
//! Each hash holds 19 MiB and a core for tens of milliseconds, so hashing runs on the blocking
//! pool behind a semaphore of about one permit per core with a short queue; when the queue is
//! full the caller gets `Busy` at once instead of piling up memory. Once half of the places
//! (running and waiting) are taken, an MSSP account holding a quarter of them gets `Busy`, and
//! the last quarter is kept for accounts holding none: an account hammered with password checks
//! (with the names no admin has, counted as one more account) cannot turn every other
//! account's sign-in into `Busy`, while a lone account's burst may use most of the queue.
//!
//! A verification reuses the 19 MiB of argon2 blocks of an earlier one (a small pool, about one
//! buffer per running hash): a fresh mapping would be faulted in and zeroed page by page, which
//! cost as much as the hash itself (`cargo bench --features ssr --bench sign_in`: the password
//! step took 23 ms against 11 ms for a verify). Buffers unused for a minute are given back to
//! the system (`trim_idle`, from the background task), so an idle server stays small.

use crate::model::AppError;
use crate::server::metrics;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A PHC-format argon2 hash as stored in the database.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(value: String) -> PasswordHash {
        PasswordHash(value)
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// OWASP Password Storage Cheat Sheet, argon2id first option: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// `password` against the PHC string `stored`, computed in `blocks` (reused between calls).
/// A stored hash whose parameters need more memory than `blocks` holds (a later parameter
/// change) is checked the ordinary, allocating way.
fn verify_in(blocks: &mut [Block], password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = phc::PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm.as_str()),
    ) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let needed = params.block_count();
    if needed > blocks.len() {
        return argon2().verify_password(password, stored).is_ok();
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let passes = params.t_cost();
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut blocks[..needed],
    );
    if passes < 2 || computed.is_err() {
        // The first pass leaves blocks that derive from the password cheaply (the first two of
        // each lane are one BLAKE2b of it and the salt away): wiped before they wait for the
        // next verification. After a second pass every block is overwritten by one computed
        // from the whole first pass (in version 0x13 XORed into it), so a block left in memory
        // costs at least half a verification per guessed password: no cheaper a target than
        // the stored hash itself. Those are not wiped (the 19 MiB cost a millisecond of memory
        // bandwidth per sign-in, `cargo bench --features ssr --bench sign_in`); the next
        // verification overwrites them, and a buffer idle for a minute is given back.
        blocks[..needed].fill(Block::default());
    }
    computed.is_ok()
        // `Output`'s equality takes the same time wherever the bytes differ.
        && phc::Output::new(out).is_ok_and(|computed| computed == *expected)
}

/// Block buffers for argon2, kept between verifications.
#[derive(Debug, Default)]
struct BlockPool {
    free: Mutex<Vec<(Vec<Block>, Instant)>>,
}

impl BlockPool {
    fn blocks() -> usize {
        // m KiB of 1 KiB blocks.
        MEMORY_KIB as usize
    }

    fn take(&self) -> Vec<Block> {
        let kept = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .map(|(blocks, _)| blocks);
        kept.unwrap_or_else(|| vec![Block::default(); Self::blocks()])
    }

    fn give_back(&self, blocks: Vec<Block>) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((blocks, Instant::now()));
    }

    /// Drops the buffers nobody used for `idle`; answers how many remain.
    fn trim(&self, idle: Duration) -> usize {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.retain(|(_, since)| since.elapsed() < idle);
        free.len()
    }
}

fn hash_blocking(password: &str) -> Result<PasswordHash, AppError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| PasswordHash(h.to_string()))
        .map_err(|e| {
            tracing::error!("argon2 hash failed: {e}");
            AppError::Internal
        })
}

/// Whose password is hashed, for the fair share of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tenant {
    /// The admins of an MSSP account.
    Account(i64),
    /// Browsers that completed a sign-in as an admin of this account before (their signed
    /// cookies), and signed-in sessions: a share of the account's own beside `Account`, so
    /// that strangers hammering the account's names cannot make its admins' usual browsers
    /// busy. One share per account, not per admin: an account cannot take more than two.
    KnownBrowsers(i64),
    /// Names no admin has, and the command line.
    Nobody,
}

/// Hashes running or waiting, per account.
type Places = Arc<Mutex<HashMap<Tenant, usize>>>;

#[derive(Debug)]
pub struct Passwords {
    /// Places to run. A running hash holds its permit (and its account's place) until the hash
    /// is done, even when the request that asked for it is gone: a client that disconnects
    /// cannot start more hashes than there are places.
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    per_tenant: Places,
    /// What one account may hold when the queue is busy.
    share: usize,
    /// Places in all (running and waiting).
    capacity: usize,
    /// Verified against when the admin does not exist, so both cases take the same time.
    dummy: PasswordHash,
    /// Memory for verifications, reused.
    blocks: Arc<BlockPool>,
}

impl Passwords {
    /// `concurrency` 0 means one hash per core and one more: while a finished hash hands its
    /// place on (the next request's task wakes and starts its hash) and while the requests'
    /// own work (database, HTTP) takes a core's turn, the extra hash keeps the cores busy.
    /// Measured (`cargo bench --features ssr --bench sign_in`, 8 clients, 2 cores): 0.61–0.66 of
    /// the raw verify rate with one per core, 0.77 with one more; two more gave no more.
    pub fn new(concurrency: usize, queue: usize) -> Arc<Passwords> {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(1, usize::from) + 1
        } else {
            concurrency
        };
        let dummy =
            hash_blocking("dummy password that matches nothing").expect("hashing a constant works");
        Arc::new(Passwords {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            queue,
            per_tenant: Places::default(),
            share: ((concurrency + queue) / 4).max(1),
            capacity: concurrency + queue,
            dummy,
            blocks: Arc::default(),
        })
    }

    /// Gives back to the system the verification buffers unused for `idle`.
    pub fn trim_idle(&self, idle: Duration) -> usize {
        self.blocks.trim(idle)
    }

    /// Hashes waiting for a place to run.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Whether a hash for `tenant` would get a place now: a cheap look before anything is
    /// written for an attempt (the place itself is taken later, and may still be refused).
    pub fn has_room(&self, tenant: Tenant) -> bool {
        let places = self.per_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let queue_full = self.permits.available_permits() == 0
            && self.waiting.load(Ordering::Acquire) >= self.queue;
        let room = !queue_full && !self.refused(&places, tenant);
        if !room {
            metrics::hash_refused();
        }
        room
    }

    /// Whether `tenant` is refused a place now: the queue is busy and it holds its share, or
    /// it holds places and only the reserve is left.
    fn refused(&self, places: &HashMap<Tenant, usize>, tenant: Tenant) -> bool {
        let used = places.values().sum::<usize>();
        let held = places.get(&tenant).copied().unwrap_or(0);
        let busy = used * 2 >= self.capacity;
        // The last quarter is kept for accounts that hold no place at all: a few accounts
        // together cannot take the whole queue either.
        let reserve = self.capacity / 4;
        (busy && held >= self.share) || (held > 0 && used + reserve >= self.capacity)
    }

    /// Takes one of `tenant`'s places; `None` when it is refused one (`refused`).
    fn enter(&self, tenant: Tenant) -> Option<TenantPlace> {
        let mut places = self.per_tenant.lock().unwrap_or_else(|e| e.into_inner());
        if self.refused(&places, tenant) {
            return None;
        }
        *places.entry(tenant).or_default() += 1;
        Some(TenantPlace {
            places: self.per_tenant.clone(),
            tenant,
        })
    }

    /// Runs `work` on the blocking pool once `tenant` has a place and a permit; both go with
    /// the work and are given back when it ends.
    async fn run<T: Send + 'static>(
        &self,
        tenant: Tenant,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let place = self.place(tenant)?;
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let result = work();
            metrics::hash_run(started.elapsed());
            drop((permit, place));
            result
        })
        .await
        .map_err(|e| {
            tracing::error!("password hashing task failed: {e}");
            AppError::Internal
        })
    }

    /// `enter`, counting a refusal.
    fn place(&self, tenant: Tenant) -> Result<TenantPlace, AppError> {
        self.enter(tenant).ok_or_else(|| {
            metrics::hash_refused();
            AppError::Busy
        })
    }

    /// A running place: at once, after a wait in the queue, or `Busy` when the queue is full.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            metrics::hash_wait(Duration::ZERO);
            return Ok(permit);
        }
        let asked = Instant::now();
        // Left when the wait ends, however it ends (the request may be dropped meanwhile).
        let Some(_waiting) = Waiting::join(&self.waiting, self.queue) else {
            metrics::hash_refused();
            return Err(AppError::Busy);
        };
        let permit = self.permits.clone().acquire_owned().await;
        metrics::hash_wait(asked.elapsed());
        permit.map_err(|_| AppError::Internal)
    }

    pub async fn hash(&self, tenant: Tenant, password: &str) -> Result<PasswordHash, AppError> {
        let password = password.to_string();
        self.run(tenant, move || hash_blocking(&password)).await?
    }

    /// True when `password` matches `stored`. With no stored hash (unknown admin) the work is
    /// the same and the answer is false.
    pub async fn verify(
        &self,
        tenant: Tenant,
        password: &str,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, AppError> {
        let exists = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy).0.clone();
        let password = password.to_string();
        let pool = self.blocks.clone();
        let matches = self
            .run(tenant, move || {
                let mut blocks = pool.take();
                // `verify_in` leaves nothing in the blocks cheaper to attack than the hash.
                let matches = verify_in(&mut blocks, password.as_bytes(), &hash);
                pool.give_back(blocks);
                matches
            })
            .await?;
        Ok(exists && matches)
    }
}

/// One place in the queue of hashes waiting for a permit, left on drop.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    /// Joins the queue unless `queue` are waiting already.
    fn join(waiting: &'a AtomicUsize, queue: usize) -> Option<Waiting<'a>> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        let joined = Waiting(waiting);
        if before >= queue {
            return None;
        }
        metrics::hash_queue(before + 1);
        Some(joined)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let before = self.0.fetch_sub(1, Ordering::AcqRel);
        metrics::hash_queue(before.saturating_sub(1));
    }
}

/// One place of an account, given back when the hash is done (or refused).
struct TenantPlace {
    places: Places,
    tenant: Tenant,
}

impl Drop for TenantPlace {
    fn drop(&mut self) {
        let mut places = self.places.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = places.get_mut(&self.tenant) {
            *held -= 1;
            if *held == 0 {
                places.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_parameters_and_verifies() {
        let passwords = Passwords::new(1, 4);
        let hash = passwords
            .hash(Tenant::Nobody, "correct horse battery staple")
            .await
            .unwrap();
        assert!(
            hash.as_stored()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_stored()
        );
        assert!(
            passwords
                .verify(Tenant::Nobody, "correct horse battery staple", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(Tenant::Nobody, "wrong", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(Tenant::Nobody, "dummy password that matches nothing", None)
                .await
                .unwrap()
        );
        assert!(!format!("{hash:?}").contains("argon2id"));
    }

    #[test]
    fn verification_in_reused_memory_agrees_with_argon2() {
        let hash = hash_blocking("correct horse battery staple").unwrap();
        let mut blocks = vec![Block::default(); BlockPool::blocks()];
        for _ in 0..2 {
            assert!(verify_in(
                &mut blocks,
                b"correct horse battery staple",
                hash.as_stored()
            ));
            assert!(!verify_in(
                &mut blocks,
                b"correct horse battery stapler",
                hash.as_stored()
            ));
        }
        assert!(!verify_in(&mut blocks, b"x", "not a PHC string"));
        // A hash made with more memory than the buffer holds is still checked (allocating).
        let bigger = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(MEMORY_KIB * 2, 2, 1, None).unwrap(),
        )
        .hash_password(b"later parameters")
        .unwrap()
        .to_string();
        assert!(verify_in(&mut blocks, b"later parameters", &bigger));
        assert!(!verify_in(&mut blocks, b"other", &bigger));
    }

    /// H' of RFC 9106 (3.3) for one 1 KiB block: 30 BLAKE2b-512 digests chained, 32 bytes of
    /// each, then all 64 bytes of the 31st.
    fn blake2b_long_block(input: &[&[u8]]) -> Vec<u8> {
        use blake2::{Blake2b512, Digest};
        let mut first = Blake2b512::new();
        first.update(1024u32.to_le_bytes());
        for part in input {
            first.update(part);
        }
        let mut v = first.finalize();
        let mut out = v[..32].to_vec();
        for _ in 1..30 {
            v = Blake2b512::digest(v);
            out.extend_from_slice(&v[..32]);
        }
        out.extend_from_slice(&Blake2b512::digest(v));
        out
    }

    /// The first block of argon2id's only lane with our memory and `passes`: H0 (RFC 9106, 3.2)
    /// of the password and salt, then H' of it; what a guess costs to check against it.
    fn cheap_first_block(password: &[u8], salt: &[u8], passes: u32) -> Vec<u8> {
        use blake2::{Blake2b512, Digest};
        let mut h0 = Blake2b512::new();
        // Lanes, tag length, memory, passes, version 0x13, type 2 (argon2id).
        for n in [1, 32, MEMORY_KIB, passes, 0x13, 2] {
            h0.update(n.to_le_bytes());
        }
        for part in [password, salt, b"", b""] {
            h0.update(u32::try_from(part.len()).unwrap().to_le_bytes());
            h0.update(part);
        }
        let h0 = h0.finalize();
        blake2b_long_block(&[&h0, &0u32.to_le_bytes(), &0u32.to_le_bytes()])
    }

    fn bytes(block: &Block) -> Vec<u8> {
        block
            .as_ref()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }

    #[test]
    fn verification_leaves_no_block_that_derives_from_the_password_cheaply() {
        let mut blocks = vec![Block::default(); BlockPool::blocks()];
        let salt_of = |stored: &str| {
            let parsed = phc::PasswordHash::new(stored).unwrap();
            parsed.salt.unwrap().as_ref().to_vec()
        };
        // One pass leaves the cheap block in memory (which shows the derivation above is
        // argon2's): `verify_in` wipes such a buffer.
        let one_pass = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(MEMORY_KIB, 1, 1, None).unwrap(),
        );
        let stored = one_pass.hash_password(b"guess me").unwrap().to_string();
        let salt = salt_of(&stored);
        let mut out = [0u8; 32];
        one_pass
            .hash_password_into_with_memory(b"guess me", &salt, &mut out, &mut blocks)
            .unwrap();
        assert_eq!(bytes(&blocks[0]), cheap_first_block(b"guess me", &salt, 1));
        assert!(verify_in(&mut blocks, b"guess me", &stored));
        assert!(blocks.iter().all(|b| bytes(b).iter().all(|&x| x == 0)));
        // Our two passes overwrite it: nothing in the buffer is the cheap block, and the
        // buffer is not wiped (it holds what the second pass computed).
        let stored = hash_blocking("guess me").unwrap();
        let salt = salt_of(stored.as_stored());
        assert!(verify_in(&mut blocks, b"guess me", stored.as_stored()));
        let cheap = cheap_first_block(b"guess me", &salt, 2);
        assert!(blocks.iter().all(|b| bytes(b) != cheap));
        assert!(bytes(&blocks[0]).iter().any(|&x| x != 0));
    }

    #[tokio::test]
    async fn verification_memory_is_kept_and_given_back_when_idle() {
        let passwords = Passwords::new(1, 4);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        assert!(
            passwords
                .verify(Tenant::Nobody, "x", Some(&hash))
                .await
                .unwrap()
        );
        assert_eq!(
            passwords.trim_idle(Duration::from_secs(60)),
            1,
            "kept for the next one"
        );
        assert!(
            passwords
                .verify(Tenant::Nobody, "x", Some(&hash))
                .await
                .unwrap()
        );
        assert_eq!(
            passwords.trim_idle(Duration::ZERO),
            0,
            "given back when idle"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_leaves_the_queue_and_its_hash_keeps_its_place() {
        let passwords = Passwords::new(1, 1);
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let running = {
            let passwords = passwords.clone();
            tokio::spawn(async move {
                passwords
                    .run(Tenant::Account(1), move || {
                        let _ = finished.recv();
                    })
                    .await
            })
        };
        while passwords.permits.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // A second one waits in the queue; its client goes away.
        let gave_up = tokio::time::timeout(
            Duration::from_millis(50),
            passwords.run(Tenant::Account(2), || ()),
        )
        .await;
        assert!(gave_up.is_err(), "it was still waiting");
        assert_eq!(passwords.waiting.load(Ordering::Acquire), 0, "and left");
        // The running one's client goes away too: its hash still holds the place and the
        // permit until it ends, so nobody can start more hashes than there are places.
        running.abort();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(passwords.permits.available_permits(), 0);
        assert_eq!(
            passwords
                .per_tenant
                .lock()
                .unwrap()
                .get(&Tenant::Account(1)),
            Some(&1)
        );
        finish.send(()).unwrap();
        for _ in 0..200 {
            if passwords.permits.available_permits() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(passwords.permits.available_permits(), 1);
        assert!(passwords.per_tenant.lock().unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_at_once() {
        let passwords = Passwords::new(1, 1);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        let mut tasks = Vec::new();
        for tenant in 0..6 {
            let p = passwords.clone();
            let h = hash.clone();
            tasks.push(tokio::spawn(async move {
                p.verify(Tenant::Account(tenant), "x", Some(&h)).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            if t.await.unwrap() == Err(AppError::Busy) {
                busy += 1;
            }
        }
        // One runs, one waits, the rest are refused.
        assert!(busy >= 3, "busy answers: {busy}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_account_cannot_take_every_place() {
        // One hash at a time, seven may wait: once four places are taken, an account may hold
        // two.
        let passwords = Passwords::new(1, 7);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        let mut flood = Vec::new();
        for _ in 0..8 {
            let p = passwords.clone();
            let h = hash.clone();
            flood.push(tokio::spawn(async move {
                p.verify(Tenant::Account(1), "x", Some(&h)).await
            }));
        }
        tokio::task::yield_now().await;
        // Another account still gets its turn.
        assert_eq!(
            passwords.verify(Tenant::Account(2), "x", Some(&hash)).await,
            Ok(true)
        );
        let mut busy = 0;
        for t in flood {
            if t.await.unwrap() == Err(AppError::Busy) {
                busy += 1;
            }
        }
        assert!(busy >= 4, "the flooding account was refused {busy} times");
        // All places are given back.
        assert!(passwords.per_tenant.lock().unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn strangers_hammering_an_account_leave_its_known_browsers_a_place() {
        let passwords = Passwords::new(1, 7);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        // Strangers fill the account's share (and more of the queue).
        let (release, held) = tokio::sync::watch::channel(false);
        let mut flood = Vec::new();
        for _ in 0..8 {
            let (p, mut held) = (passwords.clone(), held.clone());
            flood.push(tokio::spawn(async move {
                p.run(Tenant::Account(1), move || {
                    let _ = futures::executor::block_on(held.wait_for(|go| *go));
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !passwords.has_room(Tenant::Account(1)),
            "the account's share is taken"
        );
        // The admin's usual browser still gets a place.
        assert!(passwords.has_room(Tenant::KnownBrowsers(1)));
        let owner = {
            let (p, h) = (passwords.clone(), hash.clone());
            tokio::spawn(async move { p.verify(Tenant::KnownBrowsers(1), "x", Some(&h)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send_replace(true);
        assert_eq!(owner.await.unwrap(), Ok(true));
        for t in flood {
            let _ = t.await;
        }
        assert!(passwords.per_tenant.lock().unwrap().is_empty());
    }
}
