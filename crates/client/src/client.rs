use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use papay_protocol::aead::{ApiV3Key, ALGORITHM};
use papay_protocol::authorization::Authorization;
use papay_protocol::certificates::{CertificateList, EncryptedResource, CERTIFICATE_AAD};
use papay_protocol::error_body::ErrorBody;
use papay_protocol::headers::{
    AUTHORIZATION, REQUEST_ID, SIGNATURE_PROBE_PREFIX, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE,
    WECHATPAY_TIMESTAMP,
};
use papay_protocol::keys::PrivateKey;
use papay_protocol::pki::Certificate;
use papay_protocol::signing::request_signing_string;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiErrorBody, Error};
use crate::verifier::Verifier;

/// Answers whose `Wechatpay-Timestamp` is this far from the local clock are refused (as the
/// Go and Java SDKs do).
const MAX_SKEW_SECS: u64 = 300;

pub struct ClientBuilder {
    base_url: String,
    mchid: Option<String>,
    serial_no: Option<String>,
    private_key: Option<PrivateKey>,
    apiv3_key: Option<ApiV3Key>,
    verifier: Verifier,
    wechatpay_serial: Option<String>,
    accept_language: Option<String>,
    user_agent: String,
}

impl ClientBuilder {
    /// Where to send requests: `https://apihk.mch.weixin.qq.com` or a papay's base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The merchant id, API certificate serial and private key that sign requests.
    pub fn merchant(mut self, mchid: impl Into<String>, serial_no: impl Into<String>, private_key: PrivateKey) -> Self {
        self.mchid = Some(mchid.into());
        self.serial_no = Some(serial_no.into());
        self.private_key = Some(private_key);
        self
    }

    /// The APIv3 key, needed to download certificates and decrypt notifications.
    pub fn apiv3_key(mut self, key: ApiV3Key) -> Self {
        self.apiv3_key = Some(key);
        self
    }

    /// Trust a platform certificate for answers.
    pub fn platform_certificate(mut self, cert: &Certificate) -> Self {
        self.verifier.add_certificate(cert);
        self
    }

    /// Trust a WeChat Pay public key (`PUB_KEY_ID_…`) and name it in `Wechatpay-Serial`, so
    /// the server signs with it (public-key mode).
    pub fn platform_public_key(mut self, id: impl Into<String>, key: papay_protocol::keys::PublicKey) -> Self {
        let id = id.into();
        self.verifier.add_public_key(&id, key);
        self.wechatpay_serial = Some(id);
        self
    }

    /// Send `Wechatpay-Serial: <serial>` on every request (the key the client can verify with).
    pub fn wechatpay_serial(mut self, serial: impl Into<String>) -> Self {
        self.wechatpay_serial = Some(serial.into());
        self
    }

    pub fn accept_language(mut self, lang: impl Into<String>) -> Self {
        self.accept_language = Some(lang.into());
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let missing = |what: &str| Error::Config(format!("{what} is required"));
        let base = reqwest::Url::parse(&self.base_url).map_err(|e| Error::Config(format!("base_url: {e}")))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent)
            .build()?;
        Ok(Client {
            http,
            base,
            mchid: self.mchid.ok_or_else(|| missing("merchant"))?,
            serial_no: self.serial_no.ok_or_else(|| missing("merchant"))?,
            private_key: self.private_key.ok_or_else(|| missing("merchant"))?,
            apiv3_key: self.apiv3_key,
            verifier: RwLock::new(self.verifier),
            wechatpay_serial: self.wechatpay_serial,
            accept_language: self.accept_language,
        })
    }
}

/// A signed request that has not been sent. Tests may alter it before [`Client::execute`].
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub method: Method,
    /// Path and query exactly as signed and sent.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// An answer whose signature verified (or an unsigned non-2xx answer, see [`Error::Api`]).
#[derive(Debug, Clone)]
pub struct VerifiedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
    /// The `Wechatpay-Serial` of the key that signed the answer.
    pub signed_by: Option<String>,
}

pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    mchid: String,
    serial_no: String,
    private_key: PrivateKey,
    apiv3_key: Option<ApiV3Key>,
    verifier: RwLock<Verifier>,
    wechatpay_serial: Option<String>,
    accept_language: Option<String>,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

