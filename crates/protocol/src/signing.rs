//! The strings that APIv3 signatures cover (PROTOCOL.md §1.3.2 and §1.4).
//!
//! Both are built over raw bytes: the request body exactly as sent (the Go SDK's trailing
//! newline included) and the request-target exactly as received.

/// `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, where URL is the raw path plus `?query`.
pub fn request_signing_string(method: &str, canonical_url: &str, timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(method.len() + canonical_url.len() + timestamp.len() + nonce.len() + body.len() + 5);
    for line in [
        method.as_bytes(),
        canonical_url.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        s.extend_from_slice(line);
        s.push(b'\n');
    }
    s
}

/// `TIMESTAMP\nNONCE\nBODY\n`, for responses and notifications.
pub fn response_signing_string(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for line in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        s.extend_from_slice(line);
        s.push(b'\n');
    }
    s
}

/// How many bytes of the body a `truncated_sign_message` keeps.
pub const TRUNCATED_BODY_BYTES: usize = 128;

/// The `truncated_sign_message` of a `SIGN_ERROR` answer: the request signing string with
/// its body line cut to [`TRUNCATED_BODY_BYTES`] (at a character boundary, lossy for
/// non-UTF-8 bytes). The full length in bytes is `request_signing_string(..).len()`.
pub fn truncated_sign_message(method: &str, canonical_url: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let mut cut = body.len().min(TRUNCATED_BODY_BYTES);
    let text = loop {
        match std::str::from_utf8(&body[..cut]) {
            Ok(t) => break std::borrow::Cow::Borrowed(t),
            Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => cut = e.valid_up_to(),
            Err(_) => break String::from_utf8_lossy(&body[..cut]),
        }
    };
    format!("{method}\n{canonical_url}\n{timestamp}\n{nonce}\n{text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_get_example() {
        let s = request_signing_string(
            "GET",
            "/v3/certificates",
            "1554208460",
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            b"",
        );
        assert_eq!(
            s,
            b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
        );
    }

    #[test]
    fn post_body_is_verbatim_including_go_trailing_newline() {
        let body = b"{\"a\":\"\\u0026\"}\n";
        let s = request_signing_string("POST", "/v3/x?b=1&a=2", "1", "n", body);
        assert_eq!(s, b"POST\n/v3/x?b=1&a=2\n1\nn\n{\"a\":\"\\u0026\"}\n\n");
    }

    #[test]
    fn response_string_for_empty_body_ends_with_two_newlines() {
        assert_eq!(
            response_signing_string("1700000000", "abc", b""),
            b"1700000000\nabc\n\n"
        );
        assert_eq!(response_signing_string("1", "n", b"{}"), b"1\nn\n{}\n");
    }

    #[test]
    fn truncation_keeps_char_boundaries() {
        let body = "张".repeat(100); // 300 bytes
        let t = truncated_sign_message("POST", "/p", "1", "n", body.as_bytes());
        assert_eq!(t, format!("POST\n/p\n1\nn\n{}\n", "张".repeat(42)));
        let short = truncated_sign_message("GET", "/p?q=1", "1", "n", b"");
        assert_eq!(short, "GET\n/p?q=1\n1\nn\n\n");
    }
}
