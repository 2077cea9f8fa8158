//! A typed client for the domestic APIv2 papay APIs (PROTOCOL.md §5), against
//! `https://api.mch.weixin.qq.com` or a papay sandbox (only the base URL differs).
//!
//! v2 shares nothing with APIv3 but the idea of a signature: requests and answers are flat
//! parameter lists (a query string for h5entrustweb, `<xml>` bodies otherwise) signed with a
//! shared 32-character key, MD5 or HMAC-SHA256 (§5.1). So this is a separate, smaller client
//! ([`V2Client`]) built on `papay_protocol::v2`: requests are signed there, answers are parsed
//! and verified there, and the answer readers ([`parse_querycontract_answer`] etc.) are pure
//! functions, usable and testable without a network.
//!
//! Errors: `return_code=FAIL` ⇒ [`Error::V2Return`], `result_code=FAIL` ⇒
//! [`Error::V2Business`], a missing or wrong `sign` on a success ⇒ [`Error::Verification`],
//! anything unreadable ⇒ [`Error::Decode`], an HTTP status other than 200 ⇒ [`Error::V2Status`].

mod answers;
mod fields;
mod key;
mod notify;
mod requests;

#[cfg(test)]
mod tests;

use papay_protocol::v2::{query, xml, Params};
use reqwest::header::CONTENT_TYPE;

pub use answers::{
    parse_deletecontract_answer, parse_h5entrustweb_answer, parse_querycontract_answer, DeleteContractInfo,
    V2ContractInfo,
};
pub use key::V2ApiKey;
pub use notify::{ack_fail, ack_success, parse_notification, V2Notification};
pub use papay_protocol::v2::papay::{
    ChangeType, ContractSelector, ContractState, RiskInfo, SubMerchant, TerminationMode,
};
pub use papay_protocol::v2::sign::SignType;
pub use requests::{DeleteContractRequest, H5EntrustWebRequest, QueryContractRequest};

use crate::Error;

/// Largest answer body read, in bytes (v2 XML is refused above 64 KiB anyway).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// How much of a non-200 answer [`Error::V2Status`] keeps, in characters.
const STATUS_BODY_CHARS: usize = 200;

/// A client for one merchant (or service provider, for the partner APIs) and its v2 API key.
#[derive(Debug, Clone)]
pub struct V2Client {
    http: reqwest::Client,
    /// Without a trailing `/`; paths are appended.
    base_url: String,
    mch_id: String,
    key: V2ApiKey,
}

