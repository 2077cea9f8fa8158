//! The dashboard's input: query strings and url-encoded form bodies read into named fields,
//! which each handler turns into typed domain values (bad input is a `400` page). Empty
//! values count as absent, as browsers send every field of a filter form; a repeated or
//! unknown field is refused, so a typo is named rather than silently ignored.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;

use super::DashError;
use crate::dashboard::Done;
use crate::http::control::ControlError;
use crate::http::AppState;

/// Form bodies are small: a token, an openid, a note.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Named text fields, empty ones dropped.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

fn bad(message: String) -> DashError {
    DashError::Control(ControlError::Param(message))
}

impl Fields {
    pub fn parse(raw: &[u8]) -> Result<Fields, DashError> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(raw) {
            if fields.iter().any(|(name, _)| *name == k) {
                return Err(bad(format!("{k} is given twice")));
            }
            let v = v.trim();
            if !v.is_empty() {
                fields.push((k.into_owned(), v.to_string()));
            }
        }
        Ok(Fields(fields))
    }

    pub fn query(raw: Option<&str>) -> Result<Fields, DashError> {
        Fields::parse(raw.unwrap_or_default().as_bytes())
    }

    /// Refuses any field not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), DashError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(bad(format!(
                "unknown field {k:?}; this page takes {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// `done=` of the redirect after an action.
    pub fn done(&self) -> Result<Option<Done>, DashError> {
        self.get("done")
            .map(|d| Done::parse(d).ok_or_else(|| bad(format!("done {d:?} is not a known outcome"))))
            .transpose()
    }

    /// `limit=`: 1 to 500, `default` when absent.
    pub fn limit(&self, default: u32) -> Result<u32, DashError> {
        match self.get("limit") {
            None => Ok(default),
            Some(v) => Ok(crate::http::control::list_limit(v)?),
        }
    }
}

/// A url-encoded form body.
pub struct Form(pub Fields);

impl FromRequest<AppState> for Form {
    type Rejection = DashError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
        let form_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        if form_type
            .as_deref()
            .is_some_and(|t| t != "application/x-www-form-urlencoded")
        {
            return Err(bad("send the form as application/x-www-form-urlencoded".into()));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| bad(format!("the form is larger than {MAX_FORM_BYTES} bytes")))?;
        Fields::parse(&bytes).map(Form)
    }
}

/// Where a redirect after an action goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Back {
    /// The page of the thing acted on (the default).
    Own,
    Notifications,
    Contract,
}

impl Fields {
    pub fn back(&self) -> Result<Back, DashError> {
        match self.get("back") {
            None => Ok(Back::Own),
            Some("notifications") => Ok(Back::Notifications),
            Some("contract") => Ok(Back::Contract),
            Some(other) => Err(bad(format!("back {other:?} is not a dashboard page"))),
        }
    }
}

/// The one path segment of a route (an id), as text; an undecodable one is a `400` page.
pub struct Seg(pub String);

impl axum::extract::FromRequestParts<AppState> for Seg {
    type Rejection = DashError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(s)| Seg(s))
            .map_err(|e| bad(format!("bad path: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_drop_empties_and_refuse_repeats_and_strangers() {
        let f = Fields::parse(b"mchid=&state=SIGNED&out_contract_code=+C1+").unwrap();
        assert_eq!(f.get("mchid"), None);
        assert_eq!(f.get("state"), Some("SIGNED"));
        assert_eq!(f.get("out_contract_code"), Some("C1"));
        assert!(f.only(&["mchid", "state", "out_contract_code"]).is_ok());
        assert!(f.only(&["state"]).is_err());
        assert!(Fields::parse(b"a=1&a=2").is_err());
        assert!(Fields::query(Some("limit=0")).unwrap().limit(50).is_err());
        assert_eq!(Fields::query(None).unwrap().limit(50).unwrap(), 50);
    }
}
