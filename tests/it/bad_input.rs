//! Bad input to server functions: a clear error and a 4xx, never a 500, nothing written.

use crate::helpers::TestApp;
use crate::on_both_backends;
use mssp_dashboard::server::db::totp as credentials;

on_both_backends!(
    empty_and_oversized_sign_in_fields,
    malformed_payloads,
    codes_that_are_not_six_digits,
    unknown_server_function,
);

async fn empty_and_oversized_sign_in_fields(app: TestApp) {
    let browser = app.browser();
    let empty = browser
        .call("sign_in", &[("identifier", ""), ("password", "x")])
        .await;
    empty.assert_error(422, "Invalid");
    assert_eq!(empty.body["Invalid"]["field"], "identifier");
    let no_password = browser
        .call("sign_in", &[("identifier", "someone"), ("password", "")])
        .await;
    no_password.assert_error(422, "Invalid");
    assert_eq!(no_password.body["Invalid"]["field"], "password");
    // A password just under the body limit is read, and refused before hashing with a
    // message for the field.
    let huge = "p".repeat(mssp_dashboard::web::MAX_REQUEST_BODY_BYTES - 100);
    let answer = browser
        .call("sign_in", &[("identifier", "someone"), ("password", &huge)])
        .await;
    answer.assert_error(422, "Invalid");
    assert!(
        answer.body["Invalid"]["message"]
            .as_str()
            .unwrap()
            .contains("at most")
    );
    // 10 MB is not read past the 256 KiB limit (`web::MAX_REQUEST_BODY_BYTES`): the server
    // answers 413 at once and closes the connection, so the client sees either that answer or
    // its upload cut off.
    for size in [
        mssp_dashboard::web::MAX_REQUEST_BODY_BYTES + 1,
        10 * 1024 * 1024,
    ] {
        too_large(&browser, size).await;
    }
}

/// A sign-in whose body is `size` bytes: answered 413 `TooLarge` (or cut off while sent).
async fn too_large(browser: &crate::helpers::Browser, size: usize) {
    let body = format!("identifier=a&password={}", "p".repeat(size));
    let sent = browser
        .http
        .post(format!("{}/api/sign_in", browser.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(res) => {
            assert_eq!(res.status(), 413);
            let error: serde_json::Value = res.json().await.unwrap();
            assert_eq!(error, serde_json::json!("TooLarge"));
        }
        Err(e) => assert!(e.is_request() && !e.is_timeout(), "{e:?}"),
    }
}

async fn malformed_payloads(app: TestApp) {
    let browser = app.browser();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Not UTF-8.
        (
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, 0x00, 0x80],
        ),
        // A missing argument.
        (
            "application/x-www-form-urlencoded",
            b"identifier=someone".to_vec(),
        ),
        // Broken percent-encoding and random bytes.
        (
            "application/x-www-form-urlencoded",
            b"identifier=%ZZ&password=%".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            (0..=255u8).rev().collect(),
        ),
        // JSON where a form is expected.
        (
            "application/json",
            br#"{"identifier":"a","password":"b"}"#.to_vec(),
        ),
        ("application/x-www-form-urlencoded", Vec::new()),
    ];
    for (content_type, body) in cases {
        let answer = browser
            .call_raw("sign_in", content_type, body.clone())
            .await;
        assert!(
            answer.status.is_client_error(),
            "{content_type} {:?}: {} {}",
            String::from_utf8_lossy(&body),
            answer.status,
            answer.body
        );
        assert!(!answer.error_kind().is_empty());
    }
    // Same for the code step and the setup confirmation.
    for name in ["verify_sign_in_code", "confirm_totp_setup", "disable_totp"] {
        let answer = browser
            .call_raw(name, "application/x-www-form-urlencoded", vec![0xc3, 0x28])
            .await;
        assert!(
            answer.status.is_client_error(),
            "{name}: {} {}",
            answer.status,
            answer.body
        );
    }
}

async fn codes_that_are_not_six_digits(app: TestApp) {
    let creds = app.account("shape").await;
    let browser = app.browser();
    browser.sign_in_fully(&creds, None).await;
    browser.start_setup().await.assert_ok();
    for code in [
        "",
        "12345",
        "1234567",
        "abcdef",
        "12 34 5",
        "１２３４５６",
        &"9".repeat(100_000),
    ] {
        let answer = browser.call("confirm_totp_setup", &[("code", code)]).await;
        answer.assert_error(422, "Invalid");
        assert!(
            answer.body["Invalid"]["message"]
                .as_str()
                .unwrap()
                .contains("6-digit")
        );
    }
    assert!(
        !credentials::exists(&app.ctx.db, creds.admin_id)
            .await
            .unwrap()
    );
}

async fn unknown_server_function(app: TestApp) {
    let browser = app.browser();
    let answer = browser.call("drop_tables", &[]).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
}