enum Verify {
    Now,
    /// Certificate download: verified by the caller once the certificates are decrypted.
    Later,
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: "https://apihk.mch.weixin.qq.com".into(),
            mchid: None,
            serial_no: None,
            private_key: None,
            apiv3_key: None,
            verifier: Verifier::default(),
            wechatpay_serial: None,
            accept_language: None,
            user_agent: format!("papay-client/{} (rust)", env!("CARGO_PKG_VERSION")),
        }
    }

    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// Signs a request now with a fresh nonce.
    pub fn prepare(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<PreparedRequest, Error> {
        self.prepare_at(
            method,
            path_and_query,
            body,
            now_secs(),
            &papay_protocol::nonce::nonce_str(),
        )
    }

    /// Signs a request with the given timestamp and nonce.
    pub fn prepare_at(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        timestamp: i64,
        nonce: &str,
    ) -> Result<PreparedRequest, Error> {
        let url = self.url(path_and_query)?;
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let body = body.unwrap_or_default();
        let ts = timestamp.to_string();
        let message = request_signing_string(method.as_str(), &target, &ts, nonce, &body);
        let signature = self
            .private_key
            .sign_base64(&message)
            .map_err(|e| Error::Config(format!("signing: {e}")))?;
        let authorization = Authorization {
            mchid: self.mchid.clone(),
            nonce_str: nonce.to_string(),
            timestamp: ts,
            serial_no: self.serial_no.clone(),
            signature,
        };
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: &str| -> Result<(), Error> {
            let v = HeaderValue::from_str(value).map_err(|e| Error::Config(format!("header {name}: {e}")))?;
            headers.insert(HeaderName::from_static(name), v);
            Ok(())
        };
        set(AUTHORIZATION, &authorization.to_header_value())?;
        set("accept", "application/json")?;
        if !body.is_empty() {
            set("content-type", "application/json")?;
        }
        if let Some(serial) = &self.wechatpay_serial {
            set(WECHATPAY_SERIAL, serial)?;
        }
        if let Some(lang) = &self.accept_language {
            set("accept-language", lang)?;
        }
        Ok(PreparedRequest {
            method,
            path_and_query: target,
            headers,
            body,
        })
    }

    fn url(&self, path_and_query: &str) -> Result<reqwest::Url, Error> {
        self.base
            .join(path_and_query)
            .map_err(|e| Error::Config(format!("path {path_and_query:?}: {e}")))
    }

    /// Sends a prepared request and verifies the answer.
    pub async fn execute(&self, request: PreparedRequest) -> Result<VerifiedResponse, Error> {
        self.send(request, Verify::Now).await
    }

    async fn send(&self, request: PreparedRequest, verify: Verify) -> Result<VerifiedResponse, Error> {
        let url = self.url(&request.path_and_query)?;
        let response = self
            .http
            .request(request.method, url)
            .headers(request.headers)
            .body(request.body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        let request_id = header(&headers, REQUEST_ID).map(str::to_string);
        let mut answer = VerifiedResponse {
            status,
            headers,
            body,
            request_id,
            signed_by: None,
        };
        if matches!(verify, Verify::Now) {
            let verifier = self.verifier.read().map_err(poisoned)?;
            answer.signed_by = check_signature(
                &answer.headers,
                &answer.body,
                status.is_success(),
                &verifier,
                now_secs(),
            )?;
        }
        if !status.is_success() {
            return Err(api_error(&answer));
        }
        Ok(answer)
    }

    /// Sends a signed request and decodes a verified JSON answer.
    pub async fn request_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, Error> {
        let answer = self.execute(self.prepare(method, path, body)?).await?;
        serde_json::from_slice(&answer.body).map_err(|e| Error::Decode(e.to_string()))
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.request_json(Method::GET, path, None).await
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Decode(e.to_string()))?;
        self.request_json(Method::POST, path, Some(bytes)).await
    }

    /// POST expecting `204 No Content` (terminate).
    pub async fn post_no_content<B: Serialize>(&self, path: &str, body: &B) -> Result<VerifiedResponse, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Decode(e.to_string()))?;
        self.execute(self.prepare(Method::POST, path, Some(bytes))?).await
    }

    /// Downloads the platform certificates from `path` (`/v3/global/certificates` on the
    /// Global service), decrypts them with the APIv3 key, verifies the answer with them, and
    /// trusts them from then on.
    pub async fn download_certificates_from(&self, path: &str) -> Result<Vec<Certificate>, Error> {
        let key = self.apiv3_key()?;
        let answer = self.send(self.prepare(Method::GET, path, None)?, Verify::Later).await?;
        let list: CertificateList = serde_json::from_slice(&answer.body).map_err(|e| Error::Decode(e.to_string()))?;
        let mut certs = Vec::new();
        let mut candidate = self.verifier.read().map_err(poisoned)?.clone();
        for item in &list.data {
            let r = &item.encrypt_certificate;
            if r.algorithm != ALGORITHM || r.associated_data != CERTIFICATE_AAD {
                return Err(Error::Verification(format!(
                    "certificate {} uses {}",
                    item.serial_no, r.algorithm
                )));
            }
            let pem = key.decrypt_to_string(&r.nonce, &r.associated_data, &r.ciphertext)?;
            let cert = Certificate::from_pem(&pem).map_err(|e| Error::Decode(e.to_string()))?;
            if !cert.serial().eq_ignore_ascii_case(&item.serial_no) {
                return Err(Error::Verification(format!(
                    "serial_no {} does not match its certificate",
                    item.serial_no
                )));
            }
            candidate.add_certificate(&cert);
            certs.push(cert);
        }
        check_signature(&answer.headers, &answer.body, true, &candidate, now_secs())?;
        *self.verifier.write().map_err(poisoned)? = candidate;
        Ok(certs)
    }

    /// [`download_certificates_from`](Self::download_certificates_from) the Global path.
    pub async fn download_certificates(&self) -> Result<Vec<Certificate>, Error> {
        self.download_certificates_from("/v3/global/certificates").await
    }

    /// Decrypts an AEAD_AES_256_GCM resource (notification `resource`, certificate).
    pub fn decrypt_resource(&self, resource: &EncryptedResource) -> Result<String, Error> {
        let key = self.apiv3_key()?;
        if resource.algorithm != ALGORITHM {
            return Err(Error::Verification(format!(
                "unsupported algorithm {}",
                resource.algorithm
            )));
        }
        Ok(key.decrypt_to_string(&resource.nonce, &resource.associated_data, &resource.ciphertext)?)
    }

    /// Verifies a notification's `Wechatpay-*` headers over its exact body bytes; returns the
    /// `Wechatpay-Serial` that signed. [`receive_notification`](Self::receive_notification)
    /// also decrypts.
    pub fn verify_notification(&self, headers: &HeaderMap, body: &[u8]) -> Result<String, Error> {
        self.verify_notification_at(headers, body, now_secs())
    }

    /// [`verify_notification`](Self::verify_notification) with the clock at `now` (Unix seconds).
    pub(crate) fn verify_notification_at(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<String, Error> {
        let verifier = self.verifier.read().map_err(poisoned)?;
        check_signature(headers, body, true, &verifier, now)?
            .ok_or_else(|| Error::Verification("unsigned notification".into()))
    }

    /// The APIv3 key, or the error saying it is needed.
    pub(crate) fn apiv3_key(&self) -> Result<&ApiV3Key, Error> {
        self.apiv3_key
            .as_ref()
            .ok_or_else(|| Error::Config("apiv3_key is required".into()))
    }
}

