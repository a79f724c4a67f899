//! Password hashing with argon2id (OWASP: 19 MiB, 2 iterations, 1 lane).
//!
//! Each hash holds 19 MiB and a core for tens of milliseconds, so hashing runs on threads of its
//! own, one per core, behind a semaphore of one permit per core and one more, with a short
//! queue; when the queue is full the caller gets `Busy` at once instead of piling up memory.
//! Once half of the places (running and waiting) are taken, an MSSP account holding a quarter
//! of them gets `Busy`, and the last quarter is kept for accounts holding none: an account
//! hammered with password checks (with the names no admin has, counted as one more account)
//! cannot turn every other account's sign-in into `Busy`, while a lone account's burst may use
//! most of the queue.
//!
//! A verification reuses the 19 MiB of argon2 blocks of an earlier one (a small pool, one
//! buffer per hash thread): a fresh mapping would be faulted in and zeroed page by page, which
//! cost as much as the hash itself (`cargo bench --features ssr --bench sign_in`: the password
//! step took 23 ms against 11 ms for a verify). A buffer is wiped once the answer is sent,
//! unless its thread has the next verification waiting: that one overwrites it from its first
//! block (see `Carried`). A buffer never waits for work unwiped. Buffers unused for a minute
//! are given back to the system (`trim_idle`, from the background task), so an idle server
//! stays small.

use crate::model::AppError;
use crate::server::metrics;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
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
/// The buffer may hold an earlier verification's blocks (carried over, see `Carried`):
/// afterwards it holds this one's only, since what this one did not overwrite is wiped.
fn verify_in(blocks: &mut [Block], password: &[u8], stored: &str) -> bool {
    let (matches, overwritten) = compute_in(blocks, password, stored);
    wipe(&mut blocks[overwritten..]);
    matches
}

/// `verify_in`'s work: whether `password` matches, and how many blocks from the first the
/// verification overwrote (none when it did not run in `blocks`). A stored hash whose
/// parameters need more memory than `blocks` holds (a later parameter change) is checked the
/// ordinary, allocating way.
fn compute_in(blocks: &mut [Block], password: &[u8], stored: &str) -> (bool, usize) {
    let Ok(parsed) = phc::PasswordHash::new(stored) else {
        return (false, 0);
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return (false, 0);
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm.as_str()),
    ) else {
        return (false, 0);
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return (false, 0);
    };
    let needed = params.block_count();
    if needed > blocks.len() {
        return (argon2().verify_password(password, stored).is_ok(), 0);
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return (false, 0);
    };
    match Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut blocks[..needed],
    ) {
        // `Output`'s equality takes the same time wherever the bytes differ.
        Ok(()) => (
            phc::Output::new(out).is_ok_and(|computed| computed == *expected),
            needed,
        ),
        Err(_) => (false, 0),
    }
}

/// Overwrites argon2 blocks with zeros.
fn wipe(blocks: &mut [Block]) {
    blocks.fill(Block::default());
}

/// Block buffers for argon2, kept between verifications, wiped.
#[derive(Debug, Default)]
struct BlockPool {
    free: Mutex<Vec<(Vec<Block>, Instant)>>,
    /// Buffers given back (each wiped) so far.
    returned: AtomicUsize,
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
        self.returned.fetch_add(1, Ordering::AcqRel);
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

/// Who holds a place: a tenant in the queue, or an account's known browsers in the reserve
/// beyond it (`Passwords::known_reserve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Holder {
    Queue(Tenant),
    Reserve(i64),
}

/// Hashes running or waiting, per holder.
type Places = Arc<Mutex<HashMap<Holder, usize>>>;

/// A hash to run, with what it answers and the places it holds.
struct Job {
    /// Whether the work verifies in the memory its thread carried over (`Carried`): any other
    /// work gets the thread's memory wiped before it starts.
    reuses_memory: bool,
    work: Box<dyn FnOnce(&mut Carried) + Send>,
}

