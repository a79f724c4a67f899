//! Data a page loads through a server function: fetched while the server renders the page, sent
//! to the browser inside it, and read there without asking again.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, as `Resource::new` sends it, but read from bytes in the browser. Server functions'
/// answers are read from bytes too (`serde_json::from_slice`), so each type carries one JSON
/// reader in the WASM instead of two (`Resource::new` reads `&str`, a second copy of every
/// type's deserializer).
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A page's data, loaded again whenever `source` changes.
pub type Loaded<T> = Resource<T, Json>;

/// `Resource::new`, with the one JSON reader.
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::Json;
    use crate::domain::role::Role;
    use crate::model::types::Me;
    use leptos::server::codee::{Decoder, Encoder};

    type Answer = Result<Option<Me>, crate::model::AppError>;

    #[test]
    fn what_the_server_writes_the_browser_reads_back() {
        let me: Answer = Ok(Some(Me {
            id: 7,
            name: "Zoë \"Z\" Ångström".into(),
            email: "zoe@example.com".into(),
            username: "zoe".into(),
            role: Role::SuperAdmin,
            account_name: "Acme MSSP".into(),
        }));
        let text = <Json as Encoder<Answer>>::encode(&me).unwrap();
        let back: Answer = <Json as Decoder<Answer>>::decode(&text).unwrap();
        assert_eq!(back, me);
        assert!(<Json as Decoder<Answer>>::decode(&text[..text.len() - 1]).is_err());
    }
}
