use papay_protocol::aead::AeadError;

/// An error answer from the server: `{code, message[, detail]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErrorBody {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub detail: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// Whether the error answer carried a signature that verified (401s may be unsigned).
    pub signed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} {}: {} (Request-ID {})", .0.status, .0.code, .0.message, .0.request_id.as_deref().unwrap_or("-"))]
    Api(Box<ApiErrorBody>),
    #[error("the answer could not be verified: {0}")]
    Verification(String),
    /// A `Wechatpay-Signature` starting `WECHATPAY/SIGNTEST/`: WeChat Pay checking that the
    /// merchant verifies. A notification receiver must answer it with a 4xx/5xx status.
    #[error("the signature is a WECHATPAY/SIGNTEST/ probe, not a real signature: answer with a non-2xx status")]
    SignatureProbe,
    #[error("HTTP transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer (or notification) is not what the API documents: not JSON or XML, or a field
    /// missing or malformed. The message names what was wrong.
    #[error("the answer could not be decoded: {0}")]
    Decode(String),
    #[error("decryption failed: {0}")]
    Decrypt(#[from] AeadError),
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// v2: `return_code=FAIL` — a communication, format or signature problem (PROTOCOL.md §5.6).
    #[error("v2 return_code FAIL: {return_msg}")]
    V2Return { return_msg: String },
    /// v2: `result_code=FAIL` — a business error. For querycontract / deletecontract `err_code`
    /// and `err_code_des` are the answer's fields; h5entrustweb only has `result_msg`, given as
    /// `err_code` (with `err_code_des` empty).
    #[error("v2 result_code FAIL: {err_code} {err_code_des}")]
    V2Business { err_code: String, err_code_des: String },
    /// v2: an HTTP status other than 200 (v2 always answers 200, §5). `body` is the start of the
    /// answer, for diagnosis.
    #[error("v2 answer with HTTP status {status}: {body}")]
    V2Status { status: u16, body: String },
}

impl Error {
    /// The error answer, when the server gave one.
    pub fn api(&self) -> Option<&ApiErrorBody> {
        match self {
            Error::Api(body) => Some(body),
            _ => None,
        }
    }
}
