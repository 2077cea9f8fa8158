//! What papay tells its operator about itself: Prometheus metrics, the request journal
//! behind the dashboard, and the per-request notes that feed both and the request's tracing
//! span. Code deep in a request (authentication, error mapping) notes what it learnt, the
//! merchant, the answer's code, a refused signature, through the functions here; the HTTP
//! middleware (`http/observe.rs`) reads the notes once the answer is ready. Outside a request
//! the functions do nothing.

pub mod journal;
pub mod metrics;

use std::cell::RefCell;
use std::future::Future;

pub use journal::{Family, Journal, JournalEntry, JournalFilter, SignatureCheck};
pub use metrics::Metrics;

/// What one request learnt about itself on its way through.
#[derive(Debug, Default)]
pub struct Notes {
    pub mchid: Option<String>,
    pub code: Option<&'static str>,
    /// A refused signature: the metrics label of the reason, and what the journal shows.
    pub signature: Option<(&'static str, Option<SignatureCheck>)>,
    span: Option<tracing::Span>,
}

tokio::task_local! {
    static NOTES: RefCell<Notes>;
}

/// Runs `request` with fresh notes, recording the merchant on `span` when it is noted.
pub async fn noting<F: Future>(span: tracing::Span, request: F) -> (F::Output, Notes) {
    let notes = RefCell::new(Notes {
        span: Some(span),
        ..Notes::default()
    });
    NOTES
        .scope(notes, async {
            let output = request.await;
            let notes = NOTES.with(RefCell::take);
            (output, notes)
        })
        .await
}

fn note(f: impl FnOnce(&mut Notes)) {
    let _ = NOTES.try_with(|n| f(&mut n.borrow_mut()));
}

/// The request acts for merchant `mchid`.
pub fn merchant(mchid: &str) {
    note(|n| {
        if let Some(span) = &n.span {
            span.record("mchid", mchid);
        }
        n.mchid = Some(mchid.to_string());
    });
}

/// The answer carries error code `code`.
pub fn answer_code(code: &'static str) {
    note(|n| n.code = Some(code));
}

/// The request's signature was refused for `reason` (a metrics label such as
/// `bad_signature`); `check` is what the journal shows.
pub fn signature_refused(reason: &'static str, check: Option<SignatureCheck>) {
    note(|n| n.signature = Some((reason, check)));
}

/// `text` cut to at most `max` bytes on a character boundary, saying how long it was.
pub fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_are_per_request_and_ignored_outside_one() {
        merchant("outside");
        let ((), notes) = noting(tracing::Span::none(), async {
            merchant("1900000100");
            answer_code("SIGN_ERROR");
            signature_refused("bad_signature", None);
        })
        .await;
        assert_eq!(notes.mchid.as_deref(), Some("1900000100"));
        assert_eq!(notes.code, Some("SIGN_ERROR"));
        assert_eq!(notes.signature.map(|s| s.0), Some("bad_signature"));
        let ((), empty) = noting(tracing::Span::none(), async {}).await;
        assert!(empty.mchid.is_none() && empty.code.is_none() && empty.signature.is_none());
    }

    #[test]
    fn clip_keeps_characters_whole() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("签约abc", 4), "签… (9 bytes in all)");
    }
}