/// Verifies the `Wechatpay-*` signature over `body` (probes and stale timestamps refused).
/// `Ok(None)`: an unsigned answer that is not `success` (non-2xx answers may be unsigned).
fn check_signature(
    headers: &HeaderMap,
    body: &[u8],
    success: bool,
    verifier: &Verifier,
    now: i64,
) -> Result<Option<String>, Error> {
    let parts = (
        header(headers, WECHATPAY_TIMESTAMP),
        header(headers, WECHATPAY_NONCE),
        header(headers, WECHATPAY_SIGNATURE),
        header(headers, WECHATPAY_SERIAL),
    );
    let (Some(ts), Some(nonce), Some(sig), Some(serial)) = parts else {
        if !success {
            return Ok(None);
        }
        let missing: Vec<&str> = [
            (parts.0, "Wechatpay-Timestamp"),
            (parts.1, "Wechatpay-Nonce"),
            (parts.2, "Wechatpay-Signature"),
            (parts.3, "Wechatpay-Serial"),
        ]
        .iter()
        .filter(|(value, _)| value.is_none())
        .map(|(_, name)| *name)
        .collect();
        return Err(Error::Verification(format!(
            "unsigned: missing {} header",
            missing.join(", ")
        )));
    };
    if sig.starts_with(SIGNATURE_PROBE_PREFIX) {
        return Err(Error::SignatureProbe);
    }
    let ts_secs: i64 = ts
        .parse()
        .map_err(|_| Error::Verification(format!("Wechatpay-Timestamp {ts:?}")))?;
    if now.abs_diff(ts_secs) >= MAX_SKEW_SECS {
        return Err(Error::Verification(format!(
            "Wechatpay-Timestamp {ts} is 5 minutes or more from now"
        )));
    }
    verifier
        .verify(serial, ts, nonce, body, sig)
        .map_err(Error::Verification)?;
    Ok(Some(serial.to_string()))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn poisoned<T>(_: T) -> Error {
    Error::Config("verifier lock poisoned".into())
}

fn api_error(answer: &VerifiedResponse) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
    let (code, message, detail) = match parsed {
        Some(b) => (b.code, b.message, b.detail),
        None => (
            String::new(),
            String::from_utf8_lossy(&answer.body).chars().take(200).collect(),
            None,
        ),
    };
    Error::Api(Box::new(ApiErrorBody {
        status: answer.status.as_u16(),
        code,
        message,
        detail,
        request_id: answer.request_id.clone(),
        signed: answer.signed_by.is_some(),
    }))
}