impl V2Client {
    /// `base_url`: `https://api.mch.weixin.qq.com` or a papay's base URL (an `http(s)` URL,
    /// possibly with a path prefix, without query or fragment). Redirects are not followed.
    pub fn new(base_url: impl Into<String>, mch_id: impl Into<String>, key: V2ApiKey) -> Result<Self, Error> {
        let base_url = base_url.into();
        let url = reqwest::Url::parse(&base_url).map_err(|e| Error::Config(format!("base_url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Config(
                "base_url must be an http(s) URL without query or fragment".into(),
            ));
        }
        let mch_id = mch_id.into();
        if mch_id.is_empty() {
            return Err(Error::Config("mch_id is required".into()));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(format!("papay-client/{} (rust; v2)", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            mch_id,
            key,
        })
    }

    pub fn mch_id(&self) -> &str {
        &self.mch_id
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The signed parameters of an h5entrustweb request, in the order they are sent.
    pub fn h5entrustweb_params(&self, req: &H5EntrustWebRequest) -> Params {
        req.signed_params(&self.mch_id, self.key.expose())
    }

    /// The signed h5entrustweb URL: `/papay/h5entrustweb` or, with `sub`,
    /// `/papay/partner/h5entrustweb`, every value percent-encoded (`query::encode`).
    pub fn h5entrustweb_url(&self, req: &H5EntrustWebRequest) -> String {
        let path = Api::H5EntrustWeb.path(req.sub.is_some());
        format!(
            "{}{path}?{}",
            self.base_url,
            query::encode(&self.h5entrustweb_params(req))
        )
    }

    /// Calls h5entrustweb and returns the `redirect_url` to send the user to (valid 10 minutes).
    pub async fn h5entrustweb(&self, req: &H5EntrustWebRequest) -> Result<String, Error> {
        let answer = self.http.get(self.h5entrustweb_url(req)).send().await?;
        let body = read_answer(answer).await?;
        parse_h5entrustweb_answer(&body, &self.key)
    }

    /// The signed (MD5) XML body of a querycontract request.
    pub fn querycontract_body(&self, req: &QueryContractRequest) -> String {
        xml::write(&req.signed_params(&self.mch_id, self.key.expose()))
    }

    /// Queries one contract (`/papay/querycontract` or `/papay/partner/querycontract`).
    pub async fn query_contract(&self, req: &QueryContractRequest) -> Result<V2ContractInfo, Error> {
        let path = Api::QueryContract.path(req.sub.is_some());
        let body = self.post_xml(path, self.querycontract_body(req)).await?;
        parse_querycontract_answer(&body, &self.key)
    }

    /// The signed (MD5) XML body of a deletecontract request.
    pub fn deletecontract_body(&self, req: &DeleteContractRequest) -> String {
        xml::write(&req.signed_params(&self.mch_id, self.key.expose()))
    }

    /// Terminates a contract (`/papay/deletecontract` or `/papay/partner/deletecontract`).
    pub async fn delete_contract(&self, req: &DeleteContractRequest) -> Result<DeleteContractInfo, Error> {
        let path = Api::DeleteContract.path(req.sub.is_some());
        let body = self.post_xml(path, self.deletecontract_body(req)).await?;
        parse_deletecontract_answer(&body, &self.key)
    }

    /// Verifies and reads a v2 notification body with this client's key; see
    /// [`parse_notification`]. Answer [`ack_success`] only on `Ok`.
    pub fn verify_notification(&self, body: &[u8]) -> Result<V2Notification, Error> {
        parse_notification(body, &self.key)
    }

    async fn post_xml(&self, path: &str, body: String) -> Result<Vec<u8>, Error> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(CONTENT_TYPE, "text/xml")
            .body(body)
            .send()
            .await?;
        read_answer(answer).await
    }
}

/// The three APIs, for their paths.
#[derive(Clone, Copy)]
enum Api {
    H5EntrustWeb,
    QueryContract,
    DeleteContract,
}

impl Api {
    /// `/papay/<api>`, or `/papay/partner/<api>` for a service provider.
    fn path(self, partner: bool) -> &'static str {
        match (self, partner) {
            (Self::H5EntrustWeb, false) => "/papay/h5entrustweb",
            (Self::H5EntrustWeb, true) => "/papay/partner/h5entrustweb",
            (Self::QueryContract, false) => "/papay/querycontract",
            (Self::QueryContract, true) => "/papay/partner/querycontract",
            (Self::DeleteContract, false) => "/papay/deletecontract",
            (Self::DeleteContract, true) => "/papay/partner/deletecontract",
        }
    }
}

/// The body of a 200 answer (at most [`MAX_ANSWER_BYTES`]); any other status is
/// [`Error::V2Status`].
async fn read_answer(mut answer: reqwest::Response) -> Result<Vec<u8>, Error> {
    let ok = answer.status() == reqwest::StatusCode::OK;
    let mut body = Vec::new();
    let mut complete = true;
    while let Some(chunk) = answer.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            complete = false;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    if !ok {
        return Err(Error::V2Status {
            status: answer.status().as_u16(),
            body: String::from_utf8_lossy(&body).chars().take(STATUS_BODY_CHARS).collect(),
        });
    }
    if !complete {
        return Err(Error::Decode(format!(
            "the answer is larger than {MAX_ANSWER_BYTES} bytes"
        )));
    }
    Ok(body)
}
