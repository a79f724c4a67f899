//! The message a page shows after an action, in its status slot outside the part that live
//! events redraw; after a reset it carries the setup code, shown this once.

use crate::model::types::{ResetDecided, SetupCodeShown};
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub message: String,
    pub setup_code: Option<SetupCodeShown>,
}

impl From<String> for Notice {
    fn from(message: String) -> Self {
        Notice {
            message,
            setup_code: None,
        }
    }
}

impl From<ResetDecided> for Notice {
    fn from(decided: ResetDecided) -> Self {
        Notice {
            message: decided.message,
            setup_code: decided.setup_code,
        }
    }
}

#[component]
pub fn NoticeView(notice: Notice) -> impl IntoView {
    let code = notice.setup_code.map(|shown| {
        let name = shown.admin_name;
        view! {
            <div class="setup-code-box">
                <p><strong>{format!("Setup code for {name}")}</strong></p>
                <p class="setup-code"><code data-testid="setup-code">{shown.code}</code></p>
                <p class="hint">
                    {format!(
                        "Give it to {name} by phone or in person, once you know it is them; never by \
                         email or chat. Their next sign-in asks for it after the password. It works \
                         for {} days, until they have set up two-factor authentication again. It is \
                         shown only now: if it is lost, use \"New setup code\" on their Edit page.",
                        shown.valid_days
                    )}
                </p>
            </div>
        }
    });
    view! {
        <div class="alert alert-ok">
            <p>{notice.message}</p>
            {code}
        </div>
    }
}
