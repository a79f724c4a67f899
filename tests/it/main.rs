//! Integration tests: the real router on port 0 with a fresh database (SQLite, and PostgreSQL
//! when reachable), called over HTTP like a browser calls the server functions.
//!
//! One binary with modules (see kanidm's DO_NOT_ADD_MORE_TESTS_HERE for why).

mod administration;
mod attacks;
mod bad_input;
mod cli;
mod expiry;
mod grace;
mod helpers;
mod instances;
mod keys;
mod observability;
mod proxies;
mod remembered;
mod resets;
mod review;
mod security_keys;
mod sessions;
mod setup_codes;
mod sign_in;
mod smtp;
mod throttling;
mod trust;
mod two_factor;
