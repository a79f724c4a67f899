//! Recovery codes, shown once: to write down or download before going on.

use leptos::prelude::*;

#[component]
pub fn RecoveryCodes(
    codes: Vec<String>,
    /// Called when the admin confirms they saved the codes.
    #[prop(into)]
    on_saved: Callback<()>,
) -> impl IntoView {
    let text = format!(
        "MSSP Dashboard recovery codes. Each works once, in place of a 2FA code.\n\n{}\n",
        codes.join("\n")
    );
    let href = format!("data:text/plain;charset=utf-8,{}", encode(&text));
    view! {
        <div class="recovery" role="group" aria-labelledby="recovery-title">
            <h3 id="recovery-title">"Your recovery codes"</h3>
            <p>
                "If you lose your phone, each of these codes signs you in once instead of a 2FA code.
                Keep them somewhere safe, like a password manager. They are shown only now."
            </p>
            <ol class="codes" data-testid="recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            <div class="actions">
                <a class="button-quiet" href=href download="mssp-dashboard-recovery-codes.txt">"Download"</a>
                <button type="button" class="button-primary" on:click=move |_| on_saved.run(())>
                    "I have saved my recovery codes"
                </button>
            </div>
        </div>
    }
}

/// Percent-encodes text for a data: URL.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