/// The verification buffer a hash thread keeps, unwiped, from one verification to the next
/// when the next is already waiting in the queue as the first ends (as it is whenever the
/// hashes are busy). Argon2's first pass writes every block afresh, from block 0 (the one a
/// cheap guess at the password would be tested against), so the next verification overwrites
/// what the last left there within its first half. Wiping 19 MiB in between slowed the
/// sign-ins by a tenth (`cargo bench --features ssr --bench sign_in`, 8 clients, runs
/// alternated: 0.71–0.74 of the raw verify rate with a wipe after each verification, 0.79–0.81
/// carried over). A thread that finds nothing waiting wipes the buffer at once and gives it
/// back to the pool: a buffer never waits unwiped.
#[derive(Default)]
struct Carried(Option<Vec<Block>>);

impl Carried {
    /// The buffer to verify in: the one carried over, else one from the pool.
    fn take(&mut self, pool: &BlockPool) -> Vec<Block> {
        self.0.take().unwrap_or_else(|| pool.take())
    }

    /// Keeps `blocks` (holding one verification's data, see `verify_in`) for the next job.
    fn keep(&mut self, blocks: Vec<Block>) {
        self.0 = Some(blocks);
    }

    /// Wipes the buffer carried over, if any, and gives it back to the pool.
    fn wipe_into(&mut self, pool: &BlockPool) {
        if let Some(mut blocks) = self.0.take() {
            wipe(&mut blocks);
            pool.give_back(blocks);
        }
    }
}

/// Threads of their own for the hashes, at most one per core. A thread that finishes a hash
/// takes the next one waiting at once, with no hand-off through the async runtime; and no more
/// hashes share the cores than there are cores (each works through its 19 MiB, which the
/// cores' shared cache holds better for two than for three, and which a switch between them
/// on one core evicts).
#[derive(Debug)]
struct HashThreads {
    jobs: mpsc::Sender<Job>,
}

impl HashThreads {
    /// `threads` threads verifying in `pool`'s buffers, ended when `HashThreads` is dropped
    /// (with the `Passwords`).
    fn start(threads: usize, pool: Arc<BlockPool>) -> HashThreads {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let (queue, pool) = (queue.clone(), pool.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || Self::serve(&queue, &pool))
                .expect("the system starts the password hashing threads");
        }
        HashThreads { jobs }
    }

    /// One thread's loop: the next job waiting, else (the memory it carried wiped) the next to
    /// come; until the queue is closed.
    fn serve(queue: &Mutex<mpsc::Receiver<Job>>, pool: &BlockPool) {
        let lock = || queue.lock().unwrap_or_else(|e| e.into_inner());
        let mut carried = Carried::default();
        loop {
            // Never waits for the lock while it holds memory: the thread that holds the lock
            // for long is the one waiting for a job, so the queue is empty.
            let waiting = match queue.try_lock() {
                Ok(jobs) => jobs.try_recv(),
                Err(std::sync::TryLockError::Poisoned(jobs)) => jobs.into_inner().try_recv(),
                Err(std::sync::TryLockError::WouldBlock) => Err(mpsc::TryRecvError::Empty),
            };
            let next = match waiting {
                Ok(job) => Ok(job),
                Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvError),
                Err(mpsc::TryRecvError::Empty) => {
                    carried.wipe_into(pool);
                    // One thread waits for the next job, the others for the lock.
                    lock().recv()
                }
            };
            let Ok(job) = next else {
                carried.wipe_into(pool);
                return;
            };
            if !job.reuses_memory {
                carried.wipe_into(pool);
            }
            // A job that panics drops its answer (the caller gets `Internal`), its places, and
            // the memory it took, unwiped: 19 MiB, above the allocator's fixed mmap threshold
            // (`memory.rs`), goes back to the system, which zeroes pages before it hands them
            // out again. The thread goes on.
            let run = std::panic::AssertUnwindSafe(|| (job.work)(&mut carried));
            let _ = std::panic::catch_unwind(run);
        }
    }
}

