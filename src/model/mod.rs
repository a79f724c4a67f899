//! What crosses the wire between the browser and the server: the wire types and the one error
//! type. Both targets; every layer may use it (components, server functions, server code).

pub mod error;
pub mod types;

pub use error::AppError;
