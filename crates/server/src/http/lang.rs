//! The language of error messages. The Global service answers in the language
//! `Accept-Language` asks for (`en…` ⇒ English), Chinese otherwise. The transport sets it for
//! the request's task, so an error can render itself without the request at hand.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Chinese,
    English,
}

impl Lang {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let wanted = headers
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if wanted.trim_start().to_ascii_lowercase().starts_with("en") {
            Lang::English
        } else {
            Lang::Chinese
        }
    }

    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Chinese => zh,
            Lang::English => en,
        }
    }

    pub fn content_language(self) -> &'static str {
        self.pick("zh-CN", "en")
    }
}

tokio::task_local! {
    static LANG: Lang;
}

/// Runs `f` with `lang` as the language of any error it renders.
pub async fn with_lang<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

pub fn current_lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}