#[derive(Debug)]
pub struct Passwords {
    /// Places to run. A running hash holds its permit (and its account's place) until the hash
    /// is done, even when the request that asked for it is gone: a client that disconnects
    /// cannot start more hashes than there are places.
    permits: Arc<Semaphore>,
    /// How many hashes run at once (the permits in all).
    concurrency: usize,
    /// Requests waiting for a permit, for the metrics; how many may wait is decided by the
    /// places (`per_tenant`), not by this count.
    waiting: AtomicUsize,
    queue: usize,
    /// Places to wait beyond `queue`, for known browsers only (`Tenant::KnownBrowsers`), one per
    /// account: strangers who fill the whole queue (with the names of several accounts' admins
    /// and names no admin has) still leave an admin's usual browser a place. Taking the whole
    /// reserve needs browsers known in as many accounts as it has places.
    known_reserve: usize,
    per_tenant: Places,
    /// What one account may hold when the queue is busy.
    share: usize,
    /// Places in all (running and waiting).
    capacity: usize,
    /// Verified against when the admin does not exist, so both cases take the same time.
    dummy: PasswordHash,
    /// Memory for verifications, reused.
    blocks: Arc<BlockPool>,
    threads: HashThreads,
}

impl Passwords {
    /// `concurrency` hashes hold a place to run at once, on one thread per core (fewer when
    /// `concurrency` is lower); the places beyond the threads wait on their queue, ready the
    /// moment a thread is free. 0 means one per core and one more, so that a core never waits
    /// for the next hash to be handed over.
    pub fn new(concurrency: usize, queue: usize) -> Arc<Passwords> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let concurrency = if concurrency == 0 {
            cores + 1
        } else {
            concurrency
        };
        Self::with_threads(concurrency, queue, concurrency.min(cores))
    }

    /// `new`, with `concurrency` places to run on `threads` hash threads.
    fn with_threads(concurrency: usize, queue: usize, threads: usize) -> Arc<Passwords> {
        let dummy =
            hash_blocking("dummy password that matches nothing").expect("hashing a constant works");
        let blocks = Arc::<BlockPool>::default();
        Arc::new(Passwords {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            waiting: AtomicUsize::new(0),
            queue,
            known_reserve: concurrency,
            per_tenant: Places::default(),
            share: ((concurrency + queue) / 4).max(1),
            capacity: concurrency + queue,
            dummy,
            threads: HashThreads::start(threads, blocks.clone()),
            blocks,
        })
    }

    /// Gives back to the system the verification buffers unused for `idle`.
    pub fn trim_idle(&self, idle: Duration) -> usize {
        self.blocks.trim(idle)
    }

    /// Hashes waiting for a permit to run, for the metrics (a request handed one counts until
    /// its task runs again; the queue's limits are judged by the places, see `queue_full`).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Whether a hash for `tenant` would get a place now: a cheap look before anything is
    /// written for an attempt (the place itself is taken later, and may still be refused).
    pub fn has_room(&self, tenant: Tenant) -> bool {
        let places = self.per_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.admission(&places, tenant).is_some();
        if !room {
            metrics::hash_refused();
        }
        room
    }

    /// Whether every place a request could take is taken: a look that needs nothing read
    /// first (`has_room` needs the account). `known_browser` (whether the request's browser is
    /// known for some admin, who may find a place in the reserve) is asked only when the queue
    /// is full.
    pub fn is_full(&self, known_browser: impl FnOnce() -> bool) -> bool {
        let holders = places_held(&self.per_tenant.lock().unwrap_or_else(|e| e.into_inner()));
        let full = self.queue_full(holders, self.queue)
            && (!known_browser() || self.queue_full(holders, self.queue + self.known_reserve));
        if full {
            metrics::hash_refused();
        }
        full
    }

    /// Whether `wait_limit` wait beyond the hashes running, with `holders` places held. Counted
    /// from the places, which a hash gives back with its permit, not from the requests waiting
    /// for a permit: a request handed one counts as waiting until its task runs again, so
    /// under a flood that count said the queue was full while it had room, and an account
    /// holding no place was turned away.
    fn queue_full(&self, holders: usize, wait_limit: usize) -> bool {
        holders >= self.concurrency + wait_limit
    }

    /// Where `tenant` would hold a place now: in the queue unless it is full or `tenant` is
    /// refused there (`refused`); else, for known browsers, in the reserve, when it has room
    /// and their account holds none of it.
    fn admission(&self, places: &HashMap<Holder, usize>, tenant: Tenant) -> Option<Holder> {
        let holders = places_held(places);
        if !self.queue_full(holders, self.queue) && !self.refused(places, tenant) {
            return Some(Holder::Queue(tenant));
        }
        let Tenant::KnownBrowsers(account) = tenant else {
            return None;
        };
        let limit = self.queue + self.known_reserve;
        let reserve = Holder::Reserve(account);
        (!self.queue_full(holders, limit) && !places.contains_key(&reserve)).then_some(reserve)
    }

    /// Whether `tenant` is refused a place in the queue now: the queue is busy and it holds its
    /// share, or it holds places and only the last quarter is left.
    fn refused(&self, places: &HashMap<Holder, usize>, tenant: Tenant) -> bool {
        let used = places
            .iter()
            .filter(|(holder, _)| matches!(holder, Holder::Queue(_)))
            .map(|(_, n)| n)
            .sum::<usize>();
        let held = places.get(&Holder::Queue(tenant)).copied().unwrap_or(0);
        let busy = used * 2 >= self.capacity;
        // The last quarter is kept for accounts that hold no place at all: a few accounts
        // together cannot take the whole queue either.
        let reserve = self.capacity / 4;
        (busy && held >= self.share) || (held > 0 && used + reserve >= self.capacity)
    }

    /// Takes a place for `tenant` (`admission`); `None` when it is refused one.
    fn enter(&self, tenant: Tenant) -> Option<TenantPlace> {
        let mut places = self.per_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let holder = self.admission(&places, tenant)?;
        *places.entry(holder).or_default() += 1;
        Some(TenantPlace {
            places: self.per_tenant.clone(),
            holder,
        })
    }

    /// Runs `work` on the hash threads once `tenant` has a place and a permit; both go with
    /// the work and are given back when it ends, before its answer (which this returns) is
    /// sent: a caller's next request never finds its last one's place still taken.
    async fn run<T: Send + 'static>(
        &self,
        tenant: Tenant,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        self.run_job(tenant, false, move |_| work()).await
    }

    /// `run`, for work that verifies in the memory its thread carried over when
    /// `reuses_memory` (see `Carried`).
    async fn run_job<T: Send + 'static>(
        &self,
        tenant: Tenant,
        reuses_memory: bool,
        work: impl FnOnce(&mut Carried) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let place = self.place(tenant)?;
        let permit = self.permit().await?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job {
            reuses_memory,
            work: Box::new(move |carried| {
                let started = Instant::now();
                let value = work(carried);
                metrics::hash_run(started.elapsed());
                drop((permit, place));
                // The caller may be gone (its request dropped): nobody is left to answer.
                let _ = answer.send(value);
            }),
        };
        let failed = |what: &str| {
            tracing::error!("password hashing failed: {what}");
            AppError::Internal
        };
        self.threads
            .jobs
            .send(job)
            .map_err(|_| failed("no hash thread"))?;
        answered.await.map_err(|_| failed("the hash panicked"))
    }

    /// `enter`, counting a refusal.
    fn place(&self, tenant: Tenant) -> Result<TenantPlace, AppError> {
        self.enter(tenant).ok_or_else(|| {
            metrics::hash_refused();
            AppError::Busy
        })
    }

    /// A running place: at once, or after a wait in the queue. How many wait is bounded by the
    /// places (`enter`), taken before.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            metrics::hash_wait(Duration::ZERO);
            return Ok(permit);
        }
        let asked = Instant::now();
        // Left when the wait ends, however it ends (the request may be dropped meanwhile).
        let _waiting = Waiting::join(&self.waiting);
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
            .run_job(tenant, true, move |carried| {
                let mut blocks = carried.take(&pool);
                let matches = verify_in(&mut blocks, password.as_bytes(), &hash);
                // What the blocks hold gives a guess at the password away cheaply: the first
                // two blocks are one BLAKE2b of the password and salt away, and the second
                // pass, which XORs its blocks into the first pass's, can be undone from the
                // final memory alone, block by block. They are overwritten by the next
                // verification if it is waiting, else wiped before they wait for one (the
                // thread's loop, `HashThreads::serve`); either way after the answer, which the
                // caller does not wait for.
                carried.keep(blocks);
                matches
            })
            .await?;
        Ok(exists && matches)
    }
}

