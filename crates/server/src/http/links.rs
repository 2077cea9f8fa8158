//! The links papay hands out for a signing session, and the reverse: finding the session
//! token in whatever form a merchant kept (a `sign_url`, `show_code_url`, `session_id`, or an
//! APP/mini-program page link). One module, so the two directions cannot drift apart.

/// The signing page behind a `sign_url` (H5, JSAPI) and the link a QR code encodes.
pub const SIGN_PATH: &str = "/global/papay/contracts/login";
/// The page behind a `show_code_url` (PC web): a QR code of the signing page.
pub const SHOW_CODE_PATH: &str = "/global/papay/contracts/sessions/show_code";
/// The stand-in for `WXOpenBusinessView` / the signing mini program, for a `session_id`.
pub const OPEN_PATH: &str = "/papay/open";

/// The APIv2 `redirect_url` (h5entrustweb): WeChat's `readentrustwebtemplate` stand-in, which
/// forwards to the signing page.
pub const V2_REDIRECT_PATH: &str = "/papay/readentrustwebtemplate";

/// Query parameters a session token may travel in.
const TOKEN_PARAMS: [&str; 3] = ["os_session_id", "sessionId", "session_id"];

pub fn sign_url(base: &str, token: &str) -> String {
    format!("{base}{SIGN_PATH}?os_session_id={token}")
}

/// The h5entrustweb `redirect_url`, shaped like WeChat's (`type=index`, `session_id`, `#/redirect`).
pub fn v2_redirect_url(base: &str, token: &str) -> String {
    format!("{base}{V2_REDIRECT_PATH}?type=index&session_id={token}#/redirect")
}

pub fn show_code_url(base: &str, token: &str) -> String {
    format!("{base}{SHOW_CODE_PATH}?os_session_id={token}")
}

pub fn open_url(base: &str, token: &str) -> String {
    format!("{base}{OPEN_PATH}?sessionId={token}")
}

/// The session token in `link`: a bare `session_id`, or a URL (any host, since `public_url`
/// may differ from the address used) carrying it as a query parameter. Fragments are ignored.
pub fn token_from_link(link: &str) -> Option<String> {
    let link = link.trim();
    if is_token(link) {
        return Some(link.to_string());
    }
    let query = link.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| TOKEN_PARAMS.contains(&k.as_ref()))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| is_token(v))
}

/// Whether `s` looks like a token papay issues (digits only, bounded), so junk is never
/// looked up.
pub fn is_token(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_form_gives_back_its_token() {
        let t = "20261127123456789012345678901234567890123456789";
        let base = "http://127.0.0.1:8080";
        for link in [
            sign_url(base, t),
            show_code_url(base, t),
            open_url(base, t),
            v2_redirect_url(base, t),
            t.to_string(),
            format!(" {t}\n"),
            format!("{}#wechat_redirect", sign_url("https://sandbox.example", t)),
        ] {
            assert_eq!(token_from_link(&link).as_deref(), Some(t), "{link}");
        }
    }

    #[test]
    fn junk_is_no_token() {
        for link in [
            "",
            "http://x/y",
            "http://x/y?os_session_id=",
            "http://x/y?os_session_id=abc",
            "http://x/y?other=123",
            "12a",
            &"1".repeat(129),
        ] {
            assert_eq!(token_from_link(link), None, "{link}");
        }
    }
}