/// Places held in all (hashes running and waiting).
fn places_held(places: &HashMap<Holder, usize>) -> usize {
    places.values().sum()
}

/// One request in the queue of hashes waiting for a permit, counted for the metrics; left on
/// drop.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn join(waiting: &'a AtomicUsize) -> Waiting<'a> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        metrics::hash_queue(before + 1);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let before = self.0.fetch_sub(1, Ordering::AcqRel);
        metrics::hash_queue(before.saturating_sub(1));
    }
}

/// One place of an account, given back when the hash ends (or when its request is dropped
/// while it waits).
struct TenantPlace {
    places: Places,
    holder: Holder,
}

impl Drop for TenantPlace {
    fn drop(&mut self) {
        let mut places = self.places.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = places.get_mut(&self.holder) {
            *held -= 1;
            if *held == 0 {
                places.remove(&self.holder);
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
        let bigger = hashed_with(MEMORY_KIB * 2, b"later parameters");
        assert!(verify_in(&mut blocks, b"later parameters", &bigger));
        assert!(!verify_in(&mut blocks, b"other", &bigger));
    }

    /// `password` hashed with argon2id in `memory_kib` KiB (2 passes, 1 lane).
    fn hashed_with(memory_kib: u32, password: &[u8]) -> String {
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(memory_kib, 2, 1, None).unwrap(),
        )
        .hash_password(password)
        .unwrap()
        .to_string()
    }

    /// Whether `blocks[from..]` is all zeros.
    fn zero_from(blocks: &[Block], from: usize) -> bool {
        blocks[from..]
            .iter()
            .all(|block| block.as_ref().iter().all(|&word| word == 0))
    }

    #[test]
    fn a_verification_leaves_only_its_own_blocks_in_the_buffer() {
        let mut blocks = vec![Block::default(); BlockPool::blocks()];
        let dirty = |blocks: &mut Vec<Block>| {
            let mut marked = Block::default();
            marked.as_mut()[0] = 7;
            blocks.fill(marked);
        };
        // Not computed in the buffer at all: a hash that is not a PHC string, one that needs
        // more memory than the buffer holds.
        let bigger = hashed_with(MEMORY_KIB * 2, b"x");
        for stored in ["not a PHC string", bigger.as_str()] {
            dirty(&mut blocks);
            verify_in(&mut blocks, b"x", stored);
            assert!(zero_from(&blocks, 0), "{stored}: everything wiped");
        }
        // Computed in the first half only: the rest is wiped, the first half overwritten.
        let smaller = hashed_with(MEMORY_KIB / 2, b"x");
        dirty(&mut blocks);
        assert!(verify_in(&mut blocks, b"x", &smaller));
        let half = BlockPool::blocks() / 2;
        assert!(zero_from(&blocks, half), "the half it did not use wiped");
        assert!(
            blocks[..half]
                .iter()
                .all(|block| block.as_ref()[0] != 7
                    || block.as_ref()[1..].iter().any(|&word| word != 0)),
            "the half it used overwritten"
        );
    }

    /// Waits until every hash has given its place back (a hash gives it back, then answers;
    /// its thread wipes its memory after that, unless the next verification takes it over).
    async fn settled(passwords: &Passwords) {
        for _ in 0..1000 {
            if passwords.per_tenant.lock().unwrap().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("places still held: {:?}", passwords.per_tenant);
    }

    /// A hash for `tenant` that holds its place until `release` turns true.
    fn held(
        passwords: &Arc<Passwords>,
        tenant: Tenant,
        release: &tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<Result<(), AppError>> {
        let (passwords, mut release) = (passwords.clone(), release.clone());
        tokio::spawn(async move {
            passwords
                .run(tenant, move || {
                    let _ = futures::executor::block_on(release.wait_for(|go| *go));
                })
                .await
        })
    }

    /// Waits until the pool has had `n` buffers given back in all (the answer comes before
    /// the wipe, so a verification's buffer comes back after its answer).
    async fn returned(passwords: &Passwords, n: usize) {
        for _ in 0..1000 {
            if passwords.blocks.returned.load(Ordering::Acquire) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("buffers given back: {:?}", passwords.blocks.returned);
    }

    /// Whether every buffer waiting in the pool is wiped; how many wait there.
    fn pooled_wiped(passwords: &Passwords) -> (bool, usize) {
        let free = passwords.blocks.free.lock().unwrap();
        let wiped = free
            .iter()
            .all(|(blocks, _)| blocks.len() == BlockPool::blocks() && zero_from(blocks, 0));
        (wiped, free.len())
    }

    /// Passwords with `threads` hash threads after one verification that matched, its buffer
    /// back in the pool; and the hash verified.
    async fn verified_once_on(threads: usize) -> (Arc<Passwords>, PasswordHash) {
        let passwords = Passwords::with_threads(threads, 4, threads);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        assert!(
            passwords
                .verify(Tenant::Nobody, "x", Some(&hash))
                .await
                .unwrap()
        );
        returned(&passwords, 1).await;
        (passwords, hash)
    }

    async fn verified_once() -> (Arc<Passwords>, PasswordHash) {
        verified_once_on(1).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verification_memory_is_wiped_before_it_waits_for_the_next() {
        // With several threads, one waits for the next job holding the queue's lock: the one
        // that verified must not wait for that lock holding its memory.
        for threads in [1, 2, 3] {
            let (passwords, _) = verified_once_on(threads).await;
            assert_eq!(
                pooled_wiped(&passwords),
                (true, 1),
                "a used buffer waits wiped ({threads} threads)"
            );
        }
    }

    /// One hash thread, busy (`held`) while verifications queue behind it on the other
    /// places; then `release` lets it go.
    fn one_busy_thread() -> (
        Arc<Passwords>,
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<Result<(), AppError>>,
    ) {
        let passwords = Passwords::with_threads(4, 4, 1);
        let (release, go) = tokio::sync::watch::channel(false);
        let busy = held(&passwords, Tenant::Nobody, &go);
        (passwords, release, busy)
    }

    /// Waits until `n` places to run are taken (their jobs queued on the hash threads).
    async fn running(passwords: &Passwords, n: usize) {
        while passwords.permits.available_permits() > 4 - n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verifications_that_follow_each_other_share_unwiped_memory_and_stay_right() {
        let hashes = Passwords::new(1, 4);
        let right = hashes.hash(Tenant::Nobody, "right").await.unwrap();
        let other = hashes.hash(Tenant::Nobody, "other").await.unwrap();
        let (passwords, release, busy) = one_busy_thread();
        running(&passwords, 1).await;
        // Three verifications wait behind the busy thread, each tried against another hash
        // than the one before.
        let mut verifying = Vec::new();
        for (password, hash) in [("right", &right), ("right", &other), ("other", &other)] {
            let (shared, hash) = (passwords.clone(), hash.clone());
            verifying.push(tokio::spawn(async move {
                shared.verify(Tenant::Nobody, password, Some(&hash)).await
            }));
            running(&passwords, verifying.len() + 1).await;
        }
        release.send(true).unwrap();
        busy.await.unwrap().unwrap();
        let mut answers = Vec::new();
        for verification in verifying {
            answers.push(verification.await.unwrap().unwrap());
        }
        assert_eq!(answers, [true, false, true]);
        returned(&passwords, 1).await;
        assert_eq!(
            pooled_wiped(&passwords),
            (true, 1),
            "one buffer served the three, wiped once the queue was empty"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            passwords.blocks.returned.load(Ordering::Acquire),
            1,
            "the buffer went back to the pool once, not after each verification"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_carried_over_is_wiped_before_work_that_does_not_verify_in_it() {
        let hash = Passwords::new(1, 4)
            .hash(Tenant::Nobody, "x")
            .await
            .unwrap();
        let (passwords, release, busy) = one_busy_thread();
        running(&passwords, 1).await;
        let verifying = {
            let passwords = passwords.clone();
            tokio::spawn(async move { passwords.verify(Tenant::Nobody, "x", Some(&hash)).await })
        };
        running(&passwords, 2).await;
        // Work that does not verify in the thread's memory, queued right behind the
        // verification.
        let (release_next, go_next) = tokio::sync::watch::channel(false);
        let next = held(&passwords, Tenant::Nobody, &go_next);
        running(&passwords, 3).await;
        release.send(true).unwrap();
        busy.await.unwrap().unwrap();
        assert!(verifying.await.unwrap().unwrap());
        // The verification's buffer is back in the pool, wiped, while the next work runs.
        returned(&passwords, 1).await;
        assert_eq!(pooled_wiped(&passwords), (true, 1));
        assert!(!next.is_finished(), "the next work is still running");
        release_next.send(true).unwrap();
        next.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn verification_memory_is_kept_and_given_back_when_idle() {
        let (passwords, hash) = verified_once().await;
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
        returned(&passwords, 2).await;
        assert_eq!(
            passwords.trim_idle(Duration::ZERO),
            0,
            "given back when idle"
        );
    }

    /// A request handed a permit counts as waiting until its task runs again: the queue is
    /// judged by the places held, which a hash gives back with its permit, so in that moment
    /// it has room (counted by the waiting requests, it was full, and an account holding no
    /// place was turned away).
    #[tokio::test]
    async fn a_request_handed_its_permit_does_not_fill_the_queue() {
        let passwords = Passwords::with_threads(1, 1, 1);
        let (release, go) = tokio::sync::watch::channel(false);
        let running = held(&passwords, Tenant::Account(1), &go);
        while passwords.permits.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let next = held(&passwords, Tenant::Account(2), &go);
        while passwords.waiting() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release.send(true).unwrap();
        // Without yielding to the runtime (so the next request's task cannot run): the first
        // hash ends and hands its permit on.
        for _ in 0..2000 {
            if places_held(&passwords.per_tenant.lock().unwrap()) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(places_held(&passwords.per_tenant.lock().unwrap()), 1);
        assert_eq!(passwords.permits.available_permits(), 0, "handed on");
        assert_eq!(passwords.waiting(), 1, "still counted as waiting");
        assert!(!passwords.is_full(|| false), "one place held of two");
        assert!(passwords.has_room(Tenant::Account(3)));
        running.await.unwrap().unwrap();
        next.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_leaves_the_queue_and_its_hash_keeps_its_place() {
        let passwords = Passwords::new(1, 1);
        let (finish, release) = tokio::sync::watch::channel(false);
        let running = held(&passwords, Tenant::Account(1), &release);
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
        assert!(
            !passwords
                .per_tenant
                .lock()
                .unwrap()
                .contains_key(&Holder::Queue(Tenant::Account(2))),
            "its place given back"
        );
        assert!(!passwords.is_full(|| false), "the queue has room again");
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
                .get(&Holder::Queue(Tenant::Account(1))),
            Some(&1)
        );
        finish.send_replace(true);
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
    async fn a_full_queue_is_seen_without_an_account() {
        let passwords = Passwords::new(1, 1);
        assert!(!passwords.is_full(|| false));
        let (finish, release) = tokio::sync::watch::channel(false);
        let running = held(&passwords, Tenant::Account(1), &release);
        while passwords.permits.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(!passwords.is_full(|| false), "one more may wait");
        let waiting = {
            let passwords = passwords.clone();
            tokio::spawn(async move { passwords.run(Tenant::Account(2), || ()).await })
        };
        while passwords.waiting() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(passwords.is_full(|| false));
        assert!(
            !passwords.is_full(|| true),
            "a known browser may wait beyond"
        );
        finish.send_replace(true);
        running.await.unwrap().unwrap();
        waiting.await.unwrap().unwrap();
        assert!(!passwords.is_full(|| false));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn strangers_filling_every_place_leave_known_browsers_a_place() {
        // Two run, two wait: four strangers' accounts, a place each, fill it all. The reserve
        // beyond has two places, one per account.
        let passwords = Passwords::new(2, 2);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        let (release, wait) = tokio::sync::watch::channel(false);
        let mut flood = Vec::new();
        for account in 1..=4 {
            flood.push(held(&passwords, Tenant::Account(account), &wait));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(passwords.waiting(), 2);
        assert!(passwords.is_full(|| false));
        assert!(
            !passwords.has_room(Tenant::Account(5)),
            "a fifth account waits no more"
        );
        assert!(!passwords.has_room(Tenant::Nobody));
        // An admin's usual browser (of any account, the flooded ones too) still gets a place.
        assert!(!passwords.is_full(|| true));
        assert!(passwords.has_room(Tenant::KnownBrowsers(1)));
        let owner = {
            let (p, h) = (passwords.clone(), hash.clone());
            tokio::spawn(async move { p.verify(Tenant::KnownBrowsers(1), "x", Some(&h)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(passwords.waiting(), 3, "it waits beyond the queue");
        // One place of the reserve per account: the same account's known browsers wait for
        // it, another account's find the second.
        assert!(!passwords.has_room(Tenant::KnownBrowsers(1)));
        assert!(passwords.has_room(Tenant::KnownBrowsers(2)));
        let second = {
            let (p, h) = (passwords.clone(), hash.clone());
            tokio::spawn(async move { p.verify(Tenant::KnownBrowsers(2), "x", Some(&h)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(passwords.is_full(|| true), "the reserve is taken");
        assert!(!passwords.has_room(Tenant::KnownBrowsers(3)));
        release.send_replace(true);
        assert_eq!(owner.await.unwrap(), Ok(true));
        assert_eq!(second.await.unwrap(), Ok(true));
        for t in flood {
            t.await.unwrap().unwrap();
        }
        settled(&passwords).await;
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
        settled(&passwords).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn strangers_hammering_an_account_leave_its_known_browsers_a_place() {
        let passwords = Passwords::new(1, 7);
        let hash = passwords.hash(Tenant::Nobody, "x").await.unwrap();
        // Strangers fill the account's share (and more of the queue).
        let (release, wait) = tokio::sync::watch::channel(false);
        let mut flood = Vec::new();
        for _ in 0..8 {
            flood.push(held(&passwords, Tenant::Account(1), &wait));
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
        settled(&passwords).await;
    }
}
